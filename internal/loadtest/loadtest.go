// Package loadtest drives a running Lectern with virtual readers who do what
// readers do: sign up and in, fetch a JWT, list their conversations, ask the
// assistant questions (continuing a conversation or starting one), in one
// answer or streamed as the chat panel reads them, and read a
// conversation's history. It measures every request and reports, per
// operation, the count, the errors by kind, the throughput and the latency
// percentiles; for streamed questions, also the time to the first text.
//
// It needs nothing but the server: no external service, no test data. The
// readers are new accounts, one per reader per run, named
// loadtest-<run id>-<n>@example.test.
package loadtest

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	mrand "math/rand/v2"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lectern/lectern/internal/backoff"
)

// DefaultTarget is the server a run drives unless told otherwise: a local
// one, so nobody loads a remote server by accident.
const DefaultTarget = "http://127.0.0.1:8080"

// Config is what a run does. Only one bound is needed: Duration, Count or
// Total; with several, the run stops at the first reached.
type Config struct {
	// Target is the base URL of the server: http(s)://host[:port]. Empty
	// means DefaultTarget.
	Target string
	// AuthURL is the identity service's base URL in a split deployment
	// (lectern auth apart from lectern api); empty means Target.
	AuthURL string
	// Readers is the number of virtual readers, each with its own account,
	// session cookie and connection.
	Readers int
	// Duration bounds the load phase, after every reader has signed in;
	// 0 means no time limit.
	Duration time.Duration
	// Count is the number of operations each reader does; 0 means no limit.
	Count int
	// Total is the number of operations all readers do together; 0 means
	// no limit. Count and Total exclude each other.
	Total int
	// Rate, when positive, makes the run open-loop: operations start at
	// Rate per second in all, whenever they are due, by whichever reader is
	// free, and latency counts from when each was due. 0 is closed-loop:
	// each reader starts its next operation when the previous one is
	// answered (and Think has passed).
	Rate float64
	// Think is a closed-loop reader's pause between operations: on average
	// Think, uniformly between half and one and a half of it.
	Think time.Duration
	// Mix weighs the operations; the zero Mix means DefaultMix.
	Mix Mix
	// Questions are asked besides BuiltinQuestions.
	Questions []string
	// FollowUp is the probability (0 to 1) that a question continues the
	// reader's current conversation rather than starting a new one.
	FollowUp float64
	// Timeout bounds each request, a streamed answer to its last event;
	// 0 means 60 seconds.
	Timeout time.Duration
	// MaxBackoff caps the wait a 429's Retry-After imposes on a reader (the
	// daily budget's runs to midnight); 0 means 30 seconds.
	MaxBackoff time.Duration
	// SetupTimeout bounds the sign-up phase; 0 means 2 minutes.
	SetupTimeout time.Duration
	// ReadyTimeout is how long to wait for the target's /readyz (a book
	// still loading); 0 means 30 seconds.
	ReadyTimeout time.Duration
	// RunID names this run's accounts; empty means a random one. With the
	// RunID and Password of an earlier run, its accounts are signed into
	// instead of created.
	RunID string
	// Password is every reader's password; empty means a random one, never
	// printed.
	Password string
	// MaxSamples caps the latencies kept per operation for percentiles; 0
	// means DefaultMaxSamples.
	MaxSamples int
	// ReportEvery, with Progress set, writes a progress line to Progress at
	// that interval.
	ReportEvery time.Duration
	// Progress receives progress lines; nil writes none.
	Progress io.Writer
}

// validRunID accepts 1-32 lowercase letters, digits and '-', not starting
// with '-': a run id goes into e-mail addresses.
func validRunID(id string) bool {
	if id == "" || len(id) > 32 || id[0] == '-' {
		return false
	}
	for _, c := range id {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' {
			return false
		}
	}
	return true
}

