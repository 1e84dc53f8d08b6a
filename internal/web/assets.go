package web

import (
	"bytes"
	"net/http"
	"regexp"
	"time"

	"github.com/lectern/lectern/internal/fault"
)

// assetName is the form of an asset's name: a hash and an image type's
// extension (book.Asset.Name). Anything else is not asked of the store.
var assetName = regexp.MustCompile(`^[0-9a-f]{32}\.(png|jpg|gif|webp|avif|svg)$`)

// assetPolicy keeps an asset opened on its own (an SVG above all) inert:
// no script, nothing loaded, its own origin.
const assetPolicy = "default-src 'none'; style-src 'unsafe-inline'; sandbox"

// asset serves one of the book's images. Its name is its content's hash,
// so it is cached for a year and never revalidated before.
func (s *Server) asset(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if !assetName.MatchString(name) {
		s.notFound(w, r)
		return
	}
	a, err := s.lib.Asset(r.Context(), name)
	if err != nil {
		if fault.KindOf(err) == fault.NotFound {
			s.notFound(w, r)
			return
		}
		s.log.ErrorContext(r.Context(), "read asset", "name", name, "err", err)
		http.Error(w, "The image cannot be read now.", http.StatusServiceUnavailable)
		return
	}
	h := w.Header()
	h.Set("Content-Type", a.Type)
	h.Set("Cache-Control", "public, max-age=31536000, immutable")
	h.Set("Content-Security-Policy", assetPolicy)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("ETag", `"`+name+`"`)
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(a.Data))
}
