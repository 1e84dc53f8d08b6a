package book

import (
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
	"golang.org/x/text/encoding/charmap"

	"github.com/lectern/lectern/internal/jsconfig"
)

// Options bounds what Load reads. Zero values take the defaults.
type Options struct {
	// Title overrides the book's title.
	Title string
	// Locale, for a Docusaurus site, serves its translation into that
	// locale (i18n/<locale>/docusaurus-plugin-content-docs/current) as the
	// book, in that language; empty: the docs folder.
	Locale string
	// MaxFiles bounds the number of documents (default 10,000).
	MaxFiles int
	// MaxFileBytes bounds one document (default 16 MiB).
	MaxFileBytes int64
	// MaxTotalBytes bounds the whole book (default 512 MiB).
	MaxTotalBytes int64
	// Progress, when set, is called after each document is rendered with
	// the number done and the total.
	Progress func(done, total int)
	// MaxAssetBytes bounds one image (default 10 MiB), MaxAssetsBytes all
	// of a book's (default 256 MiB).
	MaxAssetBytes, MaxAssetsBytes int64
	// Scripts runs a Docusaurus site's configuration and sidebars modules;
	// nil runs them in this process (see jsconfig: a server should give a
	// jsconfig.Process).
	Scripts jsconfig.Runner
	// ScriptLimits bound each of those runs; zero: jsconfig.DefaultLimits.
	ScriptLimits jsconfig.Limits

	wantDocs string // read the site only if its docs are this folder of it
}

func (o *Options) defaults() {
	if o.MaxFiles <= 0 {
		o.MaxFiles = 10_000
	}
	if o.MaxFileBytes <= 0 {
		o.MaxFileBytes = 16 << 20
	}
	if o.MaxTotalBytes <= 0 {
		o.MaxTotalBytes = 512 << 20
	}
	if o.MaxAssetBytes <= 0 {
		o.MaxAssetBytes = defaultMaxAssetBytes
	}
	if o.MaxAssetsBytes <= 0 {
		o.MaxAssetsBytes = defaultMaxAssetsBytes
	}
	if o.ScriptLimits == (jsconfig.Limits{}) {
		o.ScriptLimits = jsconfig.DefaultLimits()
	}
}

// Load reads the book at root: an .epub file, a Docusaurus site (its docs/
// folder is read), a Docusaurus docs folder, or any folder of Markdown and
// MDX files. Problems name the file and, when known, the line.
func Load(root string, opt Options) (*Book, error) {
	fi, err := os.Stat(root)
	if err != nil {
		return nil, fmt.Errorf("book: %w", err)
	}
	if !fi.IsDir() {
		if strings.EqualFold(filepath.Ext(root), ".epub") {
			opt.defaults()
			return loadEPUB(root, opt)
		}
		return nil, fmt.Errorf("book: %s is neither a folder nor an .epub file", root)
	}
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("book: %w", err)
	}
	if b, err := loadDocsOfSite(abs, opt); b != nil || err != nil {
		return b, err
	}
	b, err := LoadFS(os.DirFS(abs), filepath.Base(abs), opt)
	var outside *docsOutsideError
	if errors.As(err, &outside) {
		// The site keeps its docs beside it ("../docs", as in a repository
		// with website/ and docs/): read from the folder that holds both.
		top := abs
		for range outside.up {
			top = filepath.Dir(top)
		}
		rel, _ := filepath.Rel(top, abs)
		return loadFS(os.DirFS(top), filepath.ToSlash(rel), filepath.Base(abs), opt)
	}
	return b, err
}

// loadDocsOfSite reads the docs folder at abs as the Docusaurus site
// around it would (its title, sidebars, static files), when there is one
// whose docs are this folder; nil, nil when there is none.
func loadDocsOfSite(abs string, opt Options) (*Book, error) {
	parent := filepath.Dir(abs)
	if parent == abs || hasConfig(abs) || !hasConfig(parent) {
		return nil, nil
	}
	opt.wantDocs = filepath.Base(abs)
	b, err := LoadFS(os.DirFS(parent), filepath.Base(parent), opt)
	if errors.Is(err, errOtherDocs) {
		return nil, nil
	}
	return b, err
}

