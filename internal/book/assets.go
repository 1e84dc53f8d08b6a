package book

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	stdhtml "html"
	"io"
	"io/fs"
	"net/url"
	"path"
	"regexp"
	"strings"
)

// Asset is a file a page shows (an image), copied into the book at
// ingestion so that the source is not needed afterwards, and served at a
// URL made of its content's hash, which never changes meaning and can be
// cached for good.
type Asset struct {
	Name string // the hash of Data and the type's extension: "3f2a….png"
	Type string // the MIME type: image/png, image/jpeg, image/gif, image/webp, image/avif or image/svg+xml
	Data []byte // for SVG, sanitized
}

// AssetURL is the reader's URL of the asset with this name.
func AssetURL(name string) string { return "/assets/" + name }

// Asset limits, unless Options say otherwise.
const (
	defaultMaxAssetBytes  = 10 << 20
	defaultMaxAssetsBytes = 256 << 20
)

// assetTypes are the types a page may show, with their extensions.
var assetTypes = map[string]string{
	"image/png": "png", "image/jpeg": "jpg", "image/gif": "gif", "image/webp": "webp",
	"image/avif": "avif", "image/svg+xml": "svg",
}

// NewAsset checks data is an image of a type a page may show (by its
// content, not its name), sanitizes an SVG, and names it.
func NewAsset(data []byte) (Asset, error) {
	typ := sniffImage(data)
	if typ == "" {
		return Asset{}, errors.New("not a PNG, JPEG, GIF, WebP, AVIF or SVG image")
	}
	if typ == "image/svg+xml" {
		clean, err := sanitizeSVG(data)
		if err != nil {
			return Asset{}, err
		}
		data = clean
	}
	sum := sha256.Sum256(data)
	return Asset{Name: hex.EncodeToString(sum[:16]) + "." + assetTypes[typ], Type: typ, Data: data}, nil
}

// sniffImage is the image type of data, "" if it is none Lectern serves.
func sniffImage(data []byte) string {
	if len(data) >= 12 && string(data[4:8]) == "ftyp" && (string(data[8:12]) == "avif" || string(data[8:12]) == "avis") {
		return "image/avif"
	}
	switch {
	case bytes.HasPrefix(data, []byte("\x89PNG\r\n\x1a\n")):
		return "image/png"
	case bytes.HasPrefix(data, []byte("\xff\xd8\xff")):
		return "image/jpeg"
	case bytes.HasPrefix(data, []byte("GIF87a")) || bytes.HasPrefix(data, []byte("GIF89a")):
		return "image/gif"
	case len(data) >= 12 && string(data[:4]) == "RIFF" && string(data[8:12]) == "WEBP":
		return "image/webp"
	}
	if looksLikeSVG(data) {
		return "image/svg+xml"
	}
	return ""
}

// assetStore collects the assets of a book as its pages are rendered.
type assetStore struct {
	max, maxTotal int64
	total         int64
	byName        map[string]*Asset
	order         []*Asset
	bySource      map[string]sourced // by resolved source path
}

// sourced is what became of a source file: its asset's URL, or why none.
type sourced struct {
	url string
	err error
}

func newAssetStore(max, maxTotal int64) *assetStore {
	return &assetStore{max: max, maxTotal: maxTotal, byName: map[string]*Asset{}, bySource: map[string]sourced{}}
}

// add reads the file at name in fsys as an asset (once per source: where
// names fsys, "docs" or "site") and returns its URL.
func (s *assetStore) add(fsys fs.FS, where, name string) (string, error) {
	key := where + "|" + name
	if done, seen := s.bySource[key]; seen {
		return done.url, done.err
	}
	u, err := s.read(fsys, name)
	s.bySource[key] = sourced{u, err}
	return u, err
}

func (s *assetStore) read(fsys fs.FS, name string) (string, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return "", errNoSuchFile
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		return "", errNoSuchFile
	}
	data, err := io.ReadAll(io.LimitReader(f, s.max+1))
	if err != nil {
		return "", err
	}
	if int64(len(data)) > s.max {
		return "", fmt.Errorf("larger than %d MiB", s.max>>20)
	}
	return s.addData(data)
}

// addData adds an image given whole, as a data: URL gives it.
func (s *assetStore) addData(data []byte) (string, error) {
	a, err := NewAsset(data)
	if err != nil {
		return "", err
	}
	if _, dup := s.byName[a.Name]; !dup {
		if s.total+int64(len(a.Data)) > s.maxTotal {
			return "", fmt.Errorf("the book's images pass %d MiB", s.maxTotal>>20)
		}
		s.total += int64(len(a.Data))
		s.byName[a.Name] = &a
		s.order = append(s.order, &a)
	}
	return AssetURL(a.Name), nil
}

