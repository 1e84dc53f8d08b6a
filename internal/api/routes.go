package api

import (
	_ "embed"
	"net/http"

	"github.com/lectern/lectern/internal/httpx"
	"github.com/lectern/lectern/internal/insights"
)

// openAPI describes every endpoint under /api/ but the identity service's,
// machine-readably; a test holds real responses of each to it.
//
//go:embed openapi.json
var openAPI []byte

// Handler returns every API route, each behind the guard but the public
// OpenAPI document. Unknown /api/ paths answer a JSON 404 (after
// authentication, so they reveal nothing to strangers). The guard sits inside the mux rather than around it so that
// the mux routes the request the server's middleware sees, and the access
// log and metrics name the route even of a request the guard refuses.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	handle := func(pattern string, h http.Handler) { mux.Handle(pattern, s.guard.Require(h)) }
	mux.Handle("GET /api/openapi.json", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "public, max-age=3600")
		w.Write(openAPI)
	}))
	handle("GET /api/users/me", s.handle(s.me))
	handle("GET /api/users/me/export", s.handle(s.export))
	handle("GET /api/conversations", s.handle(s.listConversations))
	handle("GET /api/conversations/{id}", s.handle(s.getConversation))
	handle("PATCH /api/conversations/{id}", s.handle(s.renameConversation))
	handle("DELETE /api/conversations/{id}", s.handle(s.deleteConversation))
	handle("GET /api/conversations/{id}/messages", s.handle(s.listMessages))
	handle("POST /api/conversations/{id}/messages", s.handle(s.postMessage))
	handle("POST /api/agents/run", s.handle(s.runAgent))
	handle("POST /api/agents/stream", s.handle(s.streamAgent))
	handle("POST /api/messages/{id}/feedback", s.handle(s.feedback))
	handle("GET /api/insights/volume", s.handle(s.insightsReport(insights.ViewVolume)))
	handle("GET /api/insights/not-covered", s.handle(s.insightsReport(insights.ViewNotCovered)))
	handle("GET /api/insights/rated-down", s.handle(s.insightsReport(insights.ViewRatedDown)))
	handle("GET /api/insights/pages", s.handle(s.insightsReport(insights.ViewPages)))
	handle("GET /api/insights/cited", s.handle(s.insightsReport(insights.ViewCited)))
	handle("/api/", httpx.Handle(func(w http.ResponseWriter, r *http.Request) error {
		return errNoEndpoint
	}))
	return mux
}
