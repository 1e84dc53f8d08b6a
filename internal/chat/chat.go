// Package chat keeps readers' conversations with the assistant: it starts
// and continues conversations, stores every turn, and asks an Answerer for
// the assistant's reply. Every operation takes the verified user id and
// passes it to storage, which scopes each statement by it.
//
// The package knows nothing of HTTP; package api serves it.
package chat

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/lectern/lectern/internal/fault"
	"github.com/lectern/lectern/internal/randid"
	"github.com/lectern/lectern/internal/store"
)

// Limits on what a reader can send, so one request cannot cost unbounded
// storage or model tokens.
const (
	MaxQueryRunes       = 4000
	MaxHighlightedRunes = 20000
	MaxPageLen          = 2048
	MaxTitleRunes       = 200
	titleFromQueryRunes = 50
	// DefaultPageSize and MaxPageSize bound list endpoints.
	DefaultPageSize = 50
	MaxPageSize     = 100
)

// Agents a reader can ask for, by the seed's agent_type.
const (
	AgentRAG        = "rag"
	AgentSummarizer = "summarizer"
	AgentTriage     = "triage"
)

// Errors the service returns; callers branch with errors.Is, and the HTTP
// layer answers by their fault kind. A storage error keeps the store's
// kind: an outage is fault.Unavailable, a bug has no kind (500).
var (
	// ErrNotFound: the conversation does not exist or is not the caller's.
	ErrNotFound = fault.New(fault.NotFound, "NOT_FOUND", "Conversation not found")
	// ErrUnavailable: the answerer failed; the request may be retried.
	ErrUnavailable = fault.New(fault.Unavailable, "SERVICE_UNAVAILABLE", "Service temporarily unavailable; please retry")
)

// invalid is a request the service refuses, naming the input at fault.
func invalid(field, format string, a ...any) error {
	return fault.New(fault.Invalid, "VALIDATION_ERROR", field+": "+fmt.Sprintf(format, a...))
}

// Source is a section of the book an answer cites. How it is stored and
// how a wire sends it are decided apart (storedSource, and the API's own
// type), so that neither changes the other.
type Source struct {
	Slug          string
	Title         string
	Heading       string
	URL           string
	ChapterNumber *int
	PageNumber    *int
	Snippet       string
	Score         float64
}

// storedSource is a Source as it is kept with its answer in
// store.Message.Sources. Its JSON names are those of every answer stored
// so far: they change only with a migration of the stored messages.
type storedSource struct {
	Slug          string  `json:"slug"`
	Title         string  `json:"title,omitempty"`
	Heading       string  `json:"heading,omitempty"`
	URL           string  `json:"url,omitempty"`
	ChapterNumber *int    `json:"chapter_number"`
	PageNumber    *int    `json:"page_number"`
	Snippet       string  `json:"snippet"`
	Score         float64 `json:"score,omitempty"`
}

// encodeSources returns sources as they are stored.
func encodeSources(sources []Source) ([]byte, error) {
	out := make([]storedSource, len(sources))
	for i, s := range sources {
		out[i] = storedSource(s)
	}
	return json.Marshal(out)
}

// SourcesOf returns the sources stored with message m: none for a reader's
// message, and none when they cannot be read.
func SourcesOf(m store.Message) []Source {
	var stored []storedSource
	if len(m.Sources) == 0 || json.Unmarshal(m.Sources, &stored) != nil {
		return nil
	}
	out := make([]Source, len(stored))
	for i, s := range stored {
		out[i] = Source(s)
	}
	return out
}

// Question is what an Answerer gets: the reader's request and the earlier
// turns of the conversation (oldest first, the new question not included).
type Question struct {
	Agent           string
	Query           string
	HighlightedText string
	CurrentPage     string
	History         []store.Message
}

// Reply is an Answerer's answer. Agent is the agent that really answered
// (triage reports the one it chose); Tokens is what the model reported
// using (0 when it reports nothing, or no model was used).
type Reply struct {
	Text    string
	Sources []Source
	Agent   string
	Tokens  int64
	// Quoted is set when the answer quotes the book rather than being
	// written by a model (no model is configured).
	Quoted bool
	// NotCovered is set when the answer says the book does not cover the
	// question; the book's owners see these questions.
	NotCovered bool
}

