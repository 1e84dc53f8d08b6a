package web

import (
	"bytes"
	"net/http"
	"net/url"
	"strings"

	"github.com/lectern/lectern/internal/book"
	"github.com/lectern/lectern/internal/library"
)

// navItem is an entry of the sidebar.
type navItem struct {
	Label    string
	URL      string // "" for a category without a page
	Current  bool
	Open     bool // the current page is inside
	Children []navItem
}

type Layout struct {
	BookTitle string
	Title     string
	Nav       []navItem
	Query     string
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
			if n.Slug != nil {
				it.URL = book.DocURL(*n.Slug)
				it.Current = *n.Slug == current
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
	h.Set("Content-Security-Policy", pageCSP)
	h.Set("Cache-Control", "no-cache")
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
	}{Layout{Title: "Starting"}, "The book is being prepared", "Please try again in a moment."})
	return true
}

func (s *Server) home(w http.ResponseWriter, r *http.Request) {
	if s.unavailable(w, r) {
		return
	}
	pages := s.lib.Pages()
	v := homeView{Layout: Layout{BookTitle: s.lib.Title(), Title: s.lib.Title(), Nav: s.nav("")}, Pages: len(pages)}
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
		Layout: Layout{BookTitle: s.lib.Title(), Title: p.Title, Nav: s.nav(p.Slug)},
		Page:   p, Prev: p.Prev, Next: p.Next, Chapter: p.Chapter,
		ShowH1: !strings.Contains(p.HTML, "<h1"),
	}
	s.render(w, r, http.StatusOK, "page.html", v)
}

func (s *Server) searchPage(w http.ResponseWriter, r *http.Request) {
	if s.unavailable(w, r) {
		return
	}
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	v := searchView{Layout: Layout{BookTitle: s.lib.Title(), Title: "Search", Nav: s.nav(""), Query: q}}
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
	}{Layout{BookTitle: s.lib.Title(), Title: "Not found", Nav: s.nav("")}, "Page not found", "There is no page at this address."})
}

func cacheStatic(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		h.ServeHTTP(w, r)
	})
}
