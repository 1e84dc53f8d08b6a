// Package api is Lectern's API service: the reader's profile, conversations
// and messages, and the agent endpoint, under /api/. Every route sits behind
// the authn guard; the verified user id is the only identity it knows.
package api

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/lectern/lectern/internal/authn"
	"github.com/lectern/lectern/internal/chat"
	"github.com/lectern/lectern/internal/fault"
	"github.com/lectern/lectern/internal/httpx"
	"github.com/lectern/lectern/internal/insights"
	"github.com/lectern/lectern/internal/randid"
	"github.com/lectern/lectern/internal/ratelimit"
	"github.com/lectern/lectern/internal/safehtml"
	"github.com/lectern/lectern/internal/store"
)

// UserSyncer keeps the local user row in step with verified claims.
type UserSyncer interface {
	SyncUser(ctx context.Context, u store.User) (bool, error)
}

// Guard authenticates requests.
type Guard interface {
	Require(next http.Handler) http.Handler
}

// Options configures a Server.
type Options struct {
	// ChatRule limits questions per user; a zero Max disables the limit.
	ChatRule ratelimit.Rule
	// OnRateLimited, when set, is called for each question refused by
	// ChatRule, for metrics, as identity.Options.OnRateLimited is.
	OnRateLimited func()
	// MaxAnswers bounds the answers being written at once, whoever asks:
	// beyond it a question is refused 503 with Retry-After before anything
	// is stored. Sign-up is free, so a per-reader limit alone does not
	// bound a model's spend or the goroutines held. DefaultMaxAnswers when
	// zero.
	MaxAnswers int
	// Insights serves the book's owners what readers ask; nil: the
	// insights routes answer 404 like any unknown route.
	Insights *insights.Service
	// SharedCounts, when set, counts ChatRule where every replica counts
	// it (the database), and AnswerSlots bounds MaxAnswers across them,
	// each answer's place held for at most AnswerLease (default 10
	// minutes) should its replica die; nil keeps both in this process,
	// which bounds its own answers in any case. OnSharedError is told when
	// the shared store could not be reached and this process's counts
	// answered instead.
	SharedCounts  ratelimit.Counts
	AnswerSlots   AnswerSlots
	AnswerLease   time.Duration
	OnSharedError func(error)
	Now           func() time.Time
}

// AnswerSlots are the places for answers being written, shared by every
// replica.
type AnswerSlots interface {
	AcquireSlot(ctx context.Context, id string, max int, now, expires time.Time) (bool, error)
	ReleaseSlot(ctx context.Context, id string) error
}

// DefaultMaxAnswers is Options.MaxAnswers when zero.
const DefaultMaxAnswers = 64

// errBusy refuses a question while MaxAnswers answers are being written.
var errBusy = &fault.Error{Kind: fault.Unavailable, Code: "BUSY",
	Message: "The assistant is answering as many questions as it can; please ask again in a moment", RetryAfter: 5 * time.Second}

// Server serves the API. Build it with New.
type Server struct {
	opt     Options
	chat    *chat.Service
	users   UserSyncer
	guard   Guard
	limiter *ratelimit.Shared
	synced  syncCache
	html    *safehtml.Renderer
	renders *renderCache
	// answering holds a token for each answer being written (MaxAnswers),
	// exporting one for each export (maxExports).
	answering, exporting chan struct{}

	// stopping ends, with errShuttingDown as its cause, when answers in
	// progress must stop for a shutdown; see Drain.
	stopping  context.Context
	stop      context.CancelCauseFunc
	drainOnce sync.Once
}

// New returns a Server.
func New(opt Options, svc *chat.Service, users UserSyncer, guard Guard, limiter *ratelimit.Limiter) *Server {
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.MaxAnswers <= 0 {
		opt.MaxAnswers = DefaultMaxAnswers
	}
	if opt.AnswerLease <= 0 {
		opt.AnswerLease = 10 * time.Minute
	}
	if opt.OnSharedError == nil {
		opt.OnSharedError = func(error) {}
	}
	s := &Server{opt: opt, chat: svc, users: users, guard: guard, limiter: ratelimit.NewShared(opt.SharedCounts, limiter, opt.OnSharedError),
		synced: syncCache{m: map[string]string{}}, html: safehtml.NewRenderer(), renders: newRenderCache(),
		answering: make(chan struct{}, opt.MaxAnswers), exporting: make(chan struct{}, maxExports)}
	s.stopping, s.stop = context.WithCancelCause(context.Background())
	return s
}

// syncCache remembers the claims last written for each user, so profile
// sync costs a database write only when a user's claims change, not one per
// request. It is bounded: when full it starts over, which costs at most one
// no-op upsert per active user.
type syncCache struct {
	mu sync.Mutex
	m  map[string]string
}

const syncCacheMax = 50_000

