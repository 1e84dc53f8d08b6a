package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/lectern/lectern/internal/authn"
	"github.com/lectern/lectern/internal/chat"
	"github.com/lectern/lectern/internal/fault"
	"github.com/lectern/lectern/internal/httpx"
	"github.com/lectern/lectern/internal/safehtml"
	"github.com/lectern/lectern/internal/store"
)

// runRequest is the seed's AgentRequest. Its retrieved_chunks field, which
// let clients forge the sources of an answer, is not read.
type runRequest struct {
	AgentType       string `json:"agent_type"`
	Query           string `json:"query"`
	CurrentPage     string `json:"current_page"`
	HighlightedText string `json:"highlighted_text"`
	SessionID       string `json:"session_id"`
}

// runResponse is the seed's AgentResponse, plus the conversation id
// (session_id), the stored answer's id and its rendered HTML.
type runResponse struct {
	Message     string       `json:"message"`
	MessageHTML string       `json:"message_html"`
	Sources     []sourceJSON `json:"sources"`
	AgentUsed   string       `json:"agent_used"`
	// Quoted is true when the answer quotes the book because no model is
	// configured; clients tell the reader once.
	Quoted    bool       `json:"quoted,omitempty"`
	Timestamp httpx.Time `json:"timestamp"`
	SessionID string     `json:"session_id"`
	MessageID string     `json:"message_id"`
}

// readRun decodes a run request and applies the per-user rate limit.
func (s *Server) readRun(r *http.Request, p authn.Principal) (chat.RunRequest, error) {
	var req runRequest
	if err := decode(r, &req); err != nil {
		return chat.RunRequest{}, err
	}
	if err := s.allow(r.Context(), "chat|"+p.UserID, "Too many questions; please wait a moment"); err != nil {
		return chat.RunRequest{}, err
	}
	return chat.RunRequest{AgentType: req.AgentType, Query: req.Query, CurrentPage: req.CurrentPage,
		HighlightedText: req.HighlightedText, SessionID: req.SessionID}, nil
}

// allow applies ChatRule to key, refusing with message when it is used up.
func (s *Server) allow(ctx context.Context, key, message string) error {
	if s.opt.ChatRule.Max <= 0 {
		return nil
	}
	ok, retry := s.limiter.Allow(ctx, s.opt.ChatRule, key)
	if ok {
		return nil
	}
	if s.opt.OnRateLimited != nil {
		s.opt.OnRateLimited()
	}
	return &fault.Error{Kind: fault.Limited, Code: "RATE_LIMITED", Message: message, RetryAfter: retry}
}

// renderAnswer is an answer's sanitized HTML, its [n] markers linked to the
// cited sections.
func (s *Server) renderAnswer(text string, sources []chat.Source) string {
	cites := make([]safehtml.Citation, len(sources))
	for i, src := range sources {
		title := src.Title
		if src.Heading != "" && src.Heading != src.Title {
			title += " › " + src.Heading
		}
		cites[i] = safehtml.Citation{URL: src.URL, Title: title}
	}
	return s.html.Render(text, cites)
}

func (s *Server) toRunResponse(res chat.RunResult) runResponse {
	return runResponse{Message: res.Answer.Content, MessageHTML: s.renderAnswer(res.Answer.Content, res.Sources), Sources: toSourcesJSON(res.Sources),
		AgentUsed: res.Agent, Quoted: res.Quoted, Timestamp: httpx.Time(res.Answer.CreatedAt), SessionID: res.Conversation.ID, MessageID: res.Answer.ID}
}

// errShuttingDown is the cause of the contexts of answers stopped by Drain.
var errShuttingDown = errors.New("api: answer stopped: the server is shutting down")

// Drain prepares the answers in progress for a graceful shutdown that must
// be over within grace (http.Server.Shutdown waits for them). Answers run
// on, so that most finish, until a margin before grace runs out (a quarter
// of it, at most two seconds); then every answer still running stops: a
// stream ends with an "error" event of code SHUTTING_DOWN, and POST
// /api/agents/run answers 503 SHUTTING_DOWN with Retry-After. The question
// stays stored and no partial answer is, so asking again (with the
// session_id) answers it. A question that comes after that point is refused
// the same way. Drain returns at once; only its first call counts.
func (s *Server) Drain(grace time.Duration) {
	s.drainOnce.Do(func() {
		time.AfterFunc(grace-drainMargin(grace), func() { s.stop(errShuttingDown) })
	})
}

// drainMargin is the part of a shutdown's grace period kept for stopped
// answers to say so and for the server to close.
func drainMargin(grace time.Duration) time.Duration { return min(grace/4, 2*time.Second) }