// Event is a piece of an answer as it is produced: first the sources and
// the agent (one event, before any text), then text deltas.
type Event struct {
	Sources []Source
	Agent   string
	Quoted  bool // with Sources: the answer quotes the book (see Reply.Quoted)
	Delta   string
}

// Answerer produces the assistant's reply. It calls emit (which may be
// nil) as the answer is produced; an error from emit (the reader went
// away) stops the answer and is returned.
type Answerer interface {
	Answer(ctx context.Context, q Question, emit func(Event) error) (Reply, error)
}

// Budget bounds what one reader may use per UTC day; zero fields are
// unlimited.
type Budget struct {
	Requests int64
	Tokens   int64
}

// BudgetError is returned when a reader has used the day's budget.
type BudgetError struct {
	RetryAfter time.Duration // until the budget renews (midnight UTC)
}

func (e *BudgetError) Error() string { return "chat: daily budget used up" }

// Store is what the service needs from storage.
type Store interface {
	StartConversation(ctx context.Context, c store.Conversation, first store.Message) (store.Message, error)
	Conversation(ctx context.Context, userID, id string) (store.Conversation, error)
	ListConversations(ctx context.Context, userID string, limit int, after *store.ConversationCursor) ([]store.Conversation, error)
	RenameConversation(ctx context.Context, userID, id, title string, now time.Time) (store.Conversation, error)
	DeleteConversation(ctx context.Context, userID, id string) error
	AppendMessage(ctx context.Context, m store.Message) (store.Message, error)
	ListMessages(ctx context.Context, userID, conversationID string, afterSeq int64, limit int) ([]store.Message, error)
	SetFeedback(ctx context.Context, f store.Feedback) error
	AddUsage(ctx context.Context, userID, day string, requests, tokens int64) (store.Usage, error)
	UserFootprint(ctx context.Context, userID string) (store.Footprint, error)
}

// Quota bounds what one reader may keep stored: conversations, messages
// (theirs and the answers) and the bytes those hold. A zero field takes
// its default.
type Quota struct {
	Conversations, Messages, Bytes int64
}

// Defaults for Quota: far beyond a reader's use, and a bound on what one
// free account can make the database hold.
const (
	DefaultQuotaConversations = 1_000
	DefaultQuotaMessages      = 20_000
	DefaultQuotaBytes         = 50 << 20
)

// Options configures a Service.
type Options struct {
	// Budget is each reader's daily allowance; zero is unlimited.
	Budget Budget
	// Quota is what each reader may keep stored.
	Quota Quota
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// OnAnswer, when set, is told how each call of the Answerer went, for
	// metrics. It must be safe for concurrent use.
	OnAnswer func(AnswerStats)
	// OnOverBudget, when set, is called for each question refused because
	// its reader has used the day's budget, for metrics. It must be safe
	// for concurrent use.
	OnOverBudget func()
	// Log returns the logger for a request's context (with its request
	// id); nil logs nothing.
	Log func(context.Context) *slog.Logger
}

// AnswerStats describes one call of the Answerer. Durations are measured
// on the monotonic clock, whatever Options.Now says.
type AnswerStats struct {
	Agent     string        // the agent that answered; the one asked for when the answerer said none
	FirstText time.Duration // from the call to the first piece of text; 0 when none came
	Total     time.Duration // from the call to its return
	Tokens    int64         // model tokens the answerer reported
	Err       error         // what the call returned
	Canceled  bool          // the context ended first: the reader went away, or the server stopped the answer
}

// Service is the chat service. Build it with New.
type Service struct {
	store      Store
	answerer   Answerer
	budget     Budget
	quota      Quota
	now        func() time.Time
	onAnswer   func(AnswerStats)
	overBudget func()
	log        func(context.Context) *slog.Logger
}

// New returns a Service.
func New(st Store, a Answerer, opt Options) *Service {
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Log == nil {
		discard := slog.New(slog.DiscardHandler)
		opt.Log = func(context.Context) *slog.Logger { return discard }
	}
	for _, q := range []struct {
		v *int64
		d int64
	}{{&opt.Quota.Conversations, DefaultQuotaConversations}, {&opt.Quota.Messages, DefaultQuotaMessages}, {&opt.Quota.Bytes, DefaultQuotaBytes}} {
		if *q.v <= 0 {
			*q.v = q.d
		}
	}
	return &Service{store: st, answerer: a, budget: opt.Budget, quota: opt.Quota, now: opt.Now, onAnswer: opt.OnAnswer,
		overBudget: opt.OnOverBudget, log: opt.Log}
}