// hasConfig reports whether dir holds a Docusaurus config file.
func hasConfig(dir string) bool {
	for _, name := range configNames {
		if fi, err := os.Stat(filepath.Join(dir, name)); err == nil && fi.Mode().IsRegular() {
			return true
		}
	}
	return false
}

// errOtherDocs: the site around a docs folder keeps its docs elsewhere.
var errOtherDocs = errors.New("book: the site's docs are another folder")

// docsOutsideError: the site's configuration puts its docs up (outside
// the folder given) this many folders.
type docsOutsideError struct{ up int }

func (e *docsOutsideError) Error() string {
	return fmt.Sprintf("book: the site's docs are %d folders above it", e.up)
}

// LoadFS reads a book folder from fsys (its root is the book's root, or a
// Docusaurus site's); name is the folder's name, the title of last resort.
func LoadFS(fsys fs.FS, name string, opt Options) (*Book, error) {
	return loadFS(fsys, ".", name, opt)
}

// maxDocsUp bounds how far above the site its docs may be.
const maxDocsUp = 3

// loadFS is LoadFS for a book whose site (or folder) is siteDir in fsys.
func loadFS(fsys fs.FS, siteDir, name string, opt Options) (*Book, error) {
	opt.defaults()
	site, err := fs.Sub(fsys, siteDir)
	if err != nil {
		return nil, fmt.Errorf("book: %w", err)
	}
	l := &loader{opt: opt, fsys: site, name: name, format: FormatMarkdown, r: newRenderer(), assets: newAssetStore(opt.MaxAssetBytes, opt.MaxAssetsBytes)}
	if cfg, ok := l.docusaurusSite(site); ok {
		docs := path.Join(siteDir, cfg.docsPath)
		if opt.Locale != "" {
			docs = path.Join(siteDir, "i18n", opt.Locale, "docusaurus-plugin-content-docs", "current")
			if fi, err := fs.Stat(fsys, docs); err != nil || !fi.IsDir() || !validLocale(opt.Locale) {
				return nil, &Error{File: docs, Err: fmt.Errorf("the site has no translation into %q", opt.Locale)}
			}
			cfg.locale = opt.Locale
		}
		if opt.wantDocs != "" && docs != opt.wantDocs {
			return nil, errOtherDocs
		}
		if !fs.ValidPath(docs) {
			up := strings.Count(docs+"/", "../")
			if up > maxDocsUp {
				return nil, &Error{File: "docusaurus.config", Err: fmt.Errorf("its docs path %s is more than %d folders above the site", cfg.docsPath, maxDocsUp)}
			}
			return nil, &docsOutsideError{up: up}
		}
		docsFS, err := fs.Sub(fsys, docs)
		if err != nil {
			return nil, fmt.Errorf("book: %w", err)
		}
		l.fsys, l.root, l.site, l.docsDir, l.format, l.config = docsFS, fsys, site, docs, FormatDocusaurus, cfg
	} else if opt.Locale != "" {
		return nil, &Error{File: name, Err: errors.New("a locale can only be chosen for a Docusaurus site")}
	}
	return l.load()
}

type loader struct {
	opt      Options
	fsys     fs.FS
	root     fs.FS  // what holds the site and its docs, for imports
	site     fs.FS  // the Docusaurus site around the docs; nil if none
	docsDir  string // the docs' folder in root
	name     string
	format   string
	config   siteConfig // a Docusaurus site's
	assets   *assetStore
	problems []Problem // found while reading and rendering
	r        *renderer
	total    int64
	docs     []*pending
	slugs    map[string]string // the documents' paths by slug
}

// pending is a document read but not yet rendered.
type pending struct {
	doc      *Doc
	body     string
	bodyLine int // the file's line the body starts on
	dialect  int
	position *float64
	isIndex  bool
}

// category is a folder: a sidebar category.
type category struct {
	name     string // folder name, as on disk
	label    string
	labelSet bool // the label comes from a _category_ file
	position *float64
	index    *pending // the folder's index document, the category's page
	items    []any    // *pending or *category, sorted
}

