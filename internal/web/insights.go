package web

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/lectern/lectern/internal/fault"
	"github.com/lectern/lectern/internal/httpx"
	"github.com/lectern/lectern/internal/insights"
	"github.com/lectern/lectern/internal/store"
)

// Insights is what the owners' page needs of the insights: each view of a
// span, for an owner only (insights.ErrNotOwner for anyone else).
type Insights interface {
	Report(ctx context.Context, userID string, view insights.View, from, to string) (insights.Report, error)
}

// Sessions finds a signed-in reader's session by its token's hash.
type Sessions interface {
	SessionByTokenHash(ctx context.Context, hash []byte) (store.Session, error)
}

// sessionCookies are the names the identity service gives the session
// cookie, over HTTP and over HTTPS.
var sessionCookies = [...]string{"__Secure-better-auth.session_token", "better-auth.session_token"}

// viewer returns the user signed in with r's session cookie, or "". The
// cookie is "token.signature"; the signature needs the identity service's
// secret, which this server does not have, so the token alone is looked
// up: only the browser that holds a live session's token finds it.
func (s *Server) viewer(r *http.Request) (string, error) {
	for _, name := range sessionCookies {
		c, err := r.Cookie(name)
		if err != nil {
			continue
		}
		v, err := url.QueryUnescape(c.Value)
		if err != nil {
			return "", nil
		}
		token, _, ok := strings.Cut(v, ".")
		if !ok || token == "" || len(token) > 256 {
			return "", nil
		}
		h := sha256.Sum256([]byte(token))
		sess, err := s.opt.Sessions.SessionByTokenHash(r.Context(), h[:])
		if errors.Is(err, store.ErrNotFound) {
			return "", nil
		}
		if err != nil {
			return "", fmt.Errorf("look up the session: %w", err)
		}
		if !time.Now().Before(sess.ExpiresAt) {
			return "", nil
		}
		return sess.UserID, nil
	}
	return "", nil
}

// insightsView is the owners' page.
type insightsView struct {
	Layout
	Dates      insights.Dates
	Downloads  map[string]download // of the span shown
	Volume     *insights.VolumeReport
	Chart      chart
	Agents     []agentTotal
	NotCovered []insights.GroupRow // the most asked first, at most pageRows
	Pages      linkTable
	Sections   linkTable
	RatedDown  []ratedView // the most recent first, at most pageRows
	// How many groups and answers rated down the page leaves to the
	// downloads.
	MoreNotCovered, MoreRatedDown int
}

// pageRows is how many groups of questions not covered, and answers rated
// down, the page shows: the top of each list, which is what an owner reads
// there. The downloads hold them all (at a million questions the page held
// some 420 groups and 500 answers, 600 kB of HTML).
const pageRows = 50

// download is where a table of the page is downloaded.
type download struct{ CSV, JSON string }

// linkTable is the pages asked from, or the sections cited.
type linkTable struct {
	Head, Count string // the columns' headings
	Rows        []pageLink
}

type agentTotal struct {
	Agent                string
	Answered, NotCovered int64
}

// pageLink is a row of the pages asked from or the sections cited: a link
// into the book, with its counts.
type pageLink struct {
	URL, Label     string
	Count, Readers int64
}

type ratedView struct {
	insights.RatedRow
	Sources []pageLink
}

