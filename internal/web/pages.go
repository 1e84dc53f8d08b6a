package web

import (
	"bytes"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/lectern/lectern/internal/book"
	"github.com/lectern/lectern/internal/library"
)

// navItem is an entry of the sidebar.
type navItem struct {
	Label    string
	URL      string // "" for a category without a page
	Current  bool
	External bool // a link to another site (a sidebar's link item)
	Open     bool // the current page is inside
	Children []navItem
}

// Layout is what every page's frame needs: the header, the sidebar, and
// the data attributes the scripts read from <body>.
type Layout struct {
	Static    string // where the static files are: /static/v/<version>
	BookTitle string
	Lang      string // the book's language, for <html lang>
	Title     string
	Nav       []navItem
	Query     string
	View      string // login, signup, forgot, reset, account, insights, home, page, search, message
	APIBase   string
	AuthBase  string
	PageURL   string // the book page shown, for the assistant's current_page
	Next      string // where to go after signing in: a local path
}

// lang is the language of the pages: the book's, once it is loaded.
func (s *Server) lang() string {
	if l := s.lib.Language(); l != "" && l != "und" {
		return l
	}
	return "en"
}

// BookView reports whether the page shows the book, and so the reading
// assistant: the scripts start the assistant where the page has its panel.
func (l Layout) BookView() bool { return l.View == "home" || l.View == "page" || l.View == "search" }

// AssistantView reports whether the page has the reading assistant: the
// book's pages, and the reader's account page (a reader may ask from any
// page that is theirs to read).
func (l Layout) AssistantView() bool { return l.BookView() || l.View == "account" }

// AccountView reports whether the page is one of the account's (a form in a
// single column, without the book's contents).
func (l Layout) AccountView() bool {
	switch l.View {
	case "login", "signup", "forgot", "reset", "account":
		return true
	}
	return false
}

// Single reports whether the page is one column, without the book's
// contents: the account's pages and the owners' insights.
func (l Layout) Single() bool { return l.AccountView() || l.View == "insights" }

// layout fills the frame of a page.
func (s *Server) layout(view, title, current string) Layout {
	return Layout{Static: s.staticBase, BookTitle: s.lib.Title(), Lang: s.lang(), Title: title, Nav: s.nav(current), View: view,
		APIBase: s.opt.APIBase, AuthBase: s.opt.AuthBase}
}

type pageView struct {
	Layout
	Page     *library.Page
	ShowH1   bool
	Chapter  string
	Prev     *library.Page
	Next     *library.Page
	Sections int
}

type homeView struct {
	Layout
	First *library.Page
	Pages int
	Words int
}

type searchView struct {
	Layout
	Result   library.Result
	Searched bool
}

func (s *Server) nav(current string) []navItem {
	var build func(nodes []*book.TOCNode) ([]navItem, bool)
	build = func(nodes []*book.TOCNode) ([]navItem, bool) {
		items := make([]navItem, 0, len(nodes))
		anyOpen := false
		for _, n := range nodes {
			it := navItem{Label: n.Label}
			switch {
			case n.Slug != nil:
				it.URL = book.DocURL(*n.Slug)
				it.Current = *n.Slug == current
			case n.Href != "":
				it.URL, it.External = n.Href, true
			}
			it.Children, it.Open = build(n.Children)
			it.Open = it.Open || it.Current
			anyOpen = anyOpen || it.Open
			items = append(items, it)
		}
		return items, anyOpen
	}
	items, _ := build(s.lib.Contents())
	return items
}