func (l *loader) load() (*Book, error) {
	top, err := l.scan(".", "", "")
	if err != nil {
		return nil, err
	}
	if len(l.docs) == 0 {
		return nil, fmt.Errorf("book: %s: %w", l.name, ErrNoDocuments)
	}
	b := &Book{Format: l.format}
	bySlug := map[string]string{}
	slugOf := map[string]string{}
	for _, p := range l.docs {
		if other, dup := bySlug[p.doc.Slug]; dup {
			return nil, &Error{File: p.doc.Path, Err: fmt.Errorf("its URL /docs/%s is also the URL of %s; give one of them another slug in its front matter", p.doc.Slug, other)}
		}
		bySlug[p.doc.Slug] = p.doc.Path
		slugOf[p.doc.Path] = p.doc.Slug
	}
	links := func(docPath string) (string, bool) { s, ok := slugOf[docPath]; return s, ok }
	l.slugs = bySlug
	for i, p := range l.docs {
		l.render(p, links)
		if l.opt.Progress != nil {
			l.opt.Progress(i+1, len(l.docs))
		}
	}
	l.checkLinks()

	summary, err := l.summary()
	if err != nil {
		return nil, err
	}
	var fromSidebars bool
	if summary == nil && l.site != nil {
		b.Docs, b.TOC, fromSidebars = l.sidebars(top)
	}
	switch {
	case fromSidebars:
	case summary != nil:
		b.Docs, b.TOC = summaryOrder(l.docs, summary)
	default:
		chapter := 0
		for _, it := range top.items {
			if c, ok := it.(*category); ok {
				chapter++
				c.assignChapter(c.label, chapter)
			}
		}
		b.TOC = top.toc(&b.Docs)
		if top.index != nil {
			b.Docs = append([]*Doc{top.index.doc}, b.Docs...)
			b.TOC = append([]*TOCNode{docNode(top.index.doc)}, b.TOC...)
		}
	}
	fillCardLists(b.Docs, b.TOC)
	b.Title = l.title(top)
	b.Language = l.language()
	b.Problems = l.problems
	b.Assets = l.assets.list()
	parts := []string{rendererVersion, b.Title, l.format, b.Language}
	for _, d := range b.Docs {
		parts = append(parts, d.Path, d.Hash, d.Slug, d.Title, d.SidebarLabel, d.Chapter)
	}
	toc, _ := json.Marshal(b.TOC)
	b.Hash = hashOf(append(parts, string(toc))...)
	return b, nil
}

// language is the language the book says it is in: the site's default
// locale, else the one most of its documents' front matter gives (lang or
// language); "" when it says none.
func (l *loader) language() string {
	if l.config.locale != "" {
		return l.config.locale
	}
	count := map[string]int{}
	best := ""
	for _, p := range l.docs {
		for _, k := range []string{"lang", "language"} {
			if v, ok := p.doc.Meta[k].(string); ok && v != "" {
				count[v]++
				if count[v] > count[best] || (count[v] == count[best] && v < best) {
					best = v
				}
				break
			}
		}
	}
	return best
}

func (l *loader) title(top *category) string {
	switch {
	case l.opt.Title != "":
		return l.opt.Title
	case l.config.title != "":
		return l.config.title
	case top.labelSet:
		return top.label
	}
	name, _, _ := stripNumberPrefix(l.name)
	return humanize(name)
}

// scan reads the folder dir (rel is its path from the root, slug its URL
// path with number prefixes removed) into a category.
func (l *loader) scan(dir, rel, slug string) (*category, error) {
	entries, err := fs.ReadDir(l.fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("book: %w", err)
	}
	name := path.Base(dir)
	stripped, num, hasNum := stripNumberPrefix(name)
	c := &category{name: name, label: stripped}
	if hasNum {
		c.position = &num
	}
	if err := l.categoryMeta(dir, rel, c); err != nil {
		return nil, err
	}
	for _, e := range entries {
		n := e.Name()
		if strings.HasPrefix(n, "_") || strings.HasPrefix(n, ".") || n == "node_modules" {
			continue
		}
		childRel := path.Join(rel, n)
		if e.IsDir() {
			childName, _, _ := stripNumberPrefix(n)
			sub, err := l.scan(path.Join(dir, n), childRel, path.Join(slug, childName))
			if err != nil {
				return nil, err
			}
			if sub.index != nil || len(sub.items) > 0 {
				c.items = append(c.items, sub)
			}
			continue
		}
		ext := strings.ToLower(path.Ext(n))
		if ext != ".md" && ext != ".mdx" || !e.Type().IsRegular() && e.Type()&fs.ModeSymlink == 0 {
			continue
		}
		if rel == "" && strings.EqualFold(n, "SUMMARY.md") {
			continue
		}
		p, err := l.read(path.Join(dir, n), childRel, slug, stripped)
		if err != nil {
			return nil, err
		}
		if p == nil {
			continue
		}
		if p.isIndex && c.index == nil {
			c.index = p
			continue
		}
		c.items = append(c.items, p)
	}
	sort.SliceStable(c.items, func(i, j int) bool {
		pi, pj := positionOf(c.items[i]), positionOf(c.items[j])
		switch {
		case pi == nil:
			return false
		case pj == nil:
			return true
		}
		return *pi < *pj
	})
	return c, nil
}

