package api

import (
	"errors"
	"net/http"
	"time"

	"github.com/lectern/lectern/internal/authn"
	"github.com/lectern/lectern/internal/chat"
	"github.com/lectern/lectern/internal/httpx"
	"github.com/lectern/lectern/internal/insights"
	"github.com/lectern/lectern/internal/store"
)

// errNoEndpoint answers an unknown route, and a reader who asks for the
// owners' insights: the two cannot be told apart.
var errNoEndpoint = httpx.Errorf(http.StatusNotFound, "NOT_FOUND", "No such endpoint")

// insightsErr turns a refusal of the insights into an unknown route.
func insightsErr(err error) error {
	if errors.Is(err, insights.ErrNotOwner) {
		return errNoEndpoint
	}
	return err
}

type dayVolumeJSON struct {
	Day       string `json:"day"`
	Questions int64  `json:"questions"`
	Readers   int64  `json:"readers"`
}

type agentVolumeJSON struct {
	Day        string `json:"day"`
	Agent      string `json:"agent"`
	Answered   int64  `json:"answered"`
	NotCovered int64  `json:"not_covered"`
}

// insightsVolume is GET /api/insights/volume?from=YYYY-MM-DD&to=YYYY-MM-DD:
// for the book's owners, the questions, readers and answers of each day
// (the last 30 days when no span is given).
func (s *Server) insightsVolume(w http.ResponseWriter, r *http.Request, p authn.Principal) error {
	in := s.opt.Insights
	if in == nil {
		return errNoEndpoint
	}
	sp, v, err := in.Volume(r.Context(), p.UserID, r.URL.Query().Get("from"), r.URL.Query().Get("to"))
	if err != nil {
		return insightsErr(err)
	}
	out := struct {
		From   string            `json:"from"`
		To     string            `json:"to"`
		Days   []dayVolumeJSON   `json:"days"`
		Agents []agentVolumeJSON `json:"agents"`
	}{From: sp.From.Format(time.DateOnly), To: sp.To.Add(-24 * time.Hour).Format(time.DateOnly),
		Days: []dayVolumeJSON{}, Agents: []agentVolumeJSON{}}
	for _, d := range v.Days {
		out.Days = append(out.Days, dayVolumeJSON{d.Day.Format(time.DateOnly), d.Questions, d.Readers})
	}
	for _, a := range v.Agents {
		out.Agents = append(out.Agents, agentVolumeJSON{a.Day.Format(time.DateOnly), a.Agent, a.Answered, a.NotCovered})
	}
	httpx.WriteJSON(w, http.StatusOK, out)
	return nil
}

type groupJSON struct {
	Terms     []string   `json:"terms"`
	Examples  []string   `json:"examples"`
	Count     int        `json:"count"`
	Readers   int        `json:"readers"`
	FirstSeen httpx.Time `json:"first_seen"`
	LastSeen  httpx.Time `json:"last_seen"`
}

// insightsNotCovered is GET /api/insights/not-covered?from=&to=: for the
// book's owners, the questions the book did not answer in the span,
// grouped when they ask the same thing in other words.
func (s *Server) insightsNotCovered(w http.ResponseWriter, r *http.Request, p authn.Principal) error {
	in := s.opt.Insights
	if in == nil {
		return errNoEndpoint
	}
	sp, groups, err := in.NotCovered(r.Context(), p.UserID, r.URL.Query().Get("from"), r.URL.Query().Get("to"))
	if err != nil {
		return insightsErr(err)
	}
	out := struct {
		From   string      `json:"from"`
		To     string      `json:"to"`
		Groups []groupJSON `json:"groups"`
	}{From: sp.From.Format(time.DateOnly), To: sp.To.Add(-24 * time.Hour).Format(time.DateOnly), Groups: []groupJSON{}}
	for _, g := range groups {
		if g.Terms == nil {
			g.Terms = []string{}
		}
		out.Groups = append(out.Groups, groupJSON{Terms: g.Terms, Examples: g.Examples, Count: g.Count, Readers: g.Readers,
			FirstSeen: httpx.Time(g.FirstSeen), LastSeen: httpx.Time(g.LastSeen)})
	}
	httpx.WriteJSON(w, http.StatusOK, out)
	return nil
}

type ratedJSON struct {
	Question string       `json:"question"`
	Answer   string       `json:"answer"`
	Sources  []sourceJSON `json:"sources"`
	Comment  string       `json:"comment"`
	RatedAt  httpx.Time   `json:"rated_at"`
}

// insightsRatedDown is GET /api/insights/rated-down?from=&to=: for the
// book's owners, the answers readers rated down, with their questions and
// sources, the most recently rated first.
func (s *Server) insightsRatedDown(w http.ResponseWriter, r *http.Request, p authn.Principal) error {
	in := s.opt.Insights
	if in == nil {
		return errNoEndpoint
	}
	sp, rated, err := in.RatedDown(r.Context(), p.UserID, r.URL.Query().Get("from"), r.URL.Query().Get("to"))
	if err != nil {
		return insightsErr(err)
	}
	out := struct {
		From    string      `json:"from"`
		To      string      `json:"to"`
		Answers []ratedJSON `json:"answers"`
	}{From: sp.From.Format(time.DateOnly), To: sp.To.Add(-24 * time.Hour).Format(time.DateOnly), Answers: []ratedJSON{}}
	for _, a := range rated {
		out.Answers = append(out.Answers, ratedJSON{Question: a.Question, Answer: a.Answer,
			Sources: toSourcesJSON(chat.SourcesOf(store.Message{Sources: a.Sources})), Comment: a.Comment, RatedAt: httpx.Time(a.RatedAt)})
	}
	httpx.WriteJSON(w, http.StatusOK, out)
	return nil
}

type pageCountJSON struct {
	Page      string `json:"page"`
	Questions int64  `json:"questions"`
	Readers   int64  `json:"readers"`
}

// insightsPages is GET /api/insights/pages?from=&to=: for the book's
// owners, the pages readers asked the most questions from.
func (s *Server) insightsPages(w http.ResponseWriter, r *http.Request, p authn.Principal) error {
	in := s.opt.Insights
	if in == nil {
		return errNoEndpoint
	}
	sp, pages, err := in.PagesAskedFrom(r.Context(), p.UserID, r.URL.Query().Get("from"), r.URL.Query().Get("to"))
	if err != nil {
		return insightsErr(err)
	}
	out := struct {
		From  string          `json:"from"`
		To    string          `json:"to"`
		Pages []pageCountJSON `json:"pages"`
	}{From: sp.From.Format(time.DateOnly), To: sp.To.Add(-24 * time.Hour).Format(time.DateOnly), Pages: []pageCountJSON{}}
	for _, pc := range pages {
		out.Pages = append(out.Pages, pageCountJSON(pc))
	}
	httpx.WriteJSON(w, http.StatusOK, out)
	return nil
}