// storeErr maps a storage error to the service's errors: "not found" is
// the conversation's; anything else keeps the store's kind.
func storeErr(op string, err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return ErrNotFound
	}
	return fmt.Errorf("%s: %w", op, err)
}

// Conversation returns the user's conversation.
func (s *Service) Conversation(ctx context.Context, userID, id string) (store.Conversation, error) {
	c, err := s.store.Conversation(ctx, userID, id)
	if err != nil {
		return c, storeErr("get conversation", err)
	}
	return c, nil
}

// Conversations returns a page of the user's conversations, most recent
// activity first, and the cursor of the next page (nil at the end).
func (s *Service) Conversations(ctx context.Context, userID string, limit int, after *store.ConversationCursor) ([]store.Conversation, *store.ConversationCursor, error) {
	limit = pageSize(limit)
	list, err := s.store.ListConversations(ctx, userID, limit+1, after)
	if err != nil {
		return nil, nil, storeErr("list conversations", err)
	}
	if len(list) <= limit {
		return list, nil, nil
	}
	list = list[:limit]
	last := list[limit-1]
	return list, &store.ConversationCursor{UpdatedAt: last.UpdatedAt, ID: last.ID}, nil
}

func pageSize(limit int) int {
	switch {
	case limit <= 0:
		return DefaultPageSize
	case limit > MaxPageSize:
		return MaxPageSize
	}
	return limit
}

// Rename sets a conversation's title.
func (s *Service) Rename(ctx context.Context, userID, id, title string) (store.Conversation, error) {
	title = strings.TrimSpace(title)
	switch n := utf8.RuneCountInString(title); {
	case n == 0:
		return store.Conversation{}, invalid("title", "must not be empty")
	case n > MaxTitleRunes:
		return store.Conversation{}, invalid("title", "must be at most %d characters", MaxTitleRunes)
	case strings.ContainsAny(title, "\x00\r\n"):
		return store.Conversation{}, invalid("title", "must be a single line")
	}
	c, err := s.store.RenameConversation(ctx, userID, id, title, s.now())
	if err != nil {
		return c, storeErr("rename conversation", err)
	}
	return c, nil
}

// Delete removes a conversation and its messages for good.
func (s *Service) Delete(ctx context.Context, userID, id string) error {
	if err := s.store.DeleteConversation(ctx, userID, id); err != nil {
		return storeErr("delete conversation", err)
	}
	return nil
}

// Messages returns a page of a conversation's messages, oldest first,
// after the given sequence number, and the sequence to continue from (0 at
// the end).
func (s *Service) Messages(ctx context.Context, userID, id string, afterSeq int64, limit int) ([]store.Message, int64, error) {
	limit = pageSize(limit)
	list, err := s.store.ListMessages(ctx, userID, id, afterSeq, limit+1)
	if err != nil {
		return nil, 0, storeErr("list messages", err)
	}
	if len(list) <= limit {
		return list, 0, nil
	}
	list = list[:limit]
	return list, list[limit-1].Seq, nil
}

// AddUserMessage stores a message the reader wrote into their conversation.
// Clients can only write user messages: assistant messages and their
// sources come from the service alone.
func (s *Service) AddUserMessage(ctx context.Context, userID, id, content string) (store.Message, error) {
	content, err := checkText("content", content, MaxQueryRunes)
	if err != nil {
		return store.Message{}, err
	}
	if err := s.checkQuota(ctx, userID, false, int64(len(content))); err != nil {
		return store.Message{}, err
	}
	m, err := s.store.AppendMessage(ctx, store.Message{
		ID: randid.New(), ConversationID: id, UserID: userID, Role: store.RoleUser, Content: content, CreatedAt: s.now(),
	})
	if err != nil {
		return m, storeErr("add message", err)
	}
	return m, nil
}