func positionOf(it any) *float64 {
	switch it := it.(type) {
	case *pending:
		return it.position
	case *category:
		return it.position
	}
	return nil
}

// categoryMeta reads _category_.json (or .yml/.yaml): label and position.
func (l *loader) categoryMeta(dir, rel string, c *category) error {
	for _, name := range []string{"_category_.json", "_category_.yml", "_category_.yaml"} {
		b, err := fs.ReadFile(l.fsys, path.Join(dir, name))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		file := path.Join(rel, name)
		if err != nil {
			return &Error{File: file, Err: err}
		}
		var meta struct {
			Label    *string `json:"label" yaml:"label"`
			Position any     `json:"position" yaml:"position"`
		}
		if strings.HasSuffix(name, ".json") {
			err = json.Unmarshal(b, &meta)
		} else {
			err = yaml.Unmarshal(b, &meta)
		}
		if err != nil {
			return &Error{File: file, Err: fmt.Errorf("not a valid category file: %v", err)}
		}
		if meta.Label != nil && strings.TrimSpace(*meta.Label) != "" {
			c.label, c.labelSet = strings.TrimSpace(*meta.Label), true
		}
		if p, ok := number(meta.Position); ok {
			c.position = &p
		}
		return nil
	}
	return nil
}

// read reads one document file; dirSlug is its folder's URL path and
// dirName its folder's name without number prefix.
func (l *loader) read(file, rel, dirSlug, dirName string) (*pending, error) {
	if len(l.docs) >= l.opt.MaxFiles {
		return nil, &Error{File: rel, Err: fmt.Errorf("the book has more than %d documents", l.opt.MaxFiles)}
	}
	f, err := l.fsys.Open(file)
	if err != nil {
		return nil, &Error{File: rel, Err: err}
	}
	defer f.Close()
	raw, err := io.ReadAll(io.LimitReader(f, l.opt.MaxFileBytes+1))
	if err != nil {
		return nil, &Error{File: rel, Err: err}
	}
	if int64(len(raw)) > l.opt.MaxFileBytes {
		return nil, &Error{File: rel, Err: fmt.Errorf("larger than %d MiB", l.opt.MaxFileBytes>>20)}
	}
	if l.total += int64(len(raw)); l.total > l.opt.MaxTotalBytes {
		return nil, &Error{File: rel, Err: fmt.Errorf("the book is larger than %d MiB", l.opt.MaxTotalBytes>>20)}
	}
	src := normalizeText(raw)
	yml, body, bodyLine := splitFrontMatter([]byte(src))
	fm, err := parseFrontMatter(yml)
	if err != nil {
		return nil, fileError(rel, err)
	}
	base := strings.TrimSuffix(path.Base(rel), path.Ext(rel))
	baseName, num, hasNum := stripNumberPrefix(base)
	id := baseName
	if fm.ID != "" {
		id = fm.ID
	}
	lower := strings.ToLower(baseName)
	isIndex := lower == "index" || lower == "readme" || (dirName != "" && strings.EqualFold(baseName, dirName))
	var slug string
	switch {
	case strings.HasPrefix(fm.Slug, "/"):
		slug = strings.Trim(path.Clean(fm.Slug), "/")
	case fm.Slug != "":
		slug = strings.Trim(path.Join(dirSlug, fm.Slug), "/")
	case isIndex:
		slug = dirSlug
	default:
		slug = strings.Trim(path.Join(dirSlug, id), "/")
	}
	if slug == "." {
		slug = ""
	}
	p := &pending{
		doc: &Doc{
			Path: rel, ID: strings.Trim(path.Join(dirSlug, id), "/"), Slug: slug, Title: fm.Title,
			SidebarLabel: fm.SidebarLabel, Description: fm.Description, PageNumber: fm.PageNumber, Meta: fm.Meta,
			Hash: hashOf(rendererVersion, rel, src),
		},
		body:     string(body),
		bodyLine: bodyLine,
		dialect:  dialectMarkdown,
		isIndex:  isIndex,
	}
	if strings.EqualFold(path.Ext(rel), ".mdx") || (l.format == FormatDocusaurus && writtenAsMDX.MatchString(p.body)) {
		// Docusaurus reads .md files as MDX too: one that imports or shows
		// components is MDX, whatever its name.
		p.dialect = dialectMDX
	}
	p.position = fm.Position
	if p.position == nil && hasNum {
		p.position = &num
	}
	if id == "" {
		p.doc.ID = strings.Trim(dirSlug, "/")
	}
	l.docs = append(l.docs, p)
	return p, nil
}

