package api

import (
	"net/http"
	"strconv"

	"github.com/lectern/lectern/internal/httpx"
)

// Handler returns every API route behind the guard. Unknown /api/ paths
// answer a JSON 404 (after authentication, so they reveal nothing to
// strangers).
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /api/users/me", s.handle(s.me))
	mux.Handle("GET /api/users/me/export", s.handle(s.export))
	mux.Handle("GET /api/conversations", s.handle(s.listConversations))
	mux.Handle("GET /api/conversations/{id}", s.handle(s.getConversation))
	mux.Handle("PATCH /api/conversations/{id}", s.handle(s.renameConversation))
	mux.Handle("DELETE /api/conversations/{id}", s.handle(s.deleteConversation))
	mux.Handle("GET /api/conversations/{id}/messages", s.handle(s.listMessages))
	mux.Handle("POST /api/conversations/{id}/messages", s.handle(s.postMessage))
	mux.Handle("POST /api/agents/run", s.handle(s.runAgent))
	mux.Handle("POST /api/agents/stream", s.handle(s.streamAgent))
	mux.Handle("POST /api/messages/{id}/feedback", s.handle(s.feedback))
	mux.Handle("/api/", httpx.Handle(func(w http.ResponseWriter, r *http.Request) error {
		return httpx.Errorf(http.StatusNotFound, "NOT_FOUND", "No such endpoint")
	}))
	return s.guard.Require(mux)
}

func itoa(n int) string { return strconv.Itoa(n) }
