package api

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"

	"github.com/lectern/lectern/internal/authn"
	"github.com/lectern/lectern/internal/chat"
	"github.com/lectern/lectern/internal/httpx"
	"github.com/lectern/lectern/internal/store"
)

type conversationJSON struct {
	ID           string     `json:"id"`
	UserID       string     `json:"user_id"`
	Title        string     `json:"title"`
	CreatedAt    httpx.Time `json:"created_at"`
	UpdatedAt    httpx.Time `json:"updated_at"`
	MessageCount int64      `json:"message_count"`
}

func toConversationJSON(c store.Conversation) conversationJSON {
	return conversationJSON{ID: c.ID, UserID: c.UserID, Title: c.Title, CreatedAt: httpx.Time(c.CreatedAt),
		UpdatedAt: httpx.Time(c.UpdatedAt), MessageCount: c.MessageCount}
}

type messageJSON struct {
	ID             string       `json:"id"`
	ConversationID string       `json:"conversation_id"`
	UserID         string       `json:"user_id"`
	Seq            int64        `json:"seq"`
	Role           string       `json:"role"`
	Content        string       `json:"content"`
	Sources        []sourceJSON `json:"sources"`
	AgentType      *string      `json:"agent_type"`
	ParentID       *string      `json:"parent_id"`
	// Page is, for a question, the page of the book it was asked from;
	// null when none.
	Page      *string    `json:"page"`
	Timestamp httpx.Time `json:"timestamp"`
	// ContentHTML is an assistant message rendered and sanitized, with its
	// citations linked; null for the reader's own messages.
	ContentHTML *string `json:"content_html"`
	// Rating is the reader's feedback on an assistant message: "up",
	// "down", or null.
	Rating *string `json:"rating"`
}

// sourceJSON is a cited section as the API sends it (the seed's shape).
type sourceJSON struct {
	Slug          string  `json:"slug"`
	Title         string  `json:"title,omitempty"`
	Heading       string  `json:"heading,omitempty"`
	URL           string  `json:"url,omitempty"`
	ChapterNumber *int    `json:"chapter_number"`
	PageNumber    *int    `json:"page_number"`
	Snippet       string  `json:"snippet"`
	Score         float64 `json:"score,omitempty"`
}

// toSourcesJSON returns sources for the wire: never null.
func toSourcesJSON(sources []chat.Source) []sourceJSON {
	out := make([]sourceJSON, len(sources))
	for i, s := range sources {
		out[i] = sourceJSON(s)
	}
	return out
}

// messageData is a message as the API sends it, without its rendering.
func messageData(m store.Message) messageJSON {
	out := messageJSON{ID: m.ID, ConversationID: m.ConversationID, UserID: m.UserID, Seq: m.Seq, Role: m.Role,
		Content: m.Content, Sources: toSourcesJSON(chat.SourcesOf(m)), Timestamp: httpx.Time(m.CreatedAt)}
	if m.AgentType != "" {
		out.AgentType = &m.AgentType
	}
	if m.ParentID != "" {
		out.ParentID = &m.ParentID
	}
	if m.Page != "" {
		out.Page = &m.Page
	}
	if m.Rating != "" {
		out.Rating = &m.Rating
	}
	return out
}

// toMessageJSON is messageData with an answer's sanitized HTML, its
// citations linked.
func (s *Server) toMessageJSON(m store.Message) messageJSON {
	out := messageData(m)
	if m.Role == store.RoleAssistant {
		sum := s.renders.sum(m.Content, m.Sources)
		h, ok := s.renders.get(m.ID, sum)
		if !ok {
			h = s.renderAnswer(m.Content, chat.SourcesOf(m))
			s.renders.put(m.ID, sum, h)
		}
		out.ContentHTML = &h
	}
	return out
}

// decode reads a JSON object body into dst; unknown fields are ignored.
func decode(r *http.Request, dst any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		if mt, _, _ := mime.ParseMediaType(ct); mt != "application/json" {
			return httpx.Errorf(http.StatusUnsupportedMediaType, "UNSUPPORTED_MEDIA_TYPE", "Content-Type must be application/json")
		}
	}
	err := json.NewDecoder(r.Body).Decode(dst)
	var te *json.UnmarshalTypeError
	var mbe *http.MaxBytesError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &mbe):
		return err
	case errors.Is(err, io.EOF):
		return httpx.Errorf(http.StatusBadRequest, "BAD_REQUEST", "Request body must be a JSON object")
	case errors.As(err, &te):
		field := te.Field
		if field == "" {
			field = "body"
		}
		return httpx.Errorf(http.StatusBadRequest, "VALIDATION_ERROR", field+": wrong type ("+te.Value+")")
	}
	return httpx.Errorf(http.StatusBadRequest, "BAD_REQUEST", "Invalid JSON in request body")
}

