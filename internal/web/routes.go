package web

import (
	"net/http"

	"github.com/lectern/lectern/internal/httpx"
)

// Handler returns every route of the reader.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.home)
	mux.HandleFunc("GET /docs/{slug...}", s.page)
	mux.HandleFunc("GET /search", s.searchPage)
	mux.HandleFunc("GET /assets/{name}", s.asset)
	mux.HandleFunc("GET /login", s.accountPage("login"))
	mux.HandleFunc("GET /signup", s.accountPage("signup"))
	mux.HandleFunc("GET /forgot-password", s.accountPage("forgot"))
	mux.HandleFunc("GET /reset-password", s.accountPage("reset"))
	mux.HandleFunc("GET /account", s.accountPage("account"))
	mux.HandleFunc("GET /insights", s.insightsPage)
	mux.HandleFunc("GET /insights/{file}", s.insightsDownload)
	mux.Handle("GET /static/", http.StripPrefix("/static/", cacheStatic(s.static)))
	mux.Handle("GET /static/v/{version}/", s.versionedStatic())
	mux.HandleFunc("GET /static/widget.js", s.widgetScript)
	mux.Handle("GET /widget.js", http.RedirectHandler("/static/widget.js", http.StatusMovedPermanently))
	mux.Handle("GET /api/book", httpx.Handle(s.apiBook))
	mux.Handle("GET /api/search", httpx.Handle(s.apiSearch))
	mux.HandleFunc("/", s.notFound)
	return mux
}