// insightsPage is GET /insights: what readers ask, for the book's owners.
// A visitor who is not signed in is sent to sign in; a signed-in reader
// who is not an owner gets the page of an unknown address.
func (s *Server) insightsPage(w http.ResponseWriter, r *http.Request) {
	user, ok := s.insightsViewer(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	from, to := q.Get("from"), q.Get("to")
	// The views are read at once: the page takes as long as the slowest.
	reports := map[insights.View]insights.Report{}
	read := make([]insights.Report, len(insights.Views))
	errs := make([]error, len(insights.Views))
	var wg sync.WaitGroup
	for i, v := range insights.Views {
		wg.Go(func() { read[i], errs[i] = s.opt.Insights.Report(r.Context(), user, v, from, to) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		s.insightsFailed(w, r, err)
		return
	}
	for i, v := range insights.Views {
		reports[v] = read[i]
	}
	vol := reports[insights.ViewVolume].(*insights.VolumeReport)
	v := insightsView{
		Layout:    s.layout("insights", "Insights", ""),
		Dates:     vol.Dates,
		Downloads: map[string]download{},
		Volume:    vol,
		Pages:     linkTable{Head: "Page", Count: "Questions"},
		Sections:  linkTable{Head: "Section", Count: "Citations"},
	}
	span := url.Values{"from": {vol.From}, "to": {vol.To}}.Encode()
	for _, view := range insights.Views {
		v.Downloads[string(view)] = download{"/insights/" + string(view) + ".csv?" + span, "/insights/" + string(view) + ".json?" + span}
	}
	v.Chart, v.Agents = volumeChart(vol)
	groups := reports[insights.ViewNotCovered].(*insights.NotCoveredReport).Groups
	v.NotCovered, v.MoreNotCovered = groups[:min(len(groups), pageRows)], max(len(groups)-pageRows, 0)
	for _, p := range reports[insights.ViewPages].(*insights.PagesReport).Pages {
		v.Pages.Rows = append(v.Pages.Rows, pageLink{URL: localPath(p.Page), Label: s.pageLabel(p.Page, ""), Count: p.Questions, Readers: p.Readers})
	}
	for _, c := range reports[insights.ViewCited].(*insights.CitedReport).Sections {
		v.Sections.Rows = append(v.Sections.Rows, pageLink{URL: localPath(c.URL), Label: s.pageLabel(c.URL, c.Heading), Count: c.Citations, Readers: c.Readers})
	}
	rated := reports[insights.ViewRatedDown].(*insights.RatedDownReport).Answers
	v.MoreRatedDown = max(len(rated)-pageRows, 0)
	for _, a := range rated[:min(len(rated), pageRows)] {
		rv := ratedView{RatedRow: a}
		for _, c := range a.Cites() {
			rv.Sources = append(rv.Sources, pageLink{URL: localPath(c.URL), Label: s.pageLabel(c.URL, c.Heading)})
		}
		v.RatedDown = append(v.RatedDown, rv)
	}
	w.Header().Set("Cache-Control", "private, no-store")
	s.render(w, r, http.StatusOK, "insights.html", v)
}

// insightsDownload is GET /insights/{view}.csv and .json: one table of the
// owners' page, for a spreadsheet or a script.
func (s *Server) insightsDownload(w http.ResponseWriter, r *http.Request) {
	name, ext, _ := strings.Cut(r.PathValue("file"), ".")
	if ext != "csv" && ext != "json" {
		s.notFound(w, r)
		return
	}
	user, ok := s.insightsViewer(w, r)
	if !ok {
		return
	}
	rep, err := s.opt.Insights.Report(r.Context(), user, insights.View(name), r.URL.Query().Get("from"), r.URL.Query().Get("to"))
	if err != nil {
		s.insightsFailed(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Cache-Control", "private, no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s.%s"`, name, ext))
	if ext == "json" {
		httpx.WriteJSON(w, http.StatusOK, rep)
		return
	}
	h.Set("Content-Type", "text/csv; charset=utf-8")
	if err := rep.WriteCSV(w); err != nil {
		s.log.WarnContext(r.Context(), "write insights CSV", "err", err)
	}
}

// insightsViewer returns the signed-in user asking for the owners' pages.
// Without a session it sends the visitor to sign in (or answers an unknown
// address, when insights are off) and reports false.
func (s *Server) insightsViewer(w http.ResponseWriter, r *http.Request) (string, bool) {
	if s.opt.Insights == nil || s.opt.Sessions == nil {
		s.notFound(w, r)
		return "", false
	}
	user, err := s.viewer(r)
	if err != nil {
		s.log.ErrorContext(r.Context(), "owners' page", "err", err)
		s.failed(w, r)
		return "", false
	}
	if user == "" {
		http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
		return "", false
	}
	return user, true
}

// insightsFailed answers a report that could not be read: an unknown
// address to anyone but an owner, the reason for dates that cannot be
// read, and a failure page (logged) for the rest.
func (s *Server) insightsFailed(w http.ResponseWriter, r *http.Request, err error) {
	var fe *fault.Error
	switch {
	case errors.Is(err, insights.ErrNotOwner):
		s.notFound(w, r)
	case errors.As(err, &fe) && fe.Kind == fault.Invalid:
		s.render(w, r, http.StatusBadRequest, "message.html", struct {
			Layout
			Heading, Text string
		}{s.layout("message", "Insights", ""), "These dates cannot be shown", "The span asked for cannot be read (" + fe.Message + "). Dates are YYYY-MM-DD, the first not after the last, at most 366 days apart."})
	default:
		s.log.ErrorContext(r.Context(), "owners' page", "err", err)
		s.failed(w, r)
	}
}

func (s *Server) failed(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusInternalServerError, "message.html", struct {
		Layout
		Heading, Text string
	}{s.layout("message", "Error", ""), "Something went wrong", "Please try again in a moment."})
}

// pageLabel names the book's page at link (a path such as /docs/intro,
// with an optional #anchor) by its title, and the heading when there is
// one; the link itself when the book has no such page.
func (s *Server) pageLabel(link, heading string) string {
	path, _, _ := strings.Cut(link, "#")
	slug, err := url.PathUnescape(strings.TrimPrefix(path, "/docs/"))
	if p, ok := s.lib.Page(slug); ok && err == nil && strings.HasPrefix(path, "/docs/") {
		if heading != "" && heading != p.Title {
			return p.Title + " › " + heading
		}
		return p.Title
	}
	return link
}