func fingerprint(p authn.Principal) string {
	img := "\x00"
	if p.Image != nil {
		img = *p.Image
	}
	return fmt.Sprintf("%s\x00%s\x00%t\x00%s", p.Email, p.Name, p.EmailVerified, img)
}

// syncProfile upserts the caller's user row when their claims changed.
func (s *Server) syncProfile(ctx context.Context, p authn.Principal) error {
	fp := fingerprint(p)
	s.synced.mu.Lock()
	same := s.synced.m[p.UserID] == fp
	s.synced.mu.Unlock()
	if same {
		return nil
	}
	now := s.opt.Now()
	if _, err := s.users.SyncUser(ctx, store.User{ID: p.UserID, Email: p.Email, Name: p.Name,
		EmailVerified: p.EmailVerified, Image: p.Image, CreatedAt: now, UpdatedAt: now}); err != nil {
		return fmt.Errorf("sync profile: %w", err)
	}
	s.synced.mu.Lock()
	if len(s.synced.m) >= syncCacheMax {
		clear(s.synced.m)
	}
	s.synced.m[p.UserID] = fp
	s.synced.mu.Unlock()
	return nil
}

// startAnswer takes one of the MaxAnswers places for an answer, in this
// process and, with AnswerSlots, across replicas, or refuses with errBusy;
// the caller calls the returned func when the answer ends.
func (s *Server) startAnswer(ctx context.Context) (func(), error) {
	select {
	case s.answering <- struct{}{}:
	default:
		return nil, errBusy
	}
	local := func() { <-s.answering }
	if s.opt.AnswerSlots == nil {
		return local, nil
	}
	id, now := randid.New(), s.opt.Now()
	ok, err := s.opt.AnswerSlots.AcquireSlot(ctx, id, s.opt.MaxAnswers, now, now.Add(s.opt.AnswerLease))
	switch {
	case err != nil:
		s.opt.OnSharedError(err)
		return local, nil
	case !ok:
		local()
		return nil, errBusy
	}
	return func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := s.opt.AnswerSlots.ReleaseSlot(ctx, id); err != nil {
			s.opt.OnSharedError(err) // the place expires with its lease
		}
		local()
	}, nil
}

// ForgetUser drops what the API remembers of a user, so that their next
// request asks the store again: after the account's deletion, its tokens
// are refused there (store.ErrDeleted, 401) until they expire.
func (s *Server) ForgetUser(userID string) {
	s.synced.mu.Lock()
	delete(s.synced.m, userID)
	s.synced.mu.Unlock()
}

// handle adapts an authenticated handler: it finds the principal the guard
// verified, syncs the profile, and maps service errors to responses.
func (s *Server) handle(h func(w http.ResponseWriter, r *http.Request, p authn.Principal) error) http.Handler {
	return httpx.Handle(func(w http.ResponseWriter, r *http.Request) error {
		p, ok := authn.FromContext(r.Context())
		if !ok {
			return errUnauthorized
		}
		if err := s.syncProfile(r.Context(), p); err != nil {
			return err
		}
		return h(w, r, p)
	})
}

var errUnauthorized = httpx.Errorf(http.StatusUnauthorized, "UNAUTHORIZED", "Unauthorized")

// Cursors are opaque to clients: base64url of the position.
func encodeConvCursor(c *store.ConversationCursor) *string {
	if c == nil {
		return nil
	}
	b := binary.BigEndian.AppendUint64(nil, uint64(c.UpdatedAt.UnixMicro()))
	s := base64.RawURLEncoding.EncodeToString(append(b, c.ID...))
	return &s
}

func decodeConvCursor(s string) (*store.ConversationCursor, error) {
	if s == "" {
		return nil, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) < 9 || len(b) > 8+64 {
		return nil, errBadCursor
	}
	return &store.ConversationCursor{UpdatedAt: time.UnixMicro(int64(binary.BigEndian.Uint64(b))).UTC(), ID: string(b[8:])}, nil
}

func encodeSeqCursor(seq int64) *string {
	if seq == 0 {
		return nil
	}
	s := base64.RawURLEncoding.EncodeToString(binary.BigEndian.AppendUint64(nil, uint64(seq)))
	return &s
}

func decodeSeqCursor(s string) (int64, error) {
	if s == "" {
		return 0, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) != 8 || int64(binary.BigEndian.Uint64(b)) < 0 {
		return 0, errBadCursor
	}
	return int64(binary.BigEndian.Uint64(b)), nil
}

var errBadCursor = httpx.Errorf(http.StatusBadRequest, "INVALID_CURSOR", "Invalid cursor")

func parseLimit(r *http.Request) (int, error) {
	v := r.URL.Query().Get("limit")
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > chat.MaxPageSize {
		return 0, httpx.Errorf(http.StatusBadRequest, "VALIDATION_ERROR", fmt.Sprintf("limit must be an integer from 1 to %d", chat.MaxPageSize))
	}
	return n, nil
}