// checkQuota refuses to store a message of size bytes for userID (in a new
// conversation when newConversation) when their quota would be passed: 429
// for a count, 413 for bytes, each saying what to delete.
func (s *Service) checkQuota(ctx context.Context, userID string, newConversation bool, bytes int64) error {
	f, err := s.store.UserFootprint(ctx, userID)
	if err != nil {
		return storeErr("read footprint", err)
	}
	switch {
	case newConversation && f.Conversations >= s.quota.Conversations:
		return &fault.Error{Kind: fault.Limited, Code: "QUOTA_EXCEEDED",
			Message: fmt.Sprintf("You keep %d conversations, as many as a reader may; delete some to start another", f.Conversations)}
	case f.Messages >= s.quota.Messages:
		return &fault.Error{Kind: fault.Limited, Code: "QUOTA_EXCEEDED",
			Message: fmt.Sprintf("Your conversations hold %d messages, as many as a reader may keep; delete some to add more", f.Messages)}
	case f.Bytes+bytes > s.quota.Bytes:
		return &fault.Error{Kind: fault.TooLarge, Code: "QUOTA_EXCEEDED",
			Message: fmt.Sprintf("Your conversations hold %d MB, as much as a reader may keep; delete some to add more", f.Bytes>>20)}
	}
	return nil
}

func checkText(field, s string, max int) (string, error) {
	if !utf8.ValidString(s) {
		return "", invalid(field, "must be valid UTF-8")
	}
	s = strings.TrimSpace(strings.ReplaceAll(s, "\x00", ""))
	if s == "" {
		return "", invalid(field, "must not be empty")
	}
	if utf8.RuneCountInString(s) > max {
		return "", invalid(field, "must be at most %d characters", max)
	}
	return s, nil
}

// RunRequest is the seed's agent request.
type RunRequest struct {
	AgentType       string
	Query           string
	CurrentPage     string
	HighlightedText string
	SessionID       string // the conversation to continue; "" starts one
}

// RunResult is the stored exchange.
type RunResult struct {
	Conversation store.Conversation
	Question     store.Message
	Answer       store.Message
	Sources      []Source
	Agent        string
	Quoted       bool // the answer quotes the book (no model is configured)
}

// historyTurns is how many earlier messages go to the answerer.
const historyTurns = 20

// Turn is a question stored and waiting for its answer: what Ask returns
// and Answer takes. Between the two, a streaming handler opens its stream.
type Turn struct {
	Conversation store.Conversation
	Question     store.Message
	userID, day  string
	req          RunRequest
	history      []store.Message
}

// Ask checks a request and the reader's budget and stores the question,
// before any answer is generated: a failed generation then loses nothing,
// the question stays in the conversation, and asking it again answers that
// stored question rather than storing it twice.
func (s *Service) Ask(ctx context.Context, userID string, req RunRequest) (*Turn, error) {
	switch req.AgentType {
	case "":
		req.AgentType = AgentTriage
	case AgentRAG, AgentSummarizer, AgentTriage:
	default:
		return nil, invalid("agent_type", "must be one of rag, summarizer, triage")
	}
	query, err := checkText("query", req.Query, MaxQueryRunes)
	if err != nil {
		return nil, err
	}
	req.Query = query
	if utf8.RuneCountInString(req.HighlightedText) > MaxHighlightedRunes || !utf8.ValidString(req.HighlightedText) {
		return nil, invalid("highlighted_text", "must be valid text of at most %d characters", MaxHighlightedRunes)
	}
	if len(req.CurrentPage) > MaxPageLen || !utf8.ValidString(req.CurrentPage) {
		return nil, invalid("current_page", "must be at most %d bytes", MaxPageLen)
	}
	now := s.now()
	t := &Turn{userID: userID, day: now.UTC().Format(time.DateOnly), req: req}
	if err := s.checkQuota(ctx, userID, req.SessionID == "", int64(len(query))); err != nil {
		return nil, err
	}
	if err := s.checkBudget(ctx, userID, t.day, now); err != nil {
		return nil, err
	}
	q := store.Message{ID: randid.New(), UserID: userID, Role: store.RoleUser, Content: query, Page: req.CurrentPage, CreatedAt: now}
	if req.SessionID == "" {
		c := store.Conversation{ID: randid.New(), UserID: userID, Title: titleFrom(query), CreatedAt: now, UpdatedAt: now}
		q.ConversationID = c.ID
		if q, err = s.store.StartConversation(ctx, c, q); err != nil {
			return nil, storeErr("start conversation", err)
		}
		c.MessageCount = 1
		t.Conversation, t.Question = c, q
		return t, nil
	}
	if t.Conversation, err = s.store.Conversation(ctx, userID, req.SessionID); err != nil {
		return nil, storeErr("find conversation", err)
	}
	after := max(t.Conversation.MessageCount-historyTurns, 0)
	if t.history, err = s.store.ListMessages(ctx, userID, req.SessionID, after, historyTurns); err != nil {
		return nil, storeErr("read history", err)
	}
	if n := len(t.history); n > 0 && t.history[n-1].Role == store.RoleUser && t.history[n-1].Content == query {
		// The same question, still unanswered (its answer failed): a
		// retry answers it instead of storing it again.
		t.Question, t.history = t.history[n-1], t.history[:n-1]
		return t, nil
	}
	q.ConversationID = req.SessionID
	if t.Question, err = s.store.AppendMessage(ctx, q); err != nil {
		return nil, storeErr("store question", err)
	}
	return t, nil
}