func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name string, data any) {
	var buf bytes.Buffer
	if err := s.tmpl.ExecuteTemplate(&buf, name, data); err != nil {
		s.log.ErrorContext(r.Context(), "render page", "template", name, "err", err)
		http.Error(w, "Internal Server Error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", s.csp)
	if h.Get("Cache-Control") == "" {
		h.Set("Cache-Control", "no-cache")
	}
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

func (s *Server) unavailable(w http.ResponseWriter, r *http.Request) bool {
	if s.lib.Ready() {
		return false
	}
	w.Header().Set("Retry-After", "5")
	s.render(w, r, http.StatusServiceUnavailable, "message.html", struct {
		Layout
		Heading, Text string
	}{Layout{Title: "Starting", Lang: "en", View: "message"}, "The book is being prepared", "Please try again in a moment."})
	return true
}

func (s *Server) home(w http.ResponseWriter, r *http.Request) {
	if s.unavailable(w, r) {
		return
	}
	pages := s.lib.Pages()
	v := homeView{Layout: s.layout("home", s.lib.Title(), ""), Pages: len(pages)}
	if len(pages) > 0 {
		v.First = pages[0]
	}
	for _, p := range pages {
		v.Words += p.Words
	}
	s.render(w, r, http.StatusOK, "home.html", v)
}

func (s *Server) page(w http.ResponseWriter, r *http.Request) {
	if s.unavailable(w, r) {
		return
	}
	slug := strings.Trim(r.PathValue("slug"), "/")
	p, ok := s.lib.Page(slug)
	if !ok {
		if slug == "" && len(s.lib.Pages()) > 0 {
			http.Redirect(w, r, s.lib.Pages()[0].URL, http.StatusFound)
			return
		}
		s.notFound(w, r)
		return
	}
	if want, _ := url.PathUnescape(p.URL); r.URL.Path != want {
		// One URL per page: the canonical escaping of its slug.
		http.Redirect(w, r, p.URL, http.StatusMovedPermanently)
		return
	}
	v := pageView{
		Layout: s.layout("page", p.Title, p.Slug),
		Page:   p, Prev: p.Prev, Next: p.Next, Chapter: p.Chapter,
		ShowH1: !strings.Contains(p.HTML, "<h1"),
	}
	v.PageURL = p.URL
	s.render(w, r, http.StatusOK, "page.html", v)
}

func (s *Server) searchPage(w http.ResponseWriter, r *http.Request) {
	if s.unavailable(w, r) {
		return
	}
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	v := searchView{Layout: s.layout("search", "Search", "")}
	v.Query = q
	if q != "" && len(q) <= maxQueryBytes {
		res, err := s.lib.Search(r.Context(), library.Query{Text: q, K: 10})
		if err != nil {
			s.log.ErrorContext(r.Context(), "search", "err", err)
		}
		v.Result, v.Searched = res, err == nil
	}
	s.render(w, r, http.StatusOK, "search.html", v)
}

func (s *Server) notFound(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusNotFound, "message.html", struct {
		Layout
		Heading, Text string
	}{s.layout("message", "Not found", ""), "Page not found", "There is no page at this address."})
}

// versionedStatic serves the static files under this build's version for
// good. A page of an earlier build may still ask for its version: it gets
// today's file, revalidated each time.
func (s *Server) versionedStatic() http.Handler {
	h := http.StripPrefix(s.staticBase+"/", s.static)
	old := http.StripPrefix("/static/v/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, rest, _ := strings.Cut(r.URL.Path, "/")
		r.URL.Path = rest
		s.static.ServeHTTP(w, r)
	}))
	return crossOrigin(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if "/static/v/"+r.PathValue("version") == s.staticBase {
			w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
			h.ServeHTTP(w, r)
			return
		}
		w.Header().Set("Cache-Control", "no-cache")
		old.ServeHTTP(w, r)
	}))
}

// widgetScript serves widget.js, the one script another site names (so
// its URL never changes), pointing at this build's versioned files.
func (s *Server) widgetScript(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "text/javascript; charset=utf-8")
	h.Set("Cache-Control", "public, max-age=300")
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Cross-Origin-Resource-Policy", "cross-origin")
	w.Write(s.widget)
}

// crossOrigin lets any origin load the static files: the embeddable widget
// loads its modules and style sheet from this server onto other sites'
// pages, and a cross-origin module script needs CORS. The files are public
// and carry no credentials.
func crossOrigin(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Access-Control-Allow-Origin", "*")
		w.Header().Set("Cross-Origin-Resource-Policy", "cross-origin")
		h.ServeHTTP(w, r)
	})
}

// cacheStatic serves the static files at their unversioned URLs, with an
// hour of caching, to any origin.
func cacheStatic(h http.Handler) http.Handler {
	return crossOrigin(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		h.ServeHTTP(w, r)
	}))
}

// accountViews are the account pages: their template and title.
var accountViews = map[string][2]string{
	"login":   {"login.html", "Sign in"},
	"signup":  {"signup.html", "Create an account"},
	"forgot":  {"forgot.html", "Forgot password"},
	"reset":   {"reset.html", "Choose a new password"},
	"account": {"account.html", "Your account"},
}

// accountPage renders one of the account pages. The forms work through the
// identity API from the page's script; the server only provides the frame
// and where to go afterwards.
func (s *Server) accountPage(view string) http.HandlerFunc {
	tv := accountViews[view]
	return func(w http.ResponseWriter, r *http.Request) {
		l := s.layout(view, tv[1], "")
		l.Next = s.nextURL(r.URL.Query().Get("next"))
		w.Header().Set("Referrer-Policy", "no-referrer") // the reset page's URL carries its token
		s.render(w, r, http.StatusOK, tv[0], struct {
			Layout
			OwnersSeeQuestions bool
		}{l, s.opt.OwnersSeeQuestions})
	}
}

// nextURL is where to send a reader after signing in: a path on this
// site, or a page of a site that shows the widget (Options.ReturnOrigins)
// in full, so that a reader who signed in from the widget returns to the
// page they were reading; "/" for anything else.
func (s *Server) nextURL(p string) string {
	if u, err := url.Parse(p); err == nil && u.Host != "" && !strings.ContainsAny(p, "\\ \t\r\n") {
		if (u.Scheme == "https" || u.Scheme == "http") && u.User == nil && slices.Contains(s.opt.ReturnOrigins, u.Scheme+"://"+u.Host) {
			return u.String()
		}
		return "/"
	}
	return localPath(p)
}

// localPath returns p when it is a path on this site ("/docs/x?y#z"), and
// "/" otherwise, so that ?next= cannot send a reader elsewhere.
func localPath(p string) string {
	u, err := url.Parse(p)
	if p == "" || err != nil || u.Scheme != "" || u.Host != "" || !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || strings.Contains(p, "\\") {
		return "/"
	}
	return p
}
