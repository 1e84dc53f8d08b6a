// Package web serves the reader: the book's pages rendered on the server,
// its table of contents and a search page, plus the public JSON endpoints
// GET /api/book and GET /api/search.
package web

import (
	"bytes"
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/lectern/lectern/internal/book"
	"github.com/lectern/lectern/internal/insights"
	"github.com/lectern/lectern/internal/library"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Library is what the reader needs of the book.
type Library interface {
	Ready() bool
	Title() string
	Language() string
	Contents() []*book.TOCNode
	TOC() json.RawMessage
	Pages() []*library.Page
	Page(slug string) (*library.Page, bool)
	Search(ctx context.Context, q library.Query) (library.Result, error)
	Asset(ctx context.Context, name string) (book.Asset, error)
}

// Options configures the reader.
type Options struct {
	// APIBase and AuthBase are the origins of the API and the identity
	// service when they are not this server's ("" = same origin), as in
	// the three-service deployment. The pages' scripts call them, and the
	// Content-Security-Policy allows connecting to them.
	APIBase  string
	AuthBase string
	// ReturnOrigins are the other sites a reader may be sent back to after
	// signing in (?next= in full): those that show the widget.
	ReturnOrigins []string
	// OwnersSeeQuestions tells readers, on their account page, that the
	// book's owners see their questions, without their names (insights
	// are on).
	OwnersSeeQuestions bool
	// Insights and Sessions serve the owners' page, /insights, to the
	// owners signed in on this origin; without them there is no such page.
	Insights Insights
	Sessions Sessions
}

// Server renders the reader.
type Server struct {
	lib    Library
	log    *slog.Logger
	opt    Options
	csp    string
	tmpl   *template.Template
	static http.Handler
	// staticBase is where this build's static files are served for good
	// ("/static/v/<hash of them all>"), and widget is widget.js pointing
	// there.
	staticBase string
	widget     []byte
}

// New returns the reader over lib.
func New(lib Library, log *slog.Logger, opt Options) *Server {
	tmpl := template.Must(template.New("").Funcs(template.FuncMap{
		"safeHTML": func(s string) template.HTML { return template.HTML(s) }, // sanitized at ingestion
		"date":     func(t insights.Stamp) string { return time.Time(t).UTC().Format(time.DateOnly) },
	}).ParseFS(templateFS, "templates/*.html"))
	sub, err := fs.Sub(staticFS, "static")
	if err != nil {
		panic(err) // the embedded tree always has it
	}
	connect := "'self'"
	for _, o := range []string{opt.APIBase, opt.AuthBase} {
		if o != "" && !strings.Contains(connect, o) {
			connect += " " + o
		}
	}
	// Images from this server only: a book's remote image would tell
	// another site who reads what, and when.
	csp := "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src " + connect +
		"; font-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
	base := "/static/v/" + staticVersion(sub)
	widget, err := fs.ReadFile(sub, "widget.js")
	if err != nil {
		panic(err) // the embedded tree always has it
	}
	widget = bytes.ReplaceAll(widget, []byte(`"/static/`), []byte(`"`+base+`/`))
	return &Server{lib: lib, log: log, opt: opt, csp: csp, tmpl: tmpl, static: http.FileServerFS(sub), staticBase: base, widget: widget}
}

// staticVersion is a hash of every static file: it changes whenever one
// does, so that their versioned URLs can be cached for good.
func staticVersion(fsys fs.FS) string {
	h := sha256.New()
	_ = fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "%s\x00%d\x00", p, len(b))
		h.Write(b)
		return nil
	})
	return hex.EncodeToString(h.Sum(nil))[:12]
}
