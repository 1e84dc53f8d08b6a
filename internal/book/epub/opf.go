package epub

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/url"
	"path"
	"strings"
)

const containerPath = "META-INF/container.xml"

// newXMLDecoder returns a strict decoder for text already made UTF-8 by
// toUTF8. It knows the HTML entities (&nbsp; turns up in NCX files) and never
// expands entities a DOCTYPE declares: encoding/xml does not read DTDs, so an
// entity bomb is a syntax error rather than a loop.
func newXMLDecoder(data []byte) *xml.Decoder {
	d := xml.NewDecoder(bytes.NewReader(data))
	d.Strict = true
	d.Entity = xml.HTMLEntity
	d.CharsetReader = func(_ string, r io.Reader) (io.Reader, error) { return r, nil }
	return d
}

type xmlContainer struct {
	XMLName   xml.Name `xml:"container"`
	Rootfiles []struct {
		FullPath  string `xml:"full-path,attr"`
		MediaType string `xml:"media-type,attr"`
	} `xml:"rootfiles>rootfile"`
}

// rootfile returns the archive path of the package document (OPF) that
// META-INF/container.xml names.
func rootfile(data []byte) (string, error) {
	var c xmlContainer
	if err := newXMLDecoder(data).Decode(&c); err != nil {
		return "", malformed(containerPath, "not a valid container document", err)
	}
	var chosen string
	for _, rf := range c.Rootfiles {
		if rf.FullPath == "" {
			continue
		}
		if rf.MediaType == "" || rf.MediaType == "application/oebps-package+xml" {
			chosen = rf.FullPath
			break
		}
		if chosen == "" {
			chosen = rf.FullPath
		}
	}
	if chosen == "" {
		return "", malformed(containerPath, "no rootfile names the package document", nil)
	}
	p, _, err := resolveHref(".", chosen)
	if err != nil {
		return "", unsafeErr(containerPath, fmt.Sprintf("rootfile %q: %v", chosen, err))
	}
	if p == "" {
		return "", malformed(containerPath, fmt.Sprintf("rootfile %q does not name a file", chosen), nil)
	}
	return p, nil
}

type xmlText struct {
	ID    string `xml:"id,attr"`
	Role  string `xml:"role,attr"`
	Value string `xml:",chardata"`
}

type xmlPackage struct {
	XMLName  xml.Name `xml:"package"`
	UniqueID string   `xml:"unique-identifier,attr"`
	Metadata struct {
		Titles      []xmlText `xml:"title"`
		Creators    []xmlText `xml:"creator"`
		Languages   []xmlText `xml:"language"`
		Identifiers []xmlText `xml:"identifier"`
		Metas       []struct {
			Refines  string `xml:"refines,attr"`
			Property string `xml:"property,attr"`
			Value    string `xml:",chardata"`
		} `xml:"meta"`
	} `xml:"metadata"`
	Manifest []struct {
		ID         string `xml:"id,attr"`
		Href       string `xml:"href,attr"`
		MediaType  string `xml:"media-type,attr"`
		Properties string `xml:"properties,attr"`
	} `xml:"manifest>item"`
	Spine struct {
		Toc      string `xml:"toc,attr"`
		Itemrefs []struct {
			IDRef  string `xml:"idref,attr"`
			Linear string `xml:"linear,attr"`
		} `xml:"itemref"`
	} `xml:"spine"`
}

// item is a manifest item with its href resolved to an archive path.
type item struct {
	id, path, mediaType string
	remote              bool
	nav                 bool
}

// pkg is what Read needs from the package document.
type pkg struct {
	path                                 string
	title, creator, language, identifier string
	spine                                []item // linear items only, in order
	nav                                  *item  // EPUB 3 navigation document
	ncx                                  *item  // EPUB 2 table of contents
}