// normalizeText makes a file's bytes valid UTF-8 text: the byte order mark
// dropped, NUL bytes removed.
//
// Text that is not UTF-8 is almost always Windows-1252 (or its subset
// ISO-8859-1), which decodes every byte, so it is read as that.
func normalizeText(raw []byte) string {
	s := strings.TrimPrefix(string(raw), "\uFEFF")
	if !utf8.ValidString(s) {
		if dec, err := charmap.Windows1252.NewDecoder().String(s); err == nil {
			s = dec
		} else {
			s = strings.ToValidUTF8(s, "\uFFFD")
		}
	}
	return strings.ReplaceAll(s, "\x00", "")
}

// fillCardLists puts, where a page shows <DocCardList />, the list of the
// pages of the category it is the page of (or, for another page, of the
// category it is in), as Docusaurus does.
func fillCardLists(docs []*Doc, toc []*TOCNode) {
	lists := map[string][]*TOCNode{} // by document path
	var walk func(nodes []*TOCNode)
	walk = func(nodes []*TOCNode) {
		for _, n := range nodes {
			if len(n.Children) > 0 {
				if n.DocPath != "" {
					lists[n.DocPath] = n.Children
				}
				for _, c := range n.Children {
					if _, own := lists[c.DocPath]; c.DocPath != "" && !own && len(c.Children) == 0 {
						lists[c.DocPath] = n.Children
					}
				}
			}
			walk(n.Children)
		}
	}
	walk(toc)
	for _, d := range docs {
		if strings.Contains(d.HTML, cardListMark) {
			list := `<ul class="generated-index">` + "\n" + linkList(lists[d.Path], d.Path) + "</ul>"
			d.HTML = strings.ReplaceAll(d.HTML, cardListMark, list)
			d.Hash = hashOf(d.Hash, list) // the page changes with its category
		}
	}
}

// linkList is the items of a list of contents entries, each linked;
// self, the page the list is on, is left out.
func linkList(items []*TOCNode, self string) string {
	var b strings.Builder
	for _, it := range items {
		if self != "" && it.DocPath == self {
			continue
		}
		href := it.Href
		if it.Slug != nil {
			href = DocURL(*it.Slug)
		}
		b.WriteString("<li>")
		if href != "" {
			b.WriteString(`<a href="` + html.EscapeString(href) + `">` + html.EscapeString(it.Label) + "</a>")
		} else {
			b.WriteString(html.EscapeString(it.Label))
		}
		b.WriteString("</li>\n")
	}
	return b.String()
}

// attrValues calls f with each value of the attribute name (" id=") in
// sanitized HTML, which quotes every value in double quotes. It is a scan,
// not a regular expression: it runs over every page of a book.
func attrValues(page, name string, f func(string)) {
	for {
		i := strings.Index(page, name)
		if i < 0 {
			return
		}
		page = page[i+len(name):]
		if len(page) == 0 || page[0] != '"' {
			continue
		}
		end := strings.IndexByte(page[1:], '"')
		if end < 0 {
			return
		}
		f(html.UnescapeString(page[1 : 1+end]))
		page = page[1+end:]
	}
}

