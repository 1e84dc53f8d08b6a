package api

import (
	"errors"
	"net/http"

	"github.com/lectern/lectern/internal/authn"
	"github.com/lectern/lectern/internal/httpx"
	"github.com/lectern/lectern/internal/insights"
)

// errNoEndpoint answers an unknown route, and a reader who asks for the
// owners' insights: the two cannot be told apart.
var errNoEndpoint = httpx.Errorf(http.StatusNotFound, "NOT_FOUND", "No such endpoint")

// insightsReport is GET /api/insights/{view}?from=YYYY-MM-DD&to=YYYY-MM-DD
// for the book's owners: one view of their readers' questions over a span
// of days (the last 30 when none is given). To anyone else, and when
// insights are off, the route does not exist.
func (s *Server) insightsReport(view insights.View) func(http.ResponseWriter, *http.Request, authn.Principal) error {
	return func(w http.ResponseWriter, r *http.Request, p authn.Principal) error {
		in := s.opt.Insights
		if in == nil {
			return errNoEndpoint
		}
		rep, err := in.Report(r.Context(), p.UserID, view, r.URL.Query().Get("from"), r.URL.Query().Get("to"))
		if errors.Is(err, insights.ErrNotOwner) {
			return errNoEndpoint
		}
		if err != nil {
			return err
		}
		httpx.WriteJSON(w, http.StatusOK, rep)
		return nil
	}
}