// parsePackage reads the OPF at opfPath.
func parsePackage(opfPath string, data []byte) (*pkg, error) {
	var x xmlPackage
	if err := newXMLDecoder(data).Decode(&x); err != nil {
		return nil, malformed(opfPath, "not a valid package document", err)
	}
	p := &pkg{path: opfPath}
	md := &x.Metadata
	p.title = firstText(md.Titles)
	p.language = firstText(md.Languages)
	p.identifier = firstText(md.Identifiers)
	for _, id := range md.Identifiers {
		if x.UniqueID != "" && id.ID == x.UniqueID && collapse(id.Value) != "" {
			p.identifier = collapse(id.Value)
		}
	}
	roles := map[string]string{}
	for _, m := range md.Metas {
		if m.Property == "role" && strings.HasPrefix(m.Refines, "#") {
			roles[m.Refines[1:]] = collapse(m.Value)
		}
	}
	var authors, all []string
	for _, c := range md.Creators {
		name := collapse(c.Value)
		if name == "" {
			continue
		}
		all = append(all, name)
		role := c.Role
		if r, ok := roles[c.ID]; ok && c.ID != "" {
			role = r
		}
		if role == "" || role == "aut" {
			authors = append(authors, name)
		}
	}
	if len(authors) == 0 && len(all) > 0 {
		authors = all[:1]
	}
	p.creator = strings.Join(authors, ", ")

	dir := path.Dir(opfPath)
	items := make(map[string]*item, len(x.Manifest))
	for _, mi := range x.Manifest {
		if mi.ID == "" {
			continue
		}
		resolved, remote, err := resolveHref(dir, mi.Href)
		if err != nil {
			return nil, unsafeErr(opfPath, fmt.Sprintf("manifest item %q has href %q: %v", mi.ID, mi.Href, err))
		}
		it := &item{id: mi.ID, path: resolved, mediaType: strings.ToLower(strings.TrimSpace(mi.MediaType)), remote: remote}
		it.nav = hasToken(mi.Properties, "nav")
		if _, dup := items[mi.ID]; !dup {
			items[mi.ID] = it
		}
		if it.nav && p.nav == nil && !remote {
			p.nav = it
		}
	}
	if id := x.Spine.Toc; id != "" {
		if it, ok := items[id]; ok && !it.remote {
			p.ncx = it
		}
	}
	if p.ncx == nil {
		for _, mi := range x.Manifest {
			if it := items[mi.ID]; it != nil && it.mediaType == "application/x-dtbncx+xml" && !it.remote {
				p.ncx = it
				break
			}
		}
	}
	for _, ref := range x.Spine.Itemrefs {
		it, ok := items[ref.IDRef]
		if !ok {
			return nil, malformed(opfPath, fmt.Sprintf("OPF manifest has no item for spine idref %s", printable(ref.IDRef)), nil)
		}
		if strings.TrimSpace(ref.Linear) == "no" {
			continue
		}
		p.spine = append(p.spine, *it)
	}
	return p, nil
}

func firstText(ts []xmlText) string {
	for _, t := range ts {
		if s := collapse(t.Value); s != "" {
			return s
		}
	}
	return ""
}

func hasToken(list, token string) bool {
	for _, f := range strings.Fields(list) {
		if f == token {
			return true
		}
	}
	return false
}