// checkLinks reports the links between pages that lead nowhere, as a
// reader would follow them: to a page the book does not have, or to a
// heading its page does not have (Docusaurus reports these as broken
// anchors).
func (l *loader) checkLinks() {
	ids := make(map[string]map[string]bool, len(l.docs))
	for _, p := range l.docs {
		set := map[string]bool{}
		add := func(id string) { set[id] = true }
		attrValues(p.doc.HTML, " id=", add)
		attrValues(p.doc.HTML, " name=", add)
		ids[p.doc.Slug] = set
	}
	for _, p := range l.docs {
		page, _ := url.Parse(DocURL(p.doc.Slug))
		seen := map[string]bool{}
		attrValues(p.doc.HTML, " href=", func(href string) {
			u, err := page.Parse(href)
			if err != nil || seen[href] {
				return
			}
			seen[href] = true
			if ext := strings.ToLower(path.Ext(u.Path)); u.Host != "" || ext == ".md" || ext == ".mdx" ||
				!strings.HasPrefix(u.Path, "/docs/") && u.Path != "/docs" {
				return // another site's, or a document's file already reported as unresolved
			}
			slug := strings.Trim(strings.TrimPrefix(u.Path, "/docs"), "/")
			anchors, ok := ids[slug]
			switch {
			case !ok:
				l.problems = append(l.problems, Problem{File: p.doc.Path, Line: p.lineOf(href), What: "link " + href + " leads to no page of the book"})
			case u.Fragment != "" && !anchors[u.Fragment]:
				l.problems = append(l.problems, Problem{File: p.doc.Path, Line: p.lineOf("#" + u.Fragment), What: "link " + href + " leads to no heading #" + u.Fragment + " of " + DocURL(slug)})
			}
		})
	}
}

// pageLink resolves a link to a page of a Docusaurus site: a page of its
// docs is the book's page; anything else the site serves (its blog, its
// files, a page the book lacks) is that page on the author's site. A link
// in full to the site's own address leads to the book's page when it is
// one, else stays as it is.
func (l *loader) pageLink(link *url.URL) (string, bool) {
	if l.site == nil {
		return "", false
	}
	p := link.Path
	if link.Host != "" {
		site, err := url.Parse(l.config.siteURL)
		if err != nil || l.config.siteURL == "" || !strings.EqualFold(link.Host, site.Host) {
			return "", false
		}
		rest, ok := strings.CutPrefix(p, site.Path)
		if !ok {
			return "", false
		}
		p = "/" + strings.TrimPrefix(rest, "/")
	}
	base := l.config.routeBasePath
	rest, inDocs := p, base == ""
	if r, ok := strings.CutPrefix(p, "/"+base); base != "" && ok && (r == "" || r[0] == '/') {
		rest, inDocs = r, true
	}
	if slug := strings.Trim(rest, "/"); inDocs {
		if _, ok := l.slugs[slug]; ok {
			return DocURL(slug), true
		}
	}
	if l.config.siteURL != "" && link.Host == "" {
		return l.config.siteURL + p, true
	}
	return "", false
}

