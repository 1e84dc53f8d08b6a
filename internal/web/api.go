package web

import (
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/lectern/lectern/internal/httpx"
	"github.com/lectern/lectern/internal/library"
)

// maxQueryBytes bounds a search query.
const maxQueryBytes = 1000

// maxK bounds the number of search results.
const maxK = 10

var errNotReady = &httpx.Error{Status: http.StatusServiceUnavailable, Code: "BOOK_NOT_READY",
	Message: "The book is being prepared; please retry", Header: http.Header{"Retry-After": {"5"}}}

type pageJSON struct {
	DocPath       string `json:"doc_path"`
	Slug          string `json:"slug"`
	Title         string `json:"title"`
	URL           string `json:"url"`
	Chapter       string `json:"chapter"`
	ChapterNumber *int   `json:"chapter_number"`
	PageNumber    *int   `json:"page_number"`
	Words         int    `json:"words"`
}

// apiBook answers the table of contents and the pages in reading order.
func (s *Server) apiBook(w http.ResponseWriter, r *http.Request) error {
	if !s.lib.Ready() {
		return errNotReady
	}
	pages := s.lib.Pages()
	out := make([]pageJSON, len(pages))
	for i, p := range pages {
		out[i] = pageJSON{DocPath: p.DocPath, Slug: p.Slug, Title: p.Title, URL: p.URL, Chapter: p.Chapter,
			ChapterNumber: chapterNumber(p.ChapterNumber), PageNumber: p.PageNumber, Words: p.Words}
	}
	w.Header().Set("Cache-Control", "no-cache")
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"title": s.lib.Title(), "toc": s.lib.TOC(), "pages": out})
	return nil
}

func chapterNumber(n int) *int {
	if n == 0 {
		return nil
	}
	return &n
}

type hitJSON struct {
	DocPath       string   `json:"doc_path"`
	Slug          string   `json:"slug"`
	Title         string   `json:"title"`
	Heading       string   `json:"heading"`
	HeadingPath   []string `json:"heading_path"`
	URL           string   `json:"url"`
	Snippet       string   `json:"snippet"`
	Score         float64  `json:"score"`
	ChapterNumber *int     `json:"chapter_number"`
	PageNumber    *int     `json:"page_number"`
}

// apiSearch is the public book search: GET /api/search?q=…&k=…
func (s *Server) apiSearch(w http.ResponseWriter, r *http.Request) error {
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	switch {
	case q == "":
		return httpx.Errorf(http.StatusBadRequest, "VALIDATION_ERROR", "q: required")
	case len(q) > maxQueryBytes || !utf8.ValidString(q):
		return httpx.Errorf(http.StatusBadRequest, "VALIDATION_ERROR", "q: must be text of at most 1000 bytes")
	}
	k := 3
	if v := r.URL.Query().Get("k"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxK {
			return httpx.Errorf(http.StatusBadRequest, "VALIDATION_ERROR", "k: must be an integer from 1 to 10")
		}
		k = n
	}
	if !s.lib.Ready() {
		return errNotReady
	}
	res, err := s.lib.Search(r.Context(), library.Query{Text: q, K: k, Page: r.URL.Query().Get("page")})
	if err != nil {
		return err
	}
	hits := make([]hitJSON, len(res.Hits))
	for i, h := range res.Hits {
		hits[i] = hitJSON{DocPath: h.DocPath, Slug: h.Slug, Title: h.Title, Heading: h.Heading, HeadingPath: h.HeadingPath,
			URL: h.URL, Snippet: h.Snippet, Score: h.Score, ChapterNumber: chapterNumber(h.ChapterNumber), PageNumber: h.PageNumber}
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"query": q, "covered": res.Covered, "hits": hits})
	return nil
}