// collapse trims s and turns each run of white space inside it into one
// space, as HTML does when it shows text.
func collapse(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

var (
	errAbsolute  = errors.New("absolute path")
	errEscapes   = errors.New("path escapes the archive")
	errBackslash = errors.New("the path contains a backslash")
	errNUL       = errors.New("the path contains a NUL byte")
)

// resolveHref turns href, as written in a document inside directory dir,
// into a cleaned archive path. The fragment and query are dropped and %XX
// escapes decoded. A URL with a scheme (http:, mailto:, ...) is reported as
// remote with p empty; a bare fragment ("#note") yields p empty too.
func resolveHref(dir, href string) (p string, remote bool, err error) {
	h := strings.TrimSpace(href)
	h, _, _ = strings.Cut(h, "#")
	if hasScheme(h) {
		return "", true, nil
	}
	h, _, _ = strings.Cut(h, "?")
	if h == "" {
		return "", false, nil
	}
	if dec, err := url.PathUnescape(h); err == nil {
		h = dec
	}
	switch {
	case strings.IndexByte(h, 0) >= 0:
		return "", false, errNUL
	case strings.IndexByte(h, '\\') >= 0:
		return "", false, errBackslash
	case h[0] == '/':
		return "", false, errAbsolute
	}
	p = path.Join(dir, h)
	if p == ".." || strings.HasPrefix(p, "../") {
		return "", false, errEscapes
	}
	return p, false, nil
}

// hasScheme reports whether s begins with a URL scheme such as "https:".
func hasScheme(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case isASCIILetter(c):
		case i > 0 && ('0' <= c && c <= '9' || c == '+' || c == '-' || c == '.'):
		case i > 0 && c == ':':
			return true
		default:
			return false
		}
	}
	return false
}

// tocEntry is one link of a table of contents: the archive path it points
// to, whether it pointed at a fragment of that file, and its label.
type tocEntry struct {
	path     string
	fragment bool
	label    string
}

// tocTitles maps each file a table of contents points to onto the label
// that names it: the label of a link to the whole file when there is one,
// else the label of the first link into the file.
func tocTitles(entries []tocEntry) map[string]string {
	titles := make(map[string]string)
	whole := make(map[string]bool)
	for _, e := range entries {
		if e.path == "" || e.label == "" {
			continue
		}
		if _, ok := titles[e.path]; !ok || !e.fragment && !whole[e.path] {
			titles[e.path] = e.label
			whole[e.path] = whole[e.path] || !e.fragment
		}
	}
	return titles
}

// parseNCX reads the navMap of an EPUB 2 NCX file found at ncxPath.
func parseNCX(ncxPath string, data []byte) ([]tocEntry, error) {
	d := newXMLDecoder(data)
	dir := path.Dir(ncxPath)
	var (
		entries  []tocEntry
		labels   []string // label of each open navPoint
		inMap    int      // depth inside navMap
		inLabel  int      // depth inside navLabel
		inText   bool
		text     strings.Builder
		sawRoot  bool
		rootName string
	)
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, malformed(ncxPath, "invalid XML in the NCX table of contents", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if !sawRoot {
				sawRoot, rootName = true, t.Name.Local
			}
			switch name := t.Name.Local; {
			case name == "navMap":
				inMap++
			case inMap == 0:
			case name == "navPoint":
				labels = append(labels, "")
			case name == "navLabel":
				inLabel++
			case name == "text" && inLabel > 0:
				inText = true
				text.Reset()
			case name == "content" && len(labels) > 0:
				src := attr(t.Attr, "src")
				if p, remote, err := resolveHref(dir, src); err == nil && !remote {
					entries = append(entries, tocEntry{path: p, fragment: strings.Contains(src, "#"), label: labels[len(labels)-1]})
				}
			}
		case xml.EndElement:
			switch name := t.Name.Local; {
			case name == "navMap" && inMap > 0:
				inMap--
			case inMap == 0:
			case name == "navPoint" && len(labels) > 0:
				labels = labels[:len(labels)-1]
			case name == "navLabel" && inLabel > 0:
				inLabel--
			case name == "text" && inText:
				inText = false
				if len(labels) > 0 && labels[len(labels)-1] == "" {
					labels[len(labels)-1] = collapse(text.String())
				}
			}
		case xml.CharData:
			if inText && text.Len() < 4096 {
				text.Write(t)
			}
		}
	}
	if rootName != "ncx" {
		return nil, malformed(ncxPath, "not an NCX document (its root element is not <ncx>)", nil)
	}
	return entries, nil
}

func attr(attrs []xml.Attr, local string) string {
	for _, a := range attrs {
		if a.Name.Local == local {
			return a.Value
		}
	}
	return ""
}