// partial reads the body of the document that the document at docPath
// imports as spec: a path relative to it, or one under the site ("@site/").
func (l *loader) partial(docPath, spec string) (body string, dialect int, ok bool) {
	// inDocs is the partial's path in the docs, "" when it is elsewhere.
	inDocs := path.Join(path.Dir(docPath), spec)
	fsys, name := l.fsys, inDocs
	if l.site != nil {
		fsys, name = l.root, path.Join(l.docsDir, path.Dir(docPath), spec)
	}
	if !fs.ValidPath(inDocs) {
		inDocs = ""
	}
	if rest, site := strings.CutPrefix(spec, "@site/"); site {
		fsys, name, inDocs = l.site, path.Clean(rest), ""
	} else if !strings.HasPrefix(spec, "./") && !strings.HasPrefix(spec, "../") {
		return "", 0, false
	}
	if fsys == nil || !fs.ValidPath(name) {
		return "", 0, false
	}
	f, err := fsys.Open(name)
	if err != nil {
		return "", 0, false
	}
	defer f.Close()
	raw, err := io.ReadAll(io.LimitReader(f, l.opt.MaxFileBytes+1))
	if err != nil || int64(len(raw)) > l.opt.MaxFileBytes {
		return "", 0, false
	}
	if l.total += int64(len(raw)); l.total > l.opt.MaxTotalBytes {
		return "", 0, false
	}
	_, b, _ := splitFrontMatter([]byte(normalizeText(raw)))
	dialect = dialectMarkdown
	if strings.EqualFold(path.Ext(name), ".mdx") {
		dialect = dialectMDX
	}
	body = string(b)
	if inDocs != "" {
		body = rebaseLinks(body, path.Dir(inDocs), path.Dir(docPath))
	}
	return body, dialect, true
}

// markdownTarget is the target of a Markdown link or image.
var markdownTarget = regexp.MustCompile(`(\]\(\s*<?)([^)\s>]+)`)

// rebaseLinks rewrites the relative links and images of a partial at
// from (a folder of the docs) to lead to the same files from the folder
// to, where it is shown: Docusaurus resolves them from the partial.
func rebaseLinks(body, from, to string) string {
	if from == to || !strings.Contains(body, "](") {
		return body
	}
	return markdownTarget.ReplaceAllStringFunc(body, func(m string) string {
		g := markdownTarget.FindStringSubmatch(m)
		target := g[2]
		if u, err := url.Parse(target); err != nil || u.Scheme != "" || u.Host != "" || u.Path == "" ||
			strings.HasPrefix(target, "/") || strings.HasPrefix(target, "@") {
			return m
		}
		file, rest := target, ""
		if i := strings.IndexAny(target, "#?"); i >= 0 {
			file, rest = target[:i], target[i:]
		}
		rel, err := filepath.Rel(filepath.FromSlash("/"+to), filepath.FromSlash("/"+path.Join(from, file)))
		if err != nil {
			return m
		}
		return g[1] + filepath.ToSlash(rel) + rest
	})
}

// writtenAsMDX finds what only MDX means in a Markdown file: an import
// statement, or a component on a line of its own.
var writtenAsMDX = regexp.MustCompile(`(?m)^(?:import\s+(?:[\w${},*\s]+\s+from\s+)?['"][^'"\n]+['"];?[ \t]*$|<[A-Z][\w.]*[\s/>])`)

// lineOf is the file's line on which the first of texts found in the
// body first appears, or 0 when none appears as written.
func (p *pending) lineOf(texts ...string) int {
	for _, text := range texts {
		if i := strings.Index(p.body, text); i >= 0 {
			return p.bodyLine + strings.Count(p.body[:i], "\n")
		}
	}
	return 0
}

// render renders a pending document and fills in what depends on its body.
func (l *loader) render(p *pending, links linkResolver) {
	d := p.doc
	var included []string
	body, components := reduceMDX(p.body, p.dialect, func(spec string) (string, int, bool) {
		src, dialect, ok := l.partial(d.Path, spec)
		if !ok {
			l.problems = append(l.problems, Problem{File: d.Path, Line: p.lineOf(spec), What: "imported document " + spec + " not found"})
			return "", 0, false
		}
		included = append(included, spec, src)
		return src, dialect, true
	})
	var images assetResolver
	if l.assets != nil {
		images = func(src string) (string, error) {
			u, err := l.asset(d.Path, src)
			if err == nil {
				included = append(included, u)
			}
			return u, err
		}
	}
	out := l.r.render([]byte(body), d.Path, d.Title, resolvers{docs: links, pages: l.pageLink, images: images})
	if included != nil {
		d.Hash = hashOf(append([]string{d.Hash}, included...)...)
	}
	for _, img := range out.missingImages {
		src, _, _ := strings.Cut(img, " (")
		l.problems = append(l.problems, Problem{File: d.Path, Line: p.lineOf(src), What: "image " + img + " not shown"})
	}
	for _, link := range out.unresolved {
		l.problems = append(l.problems, Problem{File: d.Path, Line: p.lineOf("("+link, link), What: "unresolved link " + link})
	}
	for _, c := range components {
		l.problems = append(l.problems, Problem{File: d.Path, Line: p.lineOf("<" + c), What: "component <" + c + "> shown as its text"})
	}
	if d.Title == "" {
		d.Title = out.h1
	}
	if d.Title == "" {
		base := strings.TrimSuffix(path.Base(d.Path), path.Ext(d.Path))
		name, _, _ := stripNumberPrefix(base)
		d.Title = humanize(name)
	}
	for i := range out.sections {
		if len(out.sections[i].Path) > 0 && out.sections[i].Path[0] == "" {
			out.sections[i].Path[0] = d.Title
		}
		if out.sections[i].Heading == "" {
			out.sections[i].Heading = d.Title
		}
		d.Words += words(out.sections[i].Text)
	}
	if d.SidebarLabel == "" {
		d.SidebarLabel = d.Title
	}
	d.HTML, d.Sections = out.html, out.sections
}