// normalized returns c with its defaults filled in, or an error naming
// every field that is wrong.
func (c Config) normalized() (Config, error) {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if c.Target == "" {
		c.Target = DefaultTarget
	}
	if t, err := baseURL(c.Target); err != nil {
		bad("target: %w", err)
	} else {
		c.Target = t
	}
	if c.AuthURL == "" {
		c.AuthURL = c.Target
	} else if a, err := baseURL(c.AuthURL); err != nil {
		bad("auth URL: %w", err)
	} else {
		c.AuthURL = a
	}
	if c.Readers < 1 {
		bad("readers: %d; want at least 1", c.Readers)
	}
	if c.Duration < 0 || c.Count < 0 || c.Total < 0 {
		bad("duration, count and total must not be negative")
	}
	if c.Count > 0 && c.Total > 0 {
		bad("give a count per reader or a total, not both")
	}
	if c.Duration == 0 && c.Count == 0 && c.Total == 0 {
		bad("no bound: give a duration, a count per reader or a total")
	}
	if c.Rate < 0 || math.IsNaN(c.Rate) || math.IsInf(c.Rate, 0) {
		bad("rate: %v; want a number of requests per second >= 0", c.Rate)
	}
	if c.Think < 0 {
		bad("think time must not be negative")
	}
	if c.Mix == (Mix{}) {
		c.Mix = DefaultMix()
	} else if err := c.Mix.Validate(); err != nil {
		errs = append(errs, err)
	}
	if c.FollowUp < 0 || c.FollowUp > 1 || math.IsNaN(c.FollowUp) {
		bad("follow-up: %v; want a probability from 0 to 1", c.FollowUp)
	}
	for i, q := range c.Questions {
		if strings.TrimSpace(q) == "" || len([]rune(q)) > maxQuestionLen {
			bad("question %d is empty or longer than %d characters", i+1, maxQuestionLen)
		}
	}
	if c.Timeout < 0 || c.MaxBackoff < 0 || c.SetupTimeout < 0 || c.ReadyTimeout < 0 || c.ReportEvery < 0 || c.MaxSamples < 0 {
		bad("timeouts, intervals and sample counts must not be negative")
	}
	c.Timeout = cmp(c.Timeout, 60*time.Second)
	c.MaxBackoff = cmp(c.MaxBackoff, 30*time.Second)
	c.SetupTimeout = cmp(c.SetupTimeout, 2*time.Minute)
	c.ReadyTimeout = cmp(c.ReadyTimeout, 30*time.Second)
	c.MaxSamples = cmp(c.MaxSamples, DefaultMaxSamples)
	if c.RunID == "" {
		c.RunID = strings.ToLower(rand.Text()[:8])
	} else if !validRunID(c.RunID) {
		bad("run id %q: want 1-32 lowercase letters, digits or '-', starting with a letter or digit", c.RunID)
	}
	if c.Password == "" {
		c.Password = rand.Text()
	} else if n := len([]rune(c.Password)); n < 8 || n > 128 {
		bad("password: %d characters; Lectern takes 8 to 128", n)
	}
	return c, errors.Join(errs...)
}

// cmp is v, or def when v is zero.
func cmp[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// baseURL checks an http(s) base URL and returns it without a trailing
// slash.
func baseURL(raw string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("%q is not an http(s) URL such as http://127.0.0.1:8080", raw)
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return "", fmt.Errorf("%q: want a base URL without credentials, query or fragment", raw)
	}
	return strings.TrimSuffix(u.Scheme+"://"+u.Host+u.EscapedPath(), "/"), nil
}

// runner is one run's shared state.
type runner struct {
	cfg       Config
	hc        *http.Client
	authURL   *url.URL // for the cookie jars
	rec       [numOps]*opRecorder
	questions []string

	mu      sync.Mutex
	limited map[string]bool // which limits answered 429, for the report's notes
}

// reader is one virtual reader; only its own goroutine touches it.
type reader struct {
	n       int
	email   string
	jar     *cookiejar.Jar
	token   string
	renewAt time.Time // fetch a new token from then on
	convs   []string  // conversations known, most recent last
	current string    // the conversation a follow-up continues
	rng     *mrand.Rand
	sched   *scheduler
}

// maxKnown is how many conversation ids a reader remembers.
const maxKnown = 20

