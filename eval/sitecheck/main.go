// Command sitecheck reads every page of a running Lectern reader as a
// reader's browser would and reports what is broken: images that do not
// load, links inside the book that lead to no page (unresolved) or to no
// heading of their page (broken anchors), and MDX or Docusaurus markup
// shown as text. It exits 1 when any image is broken, any markup is
// visible, or more than 1% of the internal links are unresolved; broken
// anchors are listed, and are most often the source's own (Docusaurus
// itself only warns of them).
//
//	go run ./eval/sitecheck http://127.0.0.1:8080
//
// eval/sitecheck.sh serves a Docusaurus site with Lectern and runs it.
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"time"

	"golang.org/x/net/html"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: sitecheck BASE_URL")
		os.Exit(2)
	}
	ok, err := check(os.Args[1], os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "sitecheck:", err)
		os.Exit(2)
	}
	if !ok {
		os.Exit(1)
	}
}

// markup is what MDX or Docusaurus leaves on a page when it is shown as
// text: a component tag, an import or export line, an admonition fence,
// an mdx-code-block fence, a JSX expression.
var markup = regexp.MustCompile(`<[A-Z][A-Za-z0-9.]*[\s/>]|^\s*(?:import|export)\s.+\sfrom\s+['"]|^\s*:::[a-z]*\s*$|mdx-code-block|\{/\*|\bclassName=`)

type page struct {
	url     string
	ids     map[string]bool
	links   []string // internal links: paths with an optional fragment
	images  []string
	visible []string // text lines with markup, outside code
}

func check(base string, out io.Writer) (bool, error) {
	c := &http.Client{Timeout: 30 * time.Second}
	var book struct {
		Pages []struct{ URL string } `json:"pages"`
	}
	if err := getJSON(c, base+"/api/book", &book); err != nil {
		return false, err
	}
	pages := map[string]*page{}
	for _, p := range book.Pages {
		pg, err := fetchPage(c, base, p.URL)
		if err != nil {
			return false, err
		}
		pages[p.URL] = pg
	}
	var brokenImages, unresolved, anchors, shown []string
	links := 0
	seenImage := map[string]bool{}
	for _, p := range book.Pages {
		pg := pages[p.URL]
		for _, src := range pg.images {
			if seenImage[src] {
				continue
			}
			seenImage[src] = true
			if why := imageProblem(c, base, src); why != "" {
				brokenImages = append(brokenImages, fmt.Sprintf("%s: %s (%s)", p.URL, src, why))
			}
		}
		for _, l := range pg.links {
			links++
			path, frag, _ := strings.Cut(l, "#")
			target, ok := pages[path]
			if !ok {
				target, ok = pages[strings.TrimSuffix(path, "/")]
			}
			switch {
			case !ok:
				unresolved = append(unresolved, fmt.Sprintf("%s: %s", p.URL, l))
			case frag != "" && !target.ids[frag]:
				anchors = append(anchors, fmt.Sprintf("%s: %s", p.URL, l))
			}
		}
		for _, v := range pg.visible {
			shown = append(shown, fmt.Sprintf("%s: %q", p.URL, v))
		}
	}
	report := func(what string, list []string) {
		fmt.Fprintf(out, "%s: %d\n", what, len(list))
		for _, l := range list {
			fmt.Fprintln(out, "  "+l)
		}
	}
	fmt.Fprintf(out, "pages: %d, images: %d, internal links: %d\n", len(book.Pages), len(seenImage), links)
	report("broken images", brokenImages)
	report("internal links to no page", unresolved)
	report("internal links to no heading of their page", anchors)
	report("markup shown as text", shown)
	share := func(n int) float64 {
		if links == 0 {
			return 0
		}
		return 100 * float64(n) / float64(links)
	}
	fmt.Fprintf(out, "unresolved internal links: %.2f%% (at most 1%%); to no heading: %.2f%%\n", share(len(unresolved)), share(len(anchors)))
	return len(brokenImages) == 0 && len(shown) == 0 && share(len(unresolved)) <= 1, nil
}

func getJSON(c *http.Client, u string, v any) error {
	res, err := c.Get(u)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", u, res.Status)
	}
	return json.NewDecoder(res.Body).Decode(v)
}

// fetchPage reads one page of the book: the ids of its article, its
// links within the book, its images, and the text lines that show markup.
func fetchPage(c *http.Client, base, path string) (*page, error) {
	res, err := c.Get(base + path)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: %s", path, res.Status)
	}
	doc, err := html.Parse(res.Body)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	article := find(doc, func(n *html.Node) bool { return n.Data == "article" })
	if article == nil {
		return nil, errors.New(path + ": no article")
	}
	pg := &page{url: path, ids: map[string]bool{}}
	baseURL, _ := url.Parse(base + path)
	var text strings.Builder
	var walk func(n *html.Node, inCode bool)
	walk = func(n *html.Node, inCode bool) {
		if n.Type == html.ElementNode {
			inCode = inCode || n.Data == "code" || n.Data == "pre"
			if id := attr(n, "id"); id != "" {
				pg.ids[id] = true
			}
			switch n.Data {
			case "a":
				if u, err := baseURL.Parse(attr(n, "href")); err == nil && u.Host == baseURL.Host && strings.HasPrefix(u.Path, "/docs/") {
					l := u.Path
					if u.Fragment != "" {
						l += "#" + u.Fragment
					}
					pg.links = append(pg.links, l)
				}
			case "img":
				pg.images = append(pg.images, attr(n, "src"))
			case "p", "li", "div", "h1", "h2", "h3", "h4", "h5", "h6", "td", "th", "br", "summary":
				text.WriteByte('\n')
			}
		}
		if n.Type == html.TextNode && !inCode {
			text.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c, inCode)
		}
	}
	walk(article, false)
	for _, line := range strings.Split(text.String(), "\n") {
		if markup.MatchString(line) {
			pg.visible = append(pg.visible, strings.TrimSpace(line))
		}
	}
	return pg, nil
}

// imageProblem is why an image does not load, "" when it does.
func imageProblem(c *http.Client, base, src string) string {
	u, err := url.Parse(base)
	if err != nil {
		return err.Error()
	}
	img, err := u.Parse(src)
	if err != nil {
		return err.Error()
	}
	if img.Host != u.Host {
		return "from another site, which the pages' policy blocks"
	}
	res, err := c.Get(img.String())
	if err != nil {
		return err.Error()
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(res.Body, 64<<20))
	switch {
	case res.StatusCode != http.StatusOK:
		return res.Status
	case !strings.HasPrefix(res.Header.Get("Content-Type"), "image/"):
		return "served as " + res.Header.Get("Content-Type")
	case len(body) == 0:
		return "empty"
	}
	return ""
}

func find(n *html.Node, match func(*html.Node) bool) *html.Node {
	if n.Type == html.ElementNode && match(n) {
		return n
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if f := find(c, match); f != nil {
			return f
		}
	}
	return nil
}

func attr(n *html.Node, name string) string {
	for _, a := range n.Attr {
		if a.Key == name {
			return a.Val
		}
	}
	return ""
}