// answerContext is r's context, also ended (cause errShuttingDown) when
// Drain stops the answers in progress. Call the returned function when done.
func (s *Server) answerContext(r *http.Request) (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(r.Context())
	if s.stopping.Err() != nil {
		// Past the cut-off: end it now, not when AfterFunc's goroutine runs.
		cancel(errShuttingDown)
		return ctx, func() {}
	}
	stop := context.AfterFunc(s.stopping, func() { cancel(errShuttingDown) })
	return ctx, func() { stop(); cancel(nil) }
}

// shutdownError is the answer to a request whose answer Drain stopped, if
// it did; otherwise nil.
func shutdownError(ctx context.Context, err error) *httpx.Error {
	if !errors.Is(context.Cause(ctx), errShuttingDown) {
		return nil
	}
	return &httpx.Error{Status: http.StatusServiceUnavailable, Code: "SHUTTING_DOWN",
		Message: "The server is restarting; please ask again in a moment", Err: err,
		Header: http.Header{"Retry-After": {"5"}}}
}

// runAgent answers a question in one response: POST /api/agents/run.
func (s *Server) runAgent(w http.ResponseWriter, r *http.Request, p authn.Principal) error {
	ctx, turn, end, err := s.ask(r, p)
	if err != nil {
		return err
	}
	defer end()
	res, err := s.chat.Answer(ctx, turn, nil)
	if err != nil {
		if he := shutdownError(ctx, err); he != nil && r.Context().Err() == nil {
			return he
		}
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, s.toRunResponse(res))
	return nil
}

// ask reads a question, takes a place among the answers being written,
// and stores the question (chat.Ask). The returned context ends with the
// request or the server's drain; end releases the place and the context.
// An error here is an ordinary JSON response.
func (s *Server) ask(r *http.Request, p authn.Principal) (context.Context, *chat.Turn, func(), error) {
	req, err := s.readRun(r, p)
	if err != nil {
		return nil, nil, nil, err
	}
	release, err := s.startAnswer(r.Context())
	if err != nil {
		return nil, nil, nil, err
	}
	ctx, done := s.answerContext(r)
	end := func() { done(); release() }
	turn, err := s.chat.Ask(ctx, p.UserID, req)
	if err != nil {
		end()
		if he := shutdownError(ctx, err); he != nil && r.Context().Err() == nil {
			return nil, nil, nil, he
		}
		return nil, nil, nil, err
	}
	return ctx, turn, end, nil
}

// streamAgent answers a question as Server-Sent Events: POST
// /api/agents/stream. Events, in order: "start" (session_id, question_id)
// once the question is stored; "sources" (sources, agent_used); "delta"
// (text) as the answer is written; then "done" (the runResponse, with
// message_html) once the answer is stored, or "error" (message, code;
// SHUTTING_DOWN when the server stopped the answer to shut down: ask again).
// A request refused before the question is stored gets an ordinary JSON
// error response instead.
func (s *Server) streamAgent(w http.ResponseWriter, r *http.Request, p authn.Principal) error {
	ctx, turn, end, err := s.ask(r, p)
	if err != nil {
		return err // before the stream: an ordinary JSON error response
	}
	defer end()
	// Through the controller, so that middleware wrapping the writer
	// (access log, request id) does not hide its Flush.
	rc := http.NewResponseController(w)
	send := func(event string, v any) error {
		b, err := json.Marshal(v)
		if err != nil {
			return err
		}
		if err := writeWithin(w, rc, []byte("event: "+event+"\ndata: "), b, []byte("\n\n")); err != nil {
			return err
		}
		return rc.Flush()
	}
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no") // nginx: do not buffer the stream
	w.WriteHeader(http.StatusOK)
	if err := send("start", map[string]string{"session_id": turn.Conversation.ID, "question_id": turn.Question.ID}); err != nil {
		return nil // the reader went away
	}
	res, err := s.chat.Answer(ctx, turn, func(e chat.Event) error {
		if e.Sources != nil {
			ev := map[string]any{"sources": toSourcesJSON(e.Sources), "agent_used": e.Agent}
			if e.Quoted {
				ev["quoted"] = true
			}
			return send("sources", ev)
		}
		return send("delta", map[string]string{"text": e.Delta})
	})
	if err != nil {
		if r.Context().Err() != nil {
			return nil // the reader went away; nothing to tell them
		}
		he := shutdownError(ctx, err)
		if he != nil {
			httpx.Logger(r.Context()).Info("answer stopped for shutdown; the reader was told to ask again")
		} else {
			he = publicError(r, err)
		}
		return send("error", map[string]string{"message": he.Message, "code": he.Code})
	}
	return send("done", s.toRunResponse(res))
}