// Answer asks the answerer for t's answer, passing each piece to emit as
// it comes (nil: none), stores the answer with its sources and returns the
// exchange.
func (s *Service) Answer(ctx context.Context, t *Turn, emit func(Event) error) (RunResult, error) {
	res := RunResult{Conversation: t.Conversation, Question: t.Question}
	if emit == nil {
		emit = func(Event) error { return nil }
	}
	reply, err := s.answer(ctx, Question{Agent: t.req.AgentType, Query: t.req.Query, HighlightedText: t.req.HighlightedText,
		CurrentPage: t.req.CurrentPage, History: t.history}, emit)
	if reply.Tokens > 0 {
		// Tokens spent count even when the answer then failed; the context
		// may be gone, so the count gets its own short deadline.
		uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		if _, err := s.store.AddUsage(uctx, t.userID, t.day, 0, reply.Tokens); err != nil {
			s.log(ctx).Error("count the tokens of an answer", "tokens", reply.Tokens, "err", err)
		}
		cancel()
	}
	if err != nil {
		if ctx.Err() != nil {
			return res, ctx.Err()
		}
		return res, fmt.Errorf("answer: %w: %w", ErrUnavailable, err)
	}
	if reply.Agent == "" {
		reply.Agent = t.req.AgentType
	}
	if reply.Sources == nil {
		reply.Sources = []Source{}
	}
	sources, err := encodeSources(reply.Sources)
	if err != nil {
		return res, fmt.Errorf("encode sources: %w", err)
	}
	a := store.Message{ID: randid.New(), ConversationID: t.Question.ConversationID, UserID: t.userID, Role: store.RoleAssistant,
		Content: reply.Text, Sources: sources, AgentType: reply.Agent, ParentID: t.Question.ID, NotCovered: reply.NotCovered, CreatedAt: s.now()}
	if a, err = s.store.AppendMessage(ctx, a); err != nil {
		return res, storeErr("store answer", err)
	}
	res.Answer, res.Sources, res.Agent, res.Quoted = a, reply.Sources, reply.Agent, reply.Quoted
	res.Conversation.MessageCount = a.Seq
	res.Conversation.UpdatedAt = a.CreatedAt
	return res, nil
}

// Run is Ask then Answer, for a caller that does not stream.
func (s *Service) Run(ctx context.Context, userID string, req RunRequest) (RunResult, error) {
	t, err := s.Ask(ctx, userID, req)
	if err != nil {
		return RunResult{}, err
	}
	return s.Answer(ctx, t, nil)
}

// answer asks the answerer, timing the call for OnAnswer when it is set.
func (s *Service) answer(ctx context.Context, q Question, emit func(Event) error) (Reply, error) {
	if s.onAnswer == nil {
		return s.answerer.Answer(ctx, q, emit)
	}
	st := AnswerStats{Agent: q.Agent}
	start := time.Now()
	reply, err := s.answerer.Answer(ctx, q, func(e Event) error {
		if e.Delta != "" && st.FirstText == 0 {
			st.FirstText = time.Since(start)
		}
		if emit == nil {
			return nil
		}
		return emit(e)
	})
	st.Total = time.Since(start)
	if reply.Agent != "" {
		st.Agent = reply.Agent
	}
	st.Tokens, st.Err = reply.Tokens, err
	st.Canceled = err != nil && ctx.Err() != nil
	s.onAnswer(st)
	return reply, err
}