// Run drives the target as cfg says and returns what it measured. It checks
// first that the target is a reachable, ready Lectern, then signs every
// reader up (or in), then runs the load phase until its bound. A request
// that fails is counted in the report, never fatal; Run fails only when
// the target is unusable or no reader could sign in. When ctx is canceled
// (SIGINT) it stops early and returns what it has, marked Interrupted.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	cfg, err := cfg.normalized()
	if err != nil {
		return nil, err
	}
	r := newRunner(cfg)
	defer r.hc.CloseIdleConnections()
	if err := r.preflight(ctx); err != nil {
		return nil, err
	}

	rep := &Report{
		Target: cfg.Target, AuthURL: cfg.AuthURL, RunID: cfg.RunID, Readers: cfg.Readers,
		Duration: cfg.Duration, Count: cfg.Count, Total: cfg.Total, Rate: cfg.Rate, Think: cfg.Think,
		Mix: cfg.Mix, FollowUp: cfg.FollowUp, Started: time.Now(),
	}
	var ready atomic.Int64
	stopProgress := r.startProgress(rep.Started, &ready)
	defer stopProgress()

	// Setup: every reader signs up (or in) and gets a token, all at once.
	readers := make([]*reader, cfg.Readers)
	setupErrs := make([]error, cfg.Readers)
	setupCtx, cancelSetup := context.WithTimeout(ctx, cfg.SetupTimeout)
	var wg sync.WaitGroup
	for i := range readers {
		rd := r.newReader(i + 1)
		wg.Go(func() {
			if err := r.setup(setupCtx, rd); err != nil {
				setupErrs[i] = err
				return
			}
			readers[i] = rd
			ready.Add(1)
		})
	}
	wg.Wait()
	cancelSetup()
	rep.Setup = time.Since(rep.Started)
	rep.ReadersReady = int(ready.Load())
	if n := cfg.Readers - rep.ReadersReady; n > 0 && ctx.Err() == nil {
		if rep.ReadersReady == 0 {
			return nil, fmt.Errorf("no reader could sign up and sign in: %w", firstErr(setupErrs))
		}
		rep.Notes = append(rep.Notes, fmt.Sprintf("%d of %d readers could not sign in and did nothing: %v", n, cfg.Readers, firstErr(setupErrs)))
	}
	var active []*reader
	for _, rd := range readers {
		if rd != nil {
			active = append(active, rd)
		}
	}

	// Load.
	setupRequests := r.totalCount()
	loadStart := time.Now()
	loadCtx, cancelLoad := ctx, context.CancelFunc(func() {})
	if cfg.Duration > 0 {
		loadCtx, cancelLoad = context.WithTimeout(ctx, cfg.Duration)
	}
	if ctx.Err() == nil {
		if cfg.Rate > 0 {
			rep.Dropped = r.openLoop(ctx, loadCtx, active)
		} else {
			r.closedLoop(ctx, loadCtx, active)
		}
	}
	cancelLoad()
	end := time.Now()
	rep.Load = end.Sub(loadStart)
	rep.Elapsed = end.Sub(rep.Started)
	rep.LoadRequests = r.totalCount() - setupRequests
	if s := rep.Load.Seconds(); s > 0 {
		rep.LoadRate = float64(rep.LoadRequests) / s
	}
	rep.Interrupted = ctx.Err() != nil
	r.summarize(rep)
	return rep, nil
}

// newRunner prepares a run of cfg, which is normalized.
func newRunner(cfg Config) *runner {
	authURL, _ := url.Parse(cfg.AuthURL) // normalized: it parses
	r := &runner{
		cfg:       cfg,
		hc:        &http.Client{Transport: newTransport(cfg.Readers), CheckRedirect: noRedirects},
		authURL:   authURL,
		questions: append(BuiltinQuestions(), cfg.Questions...),
		limited:   map[string]bool{},
	}
	for i := range r.rec {
		r.rec[i] = newOpRecorder(cfg.MaxSamples, mrand.Uint64())
	}
	return r
}