// publicError is what a client may see of err, logged like the handler
// errors are.
func publicError(r *http.Request, err error) *httpx.Error {
	he := httpx.Public(err)
	httpx.Logger(r.Context()).Warn("answer failed mid-stream", "code", he.Code, "err", err)
	return he
}

// feedback records the reader's rating of an answer: POST
// /api/messages/{id}/feedback with {"rating": "up"|"down", "comment"?}.
func (s *Server) feedback(w http.ResponseWriter, r *http.Request, p authn.Principal) error {
	var req struct {
		Rating  *string `json:"rating"`
		Comment string  `json:"comment"`
	}
	if err := decode(r, &req); err != nil {
		return err
	}
	if req.Rating == nil {
		return httpx.Errorf(http.StatusBadRequest, "VALIDATION_ERROR", "rating: required (up or down)")
	}
	f, err := s.chat.Feedback(r.Context(), p.UserID, r.PathValue("id"), *req.Rating, req.Comment)
	if errors.Is(err, chat.ErrNotFound) {
		return errMessageNotFound
	}
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"message_id": f.MessageID, "rating": f.Rating, "comment": f.Comment,
		"updated_at": httpx.Time(f.UpdatedAt)})
	return nil
}

var errMessageNotFound = httpx.Errorf(http.StatusNotFound, "NOT_FOUND", "Message not found")

// writeTimeout bounds each write of a long response (an export, an
// answer's stream): a client that stops reading is let go then, instead of
// pinning its response's memory for as long as it likes.
const writeTimeout = 30 * time.Second

// maxExports bounds the exports written at once; beyond it an export gets
// 503 BUSY with Retry-After.
const maxExports = 2

// writeWithin writes parts to w, giving up after writeTimeout.
func writeWithin(w http.ResponseWriter, rc *http.ResponseController, parts ...[]byte) error {
	if err := rc.SetWriteDeadline(time.Now().Add(writeTimeout)); err != nil && !errors.Is(err, http.ErrNotSupported) {
		return err
	}
	for _, b := range parts {
		if _, err := w.Write(b); err != nil {
			return err
		}
	}
	return nil
}

// export answers everything the reader has stored, as one JSON document to
// download: GET /api/users/me/export. It is written as it is read, a page
// of messages at a time, so that its memory does not grow with the
// reader's history; each write gives up after writeTimeout, and at most
// maxExports are written at once.
func (s *Server) export(w http.ResponseWriter, r *http.Request, p authn.Principal) error {
	select {
	case s.exporting <- struct{}{}:
		defer func() { <-s.exporting }()
	default:
		return errBusy
	}
	head, err := json.Marshal(map[string]any{"user_id": p.UserID, "email": p.Email, "name": p.Name,
		"exported_at": httpx.Time(s.opt.Now())})
	if err != nil {
		return err
	}
	rc := http.NewResponseController(w)
	started, convs, msgs := false, 0, 0
	start := func() error {
		h := w.Header()
		h.Set("Content-Type", "application/json")
		h.Set("Content-Disposition", `attachment; filename="lectern-export.json"`)
		h.Set("Cache-Control", "no-store")
		started = true
		return writeWithin(w, rc, []byte(`{"user":`), head, []byte(`,"conversations":[`))
	}
	conversation := func(c store.Conversation) error {
		b, err := json.Marshal(toConversationJSON(c))
		if err != nil {
			return err
		}
		sep := []byte("]},")
		if !started {
			if err := start(); err != nil {
				return err
			}
			sep = nil
		}
		convs, msgs = convs+1, 0
		// The conversation's fields, then its messages as they come.
		return writeWithin(w, rc, sep, b[:len(b)-1], []byte(`,"messages":[`))
	}
	messages := func(page []store.Message) error {
		var buf []byte
		for _, m := range page {
			b, err := json.Marshal(messageData(m)) // the data: no rendered HTML
			if err != nil {
				return err
			}
			if msgs > 0 {
				buf = append(buf, ',')
			}
			buf = append(buf, b...)
			msgs++
		}
		return writeWithin(w, rc, buf)
	}
	err = s.chat.Export(r.Context(), p.UserID, conversation, messages)
	switch {
	case err != nil && !started:
		return err // nothing sent yet: an ordinary error response
	case err != nil:
		// The status is sent; an incomplete document is the only signal
		// left, and the client's JSON parser will see it.
		httpx.Logger(r.Context()).Error("export failed midway", "err", err)
		return nil
	case !started:
		if err := start(); err != nil {
			return nil
		}
	}
	end := []byte("]}")
	if convs > 0 {
		end = []byte("]}]}")
	}
	writeWithin(w, rc, end)
	return nil
}
