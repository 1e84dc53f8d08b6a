package api

import (
	"context"
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

// spanJSON is the span of days an insights response covers, both days
// included.
type spanJSON struct {
	From string `json:"from"`
	To   string `json:"to"`
}

// serveInsights is the handler of one owners' view: read asks the
// insights service (which refuses anyone but an owner) for the span of
// the request's from and to, and body turns what it read into the
// response.
func serveInsights[T any](s *Server, read func(in *insights.Service, ctx context.Context, userID, from, to string) (insights.Span, T, error),
	body func(spanJSON, T) any) func(http.ResponseWriter, *http.Request, authn.Principal) error {
	return func(w http.ResponseWriter, r *http.Request, p authn.Principal) error {
		in := s.opt.Insights
		if in == nil {
			return errNoEndpoint
		}
		sp, v, err := read(in, r.Context(), p.UserID, r.URL.Query().Get("from"), r.URL.Query().Get("to"))
		if err != nil {
			return insightsErr(err)
		}
		httpx.WriteJSON(w, http.StatusOK, body(spanJSON{sp.From.Format(time.DateOnly), sp.To.Add(-24 * time.Hour).Format(time.DateOnly)}, v))
		return nil
	}
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
	return serveInsights(s, (*insights.Service).Volume, func(sp spanJSON, v store.Volume) any {
		out := struct {
			spanJSON
			Days   []dayVolumeJSON   `json:"days"`
			Agents []agentVolumeJSON `json:"agents"`
		}{sp, []dayVolumeJSON{}, []agentVolumeJSON{}}
		for _, d := range v.Days {
			out.Days = append(out.Days, dayVolumeJSON{d.Day.Format(time.DateOnly), d.Questions, d.Readers})
		}
		for _, a := range v.Agents {
			out.Agents = append(out.Agents, agentVolumeJSON{a.Day.Format(time.DateOnly), a.Agent, a.Answered, a.NotCovered})
		}
		return out
	})(w, r, p)
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
	return serveInsights(s, (*insights.Service).NotCovered, func(sp spanJSON, groups []insights.Group) any {
		out := struct {
			spanJSON
			Groups []groupJSON `json:"groups"`
		}{sp, []groupJSON{}}
		for _, g := range groups {
			if g.Terms == nil {
				g.Terms = []string{}
			}
			out.Groups = append(out.Groups, groupJSON{Terms: g.Terms, Examples: g.Examples, Count: g.Count, Readers: g.Readers,
				FirstSeen: httpx.Time(g.FirstSeen), LastSeen: httpx.Time(g.LastSeen)})
		}
		return out
	})(w, r, p)
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
	return serveInsights(s, (*insights.Service).RatedDown, func(sp spanJSON, rated []store.RatedAnswer) any {
		out := struct {
			spanJSON
			Answers []ratedJSON `json:"answers"`
		}{sp, []ratedJSON{}}
		for _, a := range rated {
			out.Answers = append(out.Answers, ratedJSON{Question: a.Question, Answer: a.Answer,
				Sources: toSourcesJSON(chat.SourcesOf(store.Message{Sources: a.Sources})), Comment: a.Comment, RatedAt: httpx.Time(a.RatedAt)})
		}
		return out
	})(w, r, p)
}

type pageCountJSON struct {
	Page      string `json:"page"`
	Questions int64  `json:"questions"`
	Readers   int64  `json:"readers"`
}

// insightsPages is GET /api/insights/pages?from=&to=: for the book's
// owners, the pages readers asked the most questions from.
func (s *Server) insightsPages(w http.ResponseWriter, r *http.Request, p authn.Principal) error {
	return serveInsights(s, (*insights.Service).PagesAskedFrom, func(sp spanJSON, pages []store.PageCount) any {
		out := struct {
			spanJSON
			Pages []pageCountJSON `json:"pages"`
		}{sp, []pageCountJSON{}}
		for _, pc := range pages {
			out.Pages = append(out.Pages, pageCountJSON(pc))
		}
		return out
	})(w, r, p)
}