// firstErr is the first non-nil error of errs.
func firstErr(errs []error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

func noRedirects(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

func (r *runner) newReader(n int) *reader {
	jar, _ := cookiejar.New(nil) // never fails without options
	rd := &reader{
		n:     n,
		email: fmt.Sprintf("loadtest-%s-%d@example.test", r.cfg.RunID, n),
		jar:   jar,
		rng:   mrand.New(mrand.NewPCG(mrand.Uint64(), mrand.Uint64())),
		sched: newScheduler(r.cfg.Mix),
	}
	// Readers start at different points of the round-robin, so they do
	// not all ask (or sign in) at the same moment.
	for range rd.rng.IntN(rd.sched.period()) {
		rd.sched.next()
	}
	return rd
}

// totalCount is the requests made so far (derived rows are none).
func (r *runner) totalCount() int64 {
	var n int64
	for op, rec := range r.rec {
		if !Op(op).derived() {
			n += rec.progress().count
		}
	}
	return n
}

// preflight checks that the target (and the identity service) answer, are
// Lectern, serve the right roles and are ready, with an error that says
// which of these is wrong.
func (r *runner) preflight(ctx context.Context) error {
	get := func(base, path string) (outcome, error) {
		o := send(ctx, r.hc, request{method: "GET", url: base + path}, 10*time.Second)
		if o.canceled {
			return o, ctx.Err()
		}
		if o.status == 0 {
			return o, fmt.Errorf("%s is not reachable (is lectern serve running there?): %w", base, o.err)
		}
		return o, nil
	}
	bases := []string{r.cfg.Target}
	if r.cfg.AuthURL != r.cfg.Target {
		bases = append(bases, r.cfg.AuthURL)
	}
	for _, base := range bases {
		o, err := get(base, "/healthz")
		if err != nil {
			return err
		}
		var h struct{ Status string }
		if o.status != 200 || json.Unmarshal(o.body, &h) != nil || h.Status != "ok" {
			return fmt.Errorf("%s does not look like a Lectern server: GET /healthz answered %d, not {\"status\":\"ok\"}", base, o.status)
		}
	}
	o, err := get(r.cfg.AuthURL, "/api/auth/ok")
	if err != nil {
		return err
	}
	if o.status != 200 {
		return fmt.Errorf("%s does not serve the identity service (GET /api/auth/ok answered %d); for a split deployment give the identity service's own URL as the auth URL (--auth-url)", r.cfg.AuthURL, o.status)
	}
	o, err = get(r.cfg.Target, "/api/conversations")
	if err != nil {
		return err
	}
	if o.status != http.StatusUnauthorized {
		return fmt.Errorf("%s does not serve the API (GET /api/conversations without a token answered %d, not 401)", r.cfg.Target, o.status)
	}
	deadline := time.Now().Add(r.cfg.ReadyTimeout)
	for {
		o, err := get(r.cfg.Target, "/readyz")
		if err != nil {
			return err
		}
		if o.status == 200 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s is not ready after %s: GET /readyz answered %s", r.cfg.Target, r.cfg.ReadyTimeout, o.describe())
		}
		if backoff.Sleep(ctx, 250*time.Millisecond) != nil {
			return ctx.Err()
		}
	}
}

// record files o under op, with its latency counted from start.
func (r *runner) record(op Op, start time.Time, o outcome) {
	r.recordLatency(op, time.Since(start), o)
}

// recordLatency files o under op, with the given latency.
func (r *runner) recordLatency(op Op, latency time.Duration, o outcome) {
	if o.canceled {
		return
	}
	example := ""
	if o.kind != "" {
		example = o.describe()
	}
	r.rec[op].record(latency, o.kind, example)
	if o.kind == KindRateLimited {
		key := o.code() // the API's limits say which they are
		if op == OpSignUp || op == OpSignIn || op == OpToken {
			key = "auth"
		}
		r.mu.Lock()
		r.limited[key] = true
		r.mu.Unlock()
	}
}

// setup signs rd up (or finds its account exists), signs it in and fetches
// its first token. A 429 waits its Retry-After and tries again as long as
// ctx lasts; another failure is tried three times.
func (r *runner) setup(ctx context.Context, rd *reader) error {
	steps := []struct {
		op Op
		do func() outcome
	}{
		{OpSignUp, func() outcome { return r.signUp(ctx, rd) }},
		{OpSignIn, func() outcome { return r.signIn(ctx, rd, time.Now()) }},
		{OpToken, func() outcome { return r.fetchToken(ctx, rd) }},
	}
	for _, s := range steps {
		for failures := 0; ; {
			o := s.do()
			if o.canceled || ctx.Err() != nil {
				return fmt.Errorf("reader %d: %s: %w", rd.n, s.op, context.Cause(ctx))
			}
			if o.kind == "" {
				break
			}
			if s.op == OpSignIn && o.code() == "INVALID_EMAIL_OR_PASSWORD" {
				return fmt.Errorf("reader %d: %s exists with another password (give the password of the run that made it)", rd.n, rd.email)
			}
			wait := 500 * time.Millisecond
			if o.kind == KindRateLimited {
				wait = min(o.retryAfter, r.cfg.MaxBackoff)
			} else if failures++; failures == 3 {
				return fmt.Errorf("reader %d: %s: %s", rd.n, s.op, o.describe())
			}
			if backoff.Sleep(ctx, wait) != nil {
				return fmt.Errorf("reader %d: %s: %s, then %w", rd.n, s.op, o.describe(), context.Cause(ctx))
			}
		}
	}
	return nil
}

// sessionCookies keeps the cookies of a sign-in or sign-up answer in rd's
// jar, and reports whether there were any.
func (r *runner) sessionCookies(rd *reader, o outcome) bool {
	cookies := (&http.Response{Header: o.header}).Cookies()
	rd.jar.SetCookies(r.authURL, cookies)
	return len(cookies) > 0
}

// signUp creates rd's account. An account that already exists (a RunID
// given again) is not an error: the reader signs in next anyway.
//
// Sign-up and sign-in are sent without the reader's cookies, as a script
// (not a browser) does: a POST that carries cookies must also carry a
// trusted Origin (the identity service's CSRF defence), and which origins
// the server trusts depends on its base URL, not on the URL the tool uses.
func (r *runner) signUp(ctx context.Context, rd *reader) outcome {
	start := time.Now()
	o := send(ctx, r.hc, request{method: "POST", url: r.cfg.AuthURL + "/api/auth/sign-up/email", body: map[string]string{
		"name": fmt.Sprintf("Load test reader %d", rd.n), "email": rd.email, "password": r.cfg.Password,
	}}, r.cfg.Timeout)
	switch {
	case o.status == http.StatusUnprocessableEntity && strings.HasPrefix(o.code(), "USER_ALREADY_EXISTS"):
		o.kind = ""
	case o.kind == "" && !r.sessionCookies(rd, o):
		o.kind, o.err = KindBadResponse, errors.New("sign-up set no session cookie")
	}
	r.record(OpSignUp, start, o)
	return o
}

// signIn signs rd in, replacing its session cookie (see signUp about
// cookies); the previous session stays until it expires, as when a reader
// signs in on another device. Its latency counts from start.
func (r *runner) signIn(ctx context.Context, rd *reader, start time.Time) outcome {
	o := send(ctx, r.hc, request{method: "POST", url: r.cfg.AuthURL + "/api/auth/sign-in/email", body: map[string]string{
		"email": rd.email, "password": r.cfg.Password,
	}}, r.cfg.Timeout)
	if o.kind == "" && !r.sessionCookies(rd, o) {
		o.kind, o.err = KindBadResponse, errors.New("sign-in set no session cookie")
	}
	r.record(OpSignIn, start, o)
	return o
}

// fetchToken gets a JWT for rd's session from GET /api/auth/token, and
// plans its renewal when three quarters of its lifetime have passed.
func (r *runner) fetchToken(ctx context.Context, rd *reader) outcome {
	start := time.Now()
	o := send(ctx, r.hc, request{method: "GET", url: r.cfg.AuthURL + "/api/auth/token", cookies: rd.jar.Cookies(r.authURL)}, r.cfg.Timeout)
	if o.kind == "" {
		var body struct{ Token string }
		life, err := time.Duration(0), json.Unmarshal(o.body, &body)
		if err == nil {
			life, err = jwtLifetime(body.Token)
		}
		if err != nil {
			o.kind, o.err = KindBadResponse, err
		} else {
			rd.token, rd.renewAt = body.Token, start.Add(life*3/4)
		}
	}
	r.record(OpToken, start, o)
	return o
}

// ensureToken fetches a token when rd has none or its renewal is due; if
// the session is gone, it signs in again first.
func (r *runner) ensureToken(ctx context.Context, rd *reader) outcome {
	if rd.token != "" && time.Now().Before(rd.renewAt) {
		return outcome{}
	}
	o := r.fetchToken(ctx, rd)
	if o.kind == KindUnauthorized {
		if o = r.signIn(ctx, rd, time.Now()); o.kind == "" {
			o = r.fetchToken(ctx, rd)
		}
	}
	return o
}

// remember adds a conversation id to those rd knows.
func (rd *reader) remember(id string) {
	for i, c := range rd.convs {
		if c == id {
			rd.convs = append(rd.convs[:i], rd.convs[i+1:]...)
			break
		}
	}
	rd.convs = append(rd.convs, id)
	if len(rd.convs) > maxKnown {
		rd.convs = rd.convs[len(rd.convs)-maxKnown:]
	}
}

// api sends an API request with rd's token; a 401 drops the token so the
// next operation fetches another.
func (r *runner) api(ctx context.Context, rd *reader, method, path string, body any) outcome {
	o := send(ctx, r.hc, request{method: method, url: r.cfg.Target + path, body: body, bearer: rd.token}, r.cfg.Timeout)
	if o.kind == KindUnauthorized {
		rd.token = ""
	}
	return o
}

func (r *runner) listConversations(ctx context.Context, rd *reader, start time.Time) outcome {
	o := r.api(ctx, rd, "GET", "/api/conversations?limit=20", nil)
	if o.kind == "" {
		var body struct {
			Conversations *[]struct{ ID string } `json:"conversations"`
		}
		if err := json.Unmarshal(o.body, &body); err != nil || body.Conversations == nil {
			o.kind, o.err = KindBadResponse, errors.New("no conversations list")
		} else {
			// The list is most recent first; remember the most recent last.
			for i := len(*body.Conversations) - 1; i >= 0; i-- {
				if id := (*body.Conversations)[i].ID; id != "" {
					rd.remember(id)
				}
			}
		}
	}
	r.record(OpListConversations, start, o)
	return o
}

// question is the body of rd's next question, for /api/agents/run and
// /api/agents/stream alike: with probability FollowUp it continues rd's
// current conversation, else it starts one.
func (r *runner) question(rd *reader) map[string]string {
	session := ""
	if rd.current != "" && rd.rng.Float64() < r.cfg.FollowUp {
		session = rd.current
	}
	q := r.questions[rd.rng.IntN(len(r.questions))]
	return map[string]string{"agent_type": "rag", "query": q, "session_id": session}
}

func (r *runner) ask(ctx context.Context, rd *reader, start time.Time) outcome {
	o := r.api(ctx, rd, "POST", "/api/agents/run", r.question(rd))
	if o.kind == "" {
		var body struct {
			Message   *string `json:"message"`
			SessionID string  `json:"session_id"`
		}
		if err := json.Unmarshal(o.body, &body); err != nil || body.Message == nil || body.SessionID == "" {
			o.kind, o.err = KindBadResponse, errors.New("no message or session_id in the answer")
		} else {
			rd.current = body.SessionID
			rd.remember(body.SessionID)
		}
	}
	r.record(OpAsk, start, o)
	return o
}

// askStream asks a question as the chat panel does: POST
// /api/agents/stream, read to its last event. Its latency runs from start
// to the last event (done); the time to the first delta event goes to
// OpAskStreamFirstDelta, for every stream that produced one, whatever its
// end. The conversation the start event names becomes rd's current one,
// as in the chat panel, even when the answer then fails (the question is
// stored). An error event is a failure of kind stream_error:<code>, a
// stream without a last event stream_truncated; a refusal before the
// stream (401, 429, ...) is classified as for ask.
func (r *runner) askStream(ctx context.Context, rd *reader, start time.Time) outcome {
	var (
		end, firstDelta time.Time
		kind            string // a failure the events showed
		fault           error
	)
	bad := func(format string, a ...any) bool {
		kind, fault = KindBadResponse, fmt.Errorf(format, a...)
		return true
	}
	o := sendStream(ctx, r.hc, request{method: "POST", url: r.cfg.Target + "/api/agents/stream", body: r.question(rd), bearer: rd.token},
		r.cfg.Timeout, func(event string, data []byte) bool {
			switch event {
			case "start":
				var e struct {
					SessionID string `json:"session_id"`
				}
				if json.Unmarshal(data, &e) != nil || e.SessionID == "" {
					return bad("a start event without session_id")
				}
				rd.current = e.SessionID
				rd.remember(e.SessionID)
			case "delta":
				var e struct {
					Text *string `json:"text"`
				}
				if json.Unmarshal(data, &e) != nil || e.Text == nil {
					return bad("a delta event without text")
				}
				if firstDelta.IsZero() {
					firstDelta = time.Now()
				}
			case "done":
				end = time.Now()
				var e struct {
					Message   *string `json:"message"`
					SessionID string  `json:"session_id"`
				}
				if json.Unmarshal(data, &e) != nil || e.Message == nil || e.SessionID == "" {
					return bad("no message or session_id in the done event")
				}
				rd.current = e.SessionID
				rd.remember(e.SessionID)
				return true
			case "error":
				end = time.Now()
				var e struct {
					Code string `json:"code"`
				}
				json.Unmarshal(data, &e)
				kind, fault = streamErrorKind(e.Code), fmt.Errorf("error event %s", cmp(e.Code, "without a code"))
				return true
			}
			return false // sources, and events Lectern may add
		})
	if o.kind == KindUnauthorized {
		rd.token = ""
	}
	if o.kind == "" && kind != "" {
		o.kind, o.err = kind, fault
	}
	if o.canceled {
		return o
	}
	if !firstDelta.IsZero() {
		r.recordLatency(OpAskStreamFirstDelta, firstDelta.Sub(start), outcome{})
	}
	if end.IsZero() {
		end = time.Now()
	}
	r.recordLatency(OpAskStream, end.Sub(start), o)
	return o
}

// streamErrorKind is the error kind of an error event with code: code must
// look like one of Lectern's (letters, digits, '_', at most 64), or the
// kind is plain stream_error, so a stream cannot fill the report with kinds.
func streamErrorKind(code string) string {
	if code == "" || len(code) > 64 {
		return KindStreamError
	}
	for _, c := range code {
		if (c < 'A' || c > 'Z') && (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '_' {
			return KindStreamError
		}
	}
	return KindStreamError + ":" + code
}

func (r *runner) history(ctx context.Context, rd *reader, start time.Time) outcome {
	id := rd.current
	if id == "" || rd.rng.IntN(2) == 0 {
		id = rd.convs[rd.rng.IntN(len(rd.convs))]
	}
	o := r.api(ctx, rd, "GET", "/api/conversations/"+url.PathEscape(id)+"/messages?limit=50", nil)
	if o.kind == "" {
		var body struct {
			Messages *[]json.RawMessage `json:"messages"`
		}
		if err := json.Unmarshal(o.body, &body); err != nil || body.Messages == nil {
			o.kind, o.err = KindBadResponse, errors.New("no messages list")
		}
	}
	r.record(OpHistory, start, o)
	return o
}

// iterate does rd's next operation, its latency counted from due (when it
// was due in an open loop; now in a closed one; a token renewal it needs
// first is part of it), and returns how long the reader should wait before
// the next: a 429's Retry-After (capped), a moment after a network failure,
// else 0.
func (r *runner) iterate(ctx context.Context, rd *reader, due time.Time) time.Duration {
	op := rd.sched.next()
	var o outcome
	if op == OpSignIn {
		o = r.signIn(ctx, rd, due)
	} else if o = r.ensureToken(ctx, rd); o.kind == "" && !o.canceled {
		if op == OpHistory && len(rd.convs) == 0 {
			// No conversation to read yet: a reader would ask first, the
			// way the mix asks.
			op = OpAsk
			if r.cfg.Mix.Ask == 0 && r.cfg.Mix.AskStream > 0 {
				op = OpAskStream
			}
		}
		switch op {
		case OpListConversations:
			o = r.listConversations(ctx, rd, due)
		case OpAsk:
			o = r.ask(ctx, rd, due)
		case OpAskStream:
			o = r.askStream(ctx, rd, due)
		case OpHistory:
			o = r.history(ctx, rd, due)
		}
	}
	switch o.kind {
	case KindRateLimited:
		return min(o.retryAfter, r.cfg.MaxBackoff)
	case KindNetwork, KindTimeout:
		return 100 * time.Millisecond
	}
	return 0
}

// closedLoop runs each reader's operations one after another until
// loadCtx ends or the count is done. Requests in flight when loadCtx ends
// finish (within ctx) and are counted.
func (r *runner) closedLoop(ctx, loadCtx context.Context, readers []*reader) {
	var remaining atomic.Int64
	remaining.Store(int64(r.cfg.Total))
	var wg sync.WaitGroup
	for _, rd := range readers {
		wg.Go(func() {
			for n := 0; loadCtx.Err() == nil; n++ {
				if (r.cfg.Count > 0 && n >= r.cfg.Count) || (r.cfg.Total > 0 && remaining.Add(-1) < 0) {
					return
				}
				wait := r.iterate(ctx, rd, time.Now())
				if r.cfg.Think > 0 {
					wait += time.Duration((0.5 + rd.rng.Float64()) * float64(r.cfg.Think))
				}
				backoff.Sleep(loadCtx, wait)
			}
		})
	}
	wg.Wait()
}

// openLoop starts operations at cfg.Rate per second, each by whichever
// reader is free, until loadCtx ends or the count is done. It returns how
// many operations fell due but were dropped because every reader was busy
// and a backlog of a second's worth (at least two per reader) was already
// waiting. What is still waiting when the run ends is not counted: it says
// nothing the backlog does not.
func (r *runner) openLoop(ctx, loadCtx context.Context, readers []*reader) (dropped int64) {
	limit := int64(r.cfg.Total)
	if r.cfg.Count > 0 {
		limit = int64(r.cfg.Count) * int64(len(readers))
	}
	backlog := int(min(max(float64(2*len(readers)), r.cfg.Rate), 1<<16))
	due := make(chan time.Time, backlog)
	var droppedN atomic.Int64
	go func() {
		defer close(due)
		interval := min(max(time.Duration(float64(time.Second)/r.cfg.Rate), time.Millisecond), 10*time.Millisecond)
		tick := time.NewTicker(interval)
		defer tick.Stop()
		start := time.Now()
		for sent := int64(0); limit == 0 || sent < limit; {
			// Every operation due by now, each stamped with when it was due.
			n := int64(time.Since(start).Seconds()*r.cfg.Rate) + 1
			if limit > 0 {
				n = min(n, limit)
			}
			for ; sent < n; sent++ {
				select {
				case due <- start.Add(time.Duration(float64(sent) / r.cfg.Rate * float64(time.Second))):
				default:
					droppedN.Add(1)
				}
			}
			select {
			case <-tick.C:
			case <-loadCtx.Done():
				return
			}
		}
	}()
	var wg sync.WaitGroup
	for _, rd := range readers {
		wg.Go(func() {
			for loadCtx.Err() == nil {
				select {
				case t, ok := <-due:
					if !ok {
						return
					}
					backoff.Sleep(loadCtx, r.iterate(ctx, rd, t))
				case <-loadCtx.Done():
					return
				}
			}
		})
	}
	wg.Wait()
	for range due { // let the pacer finish
	}
	return droppedN.Load()
}

// startProgress writes a line to cfg.Progress every cfg.ReportEvery until
// the returned stop is called.
func (r *runner) startProgress(start time.Time, ready *atomic.Int64) (stop func()) {
	if r.cfg.Progress == nil || r.cfg.ReportEvery <= 0 {
		return func() {}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(r.cfg.ReportEvery)
		defer tick.Stop()
		var prev [numOps]progress
		last := start
		for {
			select {
			case <-done:
				return
			case now := <-tick.C:
				var cur [numOps]progress
				var total, dCount, errs, dOK int64
				var dSum time.Duration
				for i, rec := range r.rec {
					cur[i] = rec.progress()
					if Op(i).derived() {
						continue
					}
					total += cur[i].count
					errs += cur[i].errors
					dCount += cur[i].count - prev[i].count
					dOK += cur[i].ok - prev[i].ok
					dSum += cur[i].sum - prev[i].sum
				}
				line := fmt.Sprintf("loadtest %6s  readers %d/%d  requests %d  %.1f/s  errors %d",
					now.Sub(start).Round(time.Second), ready.Load(), r.cfg.Readers, total, float64(dCount)/now.Sub(last).Seconds(), errs)
				if dOK > 0 {
					line += "  mean " + fmtDuration(dSum/time.Duration(dOK))
				}
				if a, p := cur[OpAsk], prev[OpAsk]; a.ok > p.ok {
					line += "  ask mean " + fmtDuration((a.sum-p.sum)/time.Duration(a.ok-p.ok))
				}
				if a, p := cur[OpAskStream], prev[OpAskStream]; a.ok > p.ok {
					line += "  ask_stream mean " + fmtDuration((a.sum-p.sum)/time.Duration(a.ok-p.ok))
				}
				fmt.Fprintln(r.cfg.Progress, line)
				prev, last = cur, now
			}
		}
	})
	return func() { close(done); wg.Wait() }
}

// summarize fills in the report's statistics and notes.
func (r *runner) summarize(rep *Report) {
	for op := range numOps {
		// Sign-up, sign-in and tokens happen during setup too; the others
		// (ask_stream and its first delta included) only in the load
		// phase, so their rate is per second of it.
		over := rep.Load
		if op.setup() {
			over = rep.Elapsed
		}
		s := r.rec[op].stats(op, over)
		if s.Count > 0 || r.cfg.Mix.weight(op) > 0 {
			rep.Ops = append(rep.Ops, s)
		}
		if !op.derived() { // no requests of its own
			rep.All.Count += s.Count
			rep.All.Errors += s.Errors
		}
	}
	if s := rep.Elapsed.Seconds(); s > 0 {
		rep.All.Rate = float64(rep.All.Count) / s
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.limited["auth"] {
		rep.Notes = append(rep.Notes, "the identity service answered 429: start the server with LECTERN_AUTH_RATE_LIMIT=off for a load test")
	}
	if r.limited["RATE_LIMITED"] {
		rep.Notes = append(rep.Notes, "questions hit the per-reader chat rate limit (429 RATE_LIMITED): start the server with LECTERN_CHAT_RATE_LIMIT=off")
	}
	if r.limited["DAILY_BUDGET_EXCEEDED"] {
		rep.Notes = append(rep.Notes, "readers used up their daily budget (429 DAILY_BUDGET_EXCEEDED): start the server with LECTERN_CHAT_DAILY_BUDGET=off")
	}
	for _, code := range slices.Sorted(maps.Keys(r.limited)) {
		if code != "auth" && code != "RATE_LIMITED" && code != "DAILY_BUDGET_EXCEEDED" {
			rep.Notes = append(rep.Notes, fmt.Sprintf("API requests were refused with 429 %q", code))
		}
	}
	if rep.Dropped > 0 {
		rep.Notes = append(rep.Notes, fmt.Sprintf("%d operations fell due but were dropped because all %d readers were busy: "+
			"the server (or the readers) cannot sustain %.4g requests/s; lower --rate or add --readers", rep.Dropped, rep.ReadersReady, r.cfg.Rate))
	}
	if rep.Interrupted {
		rep.Notes = append(rep.Notes, "interrupted before the end: the figures cover the run so far")
	}
}