func (s *Server) me(w http.ResponseWriter, r *http.Request, p authn.Principal) error {
	httpx.WriteJSON(w, http.StatusOK, struct {
		UserID        string  `json:"user_id"`
		Email         string  `json:"email"`
		Name          string  `json:"name"`
		Image         *string `json:"image"`
		EmailVerified bool    `json:"email_verified"`
		Message       string  `json:"message"`
	}{p.UserID, p.Email, p.Name, p.Image, p.EmailVerified, "User authenticated successfully"})
	return nil
}

func (s *Server) listConversations(w http.ResponseWriter, r *http.Request, p authn.Principal) error {
	limit, err := parseLimit(r)
	if err != nil {
		return err
	}
	after, err := decodeConvCursor(r.URL.Query().Get("cursor"))
	if err != nil {
		return err
	}
	list, next, err := s.chat.Conversations(r.Context(), p.UserID, limit, after)
	if err != nil {
		return err
	}
	out := make([]conversationJSON, len(list))
	for i, c := range list {
		out[i] = toConversationJSON(c)
	}
	httpx.WriteJSON(w, http.StatusOK, struct {
		Conversations []conversationJSON `json:"conversations"`
		NextCursor    *string            `json:"next_cursor"`
	}{out, encodeConvCursor(next)})
	return nil
}

func (s *Server) getConversation(w http.ResponseWriter, r *http.Request, p authn.Principal) error {
	c, err := s.chat.Conversation(r.Context(), p.UserID, r.PathValue("id"))
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, toConversationJSON(c))
	return nil
}

func (s *Server) renameConversation(w http.ResponseWriter, r *http.Request, p authn.Principal) error {
	var req struct {
		Title *string `json:"title"`
	}
	if err := decode(r, &req); err != nil {
		return err
	}
	if req.Title == nil {
		return httpx.Errorf(http.StatusBadRequest, "VALIDATION_ERROR", "title: required")
	}
	c, err := s.chat.Rename(r.Context(), p.UserID, r.PathValue("id"), *req.Title)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, toConversationJSON(c))
	return nil
}

func (s *Server) deleteConversation(w http.ResponseWriter, r *http.Request, p authn.Principal) error {
	if err := s.chat.Delete(r.Context(), p.UserID, r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) listMessages(w http.ResponseWriter, r *http.Request, p authn.Principal) error {
	limit, err := parseLimit(r)
	if err != nil {
		return err
	}
	after, err := decodeSeqCursor(r.URL.Query().Get("cursor"))
	if err != nil {
		return err
	}
	list, next, err := s.chat.Messages(r.Context(), p.UserID, r.PathValue("id"), after, limit)
	if err != nil {
		return err
	}
	out := make([]messageJSON, len(list))
	for i, m := range list {
		out[i] = s.toMessageJSON(m)
	}
	httpx.WriteJSON(w, http.StatusOK, struct {
		Messages   []messageJSON `json:"messages"`
		NextCursor *string       `json:"next_cursor"`
	}{out, encodeSeqCursor(next)})
	return nil
}

func (s *Server) postMessage(w http.ResponseWriter, r *http.Request, p authn.Principal) error {
	var req struct {
		Role    *string         `json:"role"`
		Content *string         `json:"content"`
		Sources json.RawMessage `json:"sources"`
	}
	if err := decode(r, &req); err != nil {
		return err
	}
	if req.Role != nil && *req.Role != store.RoleUser {
		return httpx.Errorf(http.StatusBadRequest, "VALIDATION_ERROR", "role: clients can only write user messages")
	}
	if s := string(req.Sources); s != "" && s != "null" && s != "[]" {
		return httpx.Errorf(http.StatusBadRequest, "VALIDATION_ERROR", "sources: clients cannot write sources")
	}
	if req.Content == nil {
		return httpx.Errorf(http.StatusBadRequest, "VALIDATION_ERROR", "content: required")
	}
	// Notes are limited like questions (a count of their own), so that one
	// account cannot fill the database at network speed.
	if err := s.allow(r.Context(), "note|"+p.UserID, "Too many notes; please wait a moment"); err != nil {
		return err
	}
	m, err := s.chat.AddUserMessage(r.Context(), p.UserID, r.PathValue("id"), *req.Content)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusCreated, s.toMessageJSON(m))
	return nil
}