// checkBudget counts the question against userID's day and returns a
// fault.Limited error wrapping a *BudgetError when it is beyond the day's
// allowance: one storage call for the count and the check.
func (s *Service) checkBudget(ctx context.Context, userID, day string, now time.Time) error {
	u, err := s.store.AddUsage(ctx, userID, day, 1, 0)
	if err != nil {
		return storeErr("count usage", err)
	}
	if (s.budget.Requests > 0 && u.Requests > s.budget.Requests) || (s.budget.Tokens > 0 && u.Tokens >= s.budget.Tokens) {
		if s.overBudget != nil {
			s.overBudget()
		}
		midnight := now.UTC().Truncate(24 * time.Hour).Add(24 * time.Hour)
		wait := midnight.Sub(now)
		return &fault.Error{Kind: fault.Limited, Code: "DAILY_BUDGET_EXCEEDED",
			Message:    "You have asked as many questions as a day allows; the budget renews at midnight UTC",
			RetryAfter: wait, Err: &BudgetError{RetryAfter: wait}}
	}
	return nil
}

// Ratings a reader can give an answer.
const (
	RatingUp   = "up"
	RatingDown = "down"
)

// MaxCommentRunes bounds a feedback comment.
const MaxCommentRunes = 2000

// Feedback records the reader's rating of one of their assistant messages.
func (s *Service) Feedback(ctx context.Context, userID, messageID, rating, comment string) (store.Feedback, error) {
	if rating != RatingUp && rating != RatingDown {
		return store.Feedback{}, invalid("rating", "must be up or down")
	}
	if !utf8.ValidString(comment) || utf8.RuneCountInString(comment) > MaxCommentRunes {
		return store.Feedback{}, invalid("comment", "must be text of at most %d characters", MaxCommentRunes)
	}
	now := s.now()
	f := store.Feedback{MessageID: messageID, UserID: userID, Rating: rating, Comment: strings.TrimSpace(comment), CreatedAt: now, UpdatedAt: now}
	if err := s.store.SetFeedback(ctx, f); err != nil {
		return f, storeErr("store feedback", err)
	}
	return f, nil
}

// titleFrom names a new conversation after its first question, as the seed
// did: the first 50 characters, on one line, with "..." when cut.
func titleFrom(query string) string {
	t := strings.Join(strings.Fields(query), " ")
	if utf8.RuneCountInString(t) <= titleFromQueryRunes {
		return t
	}
	r := []rune(t)
	return strings.TrimSpace(string(r[:titleFromQueryRunes])) + "..."
}

// Export reads everything userID has stored, oldest conversation first,
// without holding more than a page of it: conversation is called for each
// conversation, then messages for each page of its messages (oldest
// first, none for an empty one). A conversation deleted meanwhile ends
// early.
func (s *Service) Export(ctx context.Context, userID string, conversation func(store.Conversation) error, messages func([]store.Message) error) error {
	var convs []store.Conversation
	var after *store.ConversationCursor
	for {
		page, err := s.store.ListConversations(ctx, userID, MaxPageSize, after)
		if err != nil {
			return storeErr("export conversations", err)
		}
		convs = append(convs, page...)
		if len(page) < MaxPageSize {
			break
		}
		last := page[len(page)-1]
		after = &store.ConversationCursor{UpdatedAt: last.UpdatedAt, ID: last.ID}
	}
	for i := len(convs) - 1; i >= 0; i-- {
		c := convs[i]
		if err := conversation(c); err != nil {
			return err
		}
		var seq int64
		for {
			page, err := s.store.ListMessages(ctx, userID, c.ID, seq, MaxPageSize)
			if errors.Is(err, store.ErrNotFound) {
				break // deleted while exporting
			}
			if err != nil {
				return storeErr("export messages", err)
			}
			if len(page) > 0 {
				if err := messages(page); err != nil {
					return err
				}
			}
			if len(page) < MaxPageSize {
				break
			}
			seq = page[len(page)-1].Seq
		}
	}
	return nil
}