// list is the assets in the order first met.
func (s *assetStore) list() []Asset {
	out := make([]Asset, len(s.order))
	for i, a := range s.order {
		out[i] = *a
	}
	return out
}

var errNoSuchFile = errors.New("no such file")

// svgProlog is what may come before an SVG's root element.
var svgProlog = regexp.MustCompile(`(?s)<\?xml.*?\?>|<!--.*?-->|<!DOCTYPE[^>]*>`)

// assetResolver finds the image a page names in src and returns its URL,
// or an error saying why it cannot be shown.
type assetResolver func(src string) (u string, err error)

// imgTag finds the images of sanitized HTML: bluemonday writes every
// attribute in double quotes.
var (
	imgTag  = regexp.MustCompile(`<img\b[^>]*>`)
	imgSrc  = regexp.MustCompile(`\ssrc="([^"]*)"`)
	imgAlt  = regexp.MustCompile(`\salt="([^"]*)"`)
	dataURL = regexp.MustCompile(`^data:(image/[a-z0-9.+-]+)?(;[a-z0-9=;.-]*)?;base64,`)
)

// rewriteImages points each image of a sanitized page at its asset. An
// image on another site becomes a link to it (pages load images from this
// server only); one the book does not have becomes its alt text, and is
// reported through missing.
func rewriteImages(page string, resolve assetResolver, missing func(src string, err error)) string {
	if resolve == nil || !strings.Contains(page, "<img") {
		return page
	}
	return imgTag.ReplaceAllStringFunc(page, func(tag string) string {
		m := imgSrc.FindStringSubmatch(tag)
		alt := ""
		if a := imgAlt.FindStringSubmatch(tag); a != nil {
			alt = a[1] // still escaped
		}
		if m == nil {
			return alt
		}
		src := stdhtml.UnescapeString(m[1])
		lower := strings.ToLower(src)
		switch {
		case strings.HasPrefix(lower, "http://") || strings.HasPrefix(lower, "https://") || strings.HasPrefix(lower, "//"):
			label := alt
			if label == "" {
				label = "image"
			}
			return `<a href="` + m[1] + `" class="external-image">` + label + `</a>`
		}
		u, err := resolve(src)
		if err != nil {
			missing(src, err)
			return alt
		}
		return strings.Replace(tag, m[0], ` src="`+stdhtml.EscapeString(u)+`" loading="lazy"`, 1)
	})
}

// asset resolves an image source of the document at docPath, as Docusaurus
// does: beside the document, from the site's static folder ("/img/x.png"),
// from the site ("@site/static/img/x.png"), or inline (data:).
func (l *loader) asset(docPath, src string) (string, error) {
	if m := dataURL.FindStringSubmatch(src); m != nil {
		data, err := base64.StdEncoding.DecodeString(strings.TrimSpace(src[len(m[0]):]))
		if err != nil {
			return "", fmt.Errorf("a data URL that is not base64: %w", err)
		}
		if int64(len(data)) > l.opt.MaxAssetBytes {
			return "", fmt.Errorf("larger than %d MiB", l.opt.MaxAssetBytes>>20)
		}
		return l.assets.addData(data)
	}
	u, err := url.Parse(src)
	if err != nil || u.Scheme != "" || u.Host != "" || u.Path == "" {
		return "", errNoSuchFile
	}
	p := u.Path
	type place struct {
		fsys        fs.FS
		where, name string
	}
	var tries []place
	switch {
	case strings.HasPrefix(p, "@site/"):
		tries = append(tries, place{l.site, "site", strings.TrimPrefix(p, "@site/")})
	case strings.HasPrefix(p, "/"):
		for _, dir := range l.config.staticDirs() {
			tries = append(tries, place{l.site, "site", path.Join(dir, p)})
		}
		tries = append(tries, place{l.fsys, "docs", strings.TrimPrefix(p, "/")})
	default:
		tries = append(tries, place{l.fsys, "docs", path.Join(path.Dir(docPath), p)})
	}
	err = errNoSuchFile
	for _, t := range tries {
		name := path.Clean(t.name)
		if t.fsys == nil || !fs.ValidPath(name) {
			continue
		}
		var u string
		if u, err = l.assets.add(t.fsys, t.where, name); err == nil {
			return u, nil
		} else if !errors.Is(err, errNoSuchFile) {
			return "", err
		}
	}
	return "", err
}

// looksLikeSVG reports whether data is an SVG document: XML (or not) whose
// first element is <svg>.
func looksLikeSVG(data []byte) bool {
	head := data[:min(len(data), 4096)]
	i := bytes.Index(head, []byte("<svg"))
	if i < 0 {
		return false
	}
	before := svgProlog.ReplaceAllString(string(head[:i]), "")
	return strings.TrimSpace(strings.TrimPrefix(before, "\ufeff")) == ""
}