func (c *category) assignChapter(label string, n int) {
	if c.index != nil {
		c.index.doc.Chapter, c.index.doc.ChapterNumber = label, n
	}
	for _, it := range c.items {
		switch it := it.(type) {
		case *pending:
			it.doc.Chapter, it.doc.ChapterNumber = label, n
		case *category:
			it.assignChapter(label, n)
		}
	}
}

// toc returns the category's entries and appends its documents to docs in
// reading order.
func (c *category) toc(docs *[]*Doc) []*TOCNode {
	var nodes []*TOCNode
	for _, it := range c.items {
		switch it := it.(type) {
		case *pending:
			*docs = append(*docs, it.doc)
			nodes = append(nodes, docNode(it.doc))
		case *category:
			n := &TOCNode{Label: it.label}
			if it.index != nil {
				*docs = append(*docs, it.index.doc)
				slug := it.index.doc.Slug
				n.Slug, n.DocPath = &slug, it.index.doc.Path
			}
			n.Children = it.toc(docs)
			nodes = append(nodes, n)
		}
	}
	return nodes
}

func docNode(d *Doc) *TOCNode {
	slug := d.Slug
	return &TOCNode{Label: d.SidebarLabel, Slug: &slug, DocPath: d.Path}
}

var summaryLink = regexp.MustCompile(`\[[^\]]*\]\(\s*<?([^)>\s]+)>?(?:\s+"[^"]*")?\s*\)`)

// summary reads a SUMMARY.md at the root (mdBook, GitBook): the reading
// order as a list of links. It returns nil when there is none.
func (l *loader) summary() ([]string, error) {
	entries, err := fs.ReadDir(l.fsys, ".")
	if err != nil {
		return nil, fmt.Errorf("book: %w", err)
	}
	for _, e := range entries {
		if !strings.EqualFold(e.Name(), "SUMMARY.md") || e.IsDir() {
			continue
		}
		b, err := fs.ReadFile(l.fsys, e.Name())
		if err != nil {
			return nil, &Error{File: e.Name(), Err: err}
		}
		var order []string
		for _, m := range summaryLink.FindAllStringSubmatch(normalizeText(b), -1) {
			target := strings.SplitN(m[1], "#", 2)[0]
			order = append(order, path.Clean(strings.TrimPrefix(target, "./")))
		}
		return order, nil
	}
	return nil, nil
}

// summaryOrder orders documents as the summary lists them, the others after
// in folder order; the table of contents is flat.
func summaryOrder(all []*pending, order []string) ([]*Doc, []*TOCNode) {
	rank := map[string]int{}
	for i, p := range order {
		if _, dup := rank[p]; !dup {
			rank[p] = i
		}
	}
	docs := make([]*Doc, len(all))
	for i, p := range all {
		docs[i] = p.doc
	}
	sort.SliceStable(docs, func(i, j int) bool {
		ri, iok := rank[docs[i].Path]
		rj, jok := rank[docs[j].Path]
		switch {
		case iok && jok:
			return ri < rj
		case iok != jok:
			return iok
		}
		return false
	})
	toc := make([]*TOCNode, len(docs))
	for i, d := range docs {
		toc[i] = docNode(d)
	}
	return docs, toc
}
