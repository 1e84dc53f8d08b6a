package book

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
)

// SVG namespaces the sanitizer keeps.
const (
	nsSVG   = "http://www.w3.org/2000/svg"
	nsXLink = "http://www.w3.org/1999/xlink"
	nsXML   = "http://www.w3.org/XML/1998/namespace"
)

// svgElements are the SVG elements that draw, with no script, no foreign
// content and no loading from elsewhere (no <script>, <foreignObject>,
// <image>, no animation that could change a link; <a> stays for what it
// holds, its link only within the drawing).
var svgElements = setOf("svg", "g", "a", "defs", "symbol", "use", "title", "desc", "metadata",
	"path", "rect", "circle", "ellipse", "line", "polyline", "polygon",
	"text", "tspan", "textPath", "marker", "pattern", "clipPath", "mask",
	"linearGradient", "radialGradient", "stop", "filter", "style", "switch",
	"feBlend", "feColorMatrix", "feComponentTransfer", "feComposite", "feConvolveMatrix",
	"feDiffuseLighting", "feDisplacementMap", "feDistantLight", "feDropShadow", "feFlood",
	"feFuncA", "feFuncB", "feFuncG", "feFuncR", "feGaussianBlur", "feMerge", "feMergeNode",
	"feMorphology", "feOffset", "fePointLight", "feSpecularLighting", "feSpotLight", "feTile", "feTurbulence")

// unsafeCSS finds what in a style could load from elsewhere or run code:
// url() to anything but a fragment, @import, expression(), behaviours.
var unsafeCSS = regexp.MustCompile(`(?i)url\s*\(\s*['"]?\s*[^#'"\s)]|@import|expression\s*\(|behavior\s*:|-moz-binding|javascript:`)

// sanitizeSVG rewrites an SVG with only drawing elements and presentation
// attributes: no script, event handler, foreign content, or reference
// outside the document. It refuses what it cannot parse.
func sanitizeSVG(data []byte) ([]byte, error) {
	d := xml.NewDecoder(bytes.NewReader(data))
	d.Strict = true
	d.Entity = map[string]string{} // the five XML entities only; no DTD expansion
	var out bytes.Buffer
	depth, skip := 0, 0 // skip > 0 inside a dropped element
	var inStyle bool
	root := true
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("an SVG that is not well-formed XML: %w", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			if depth > 256 {
				return nil, errors.New("an SVG nested too deep")
			}
			if skip > 0 || t.Name.Space != nsSVG || !svgElements[t.Name.Local] {
				if root {
					return nil, errors.New("an SVG whose root is not <svg> in the SVG namespace")
				}
				skip++
				continue
			}
			out.WriteString("<" + t.Name.Local)
			if root {
				out.WriteString(` xmlns="` + nsSVG + `" xmlns:xlink="` + nsXLink + `"`)
				root = false
			}
			for _, a := range t.Attr {
				if name, ok := svgAttr(t.Name.Local, a); ok {
					out.WriteString(" " + name + `="` + attrEscaper.Replace(a.Value) + `"`)
				}
			}
			out.WriteString(">")
			inStyle = t.Name.Local == "style"
		case xml.EndElement:
			depth--
			if skip > 0 {
				skip--
				continue
			}
			out.WriteString("</" + t.Name.Local + ">")
			inStyle = false
		case xml.CharData:
			if skip > 0 {
				continue
			}
			if inStyle && unsafeCSS.Match(t) {
				continue
			}
			out.WriteString(textEscaper.Replace(string(t)))
		}
	}
	if root {
		return nil, errors.New("an SVG without an <svg> element")
	}
	return out.Bytes(), nil
}

// svgAttr reports whether an attribute may stay, and its name as written.
func svgAttr(elem string, a xml.Attr) (string, bool) {
	local := a.Name.Local
	lower := strings.ToLower(local)
	switch {
	case a.Name.Space == "xmlns" || (a.Name.Space == "" && local == "xmlns"):
		return "", false // written again on the root
	case strings.HasPrefix(lower, "on"):
		return "", false
	case a.Name.Space == nsXLink || a.Name.Space == "xlink":
		if local == "href" && strings.HasPrefix(strings.TrimSpace(a.Value), "#") && elem != "a" {
			return "xlink:href", true
		}
		return "", false
	case a.Name.Space == nsXML || a.Name.Space == "xml":
		if local == "space" || local == "lang" {
			return "xml:" + local, true
		}
		return "", false
	case a.Name.Space != "":
		return "", false // editors' namespaces (Inkscape, Sketch)
	case lower == "href":
		return "href", strings.HasPrefix(strings.TrimSpace(a.Value), "#")
	case lower == "style":
		return "style", !unsafeCSS.MatchString(a.Value)
	case lower == "src" || lower == "action" || lower == "formaction":
		return "", false
	}
	if strings.Contains(strings.ToLower(a.Value), "javascript:") || unsafeCSS.MatchString(a.Value) {
		return "", false // fill="url(https://…)" and the like
	}
	return local, true
}

var (
	textEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")
	attrEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "\n", "&#10;", "\t", "&#9;")
)

func setOf(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}
