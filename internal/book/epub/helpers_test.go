package epub

import (
	"archive/zip"
	"bytes"
	"strings"
	"testing"
)

// entry is one file of a test archive.
type entry struct {
	name  string
	body  string
	store bool // stored rather than deflated
}

// buildZip makes a zip archive of entries, in order, with names taken as is
// (archive/zip writes hostile names without complaint).
func buildZip(t testing.TB, entries []entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range entries {
		method := zip.Deflate
		if e.store {
			method = zip.Store
		}
		w, err := zw.CreateHeader(&zip.FileHeader{Name: e.name, Method: method})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte(e.body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func read(data []byte, lim Limits) (*Book, error) {
	return Read(bytes.NewReader(data), int64(len(data)), lim)
}

const mimetype = "application/epub+zip"

func container(opf string) string {
	return `<?xml version="1.0" encoding="UTF-8"?>
<container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container">
  <rootfiles>
    <rootfile full-path="` + opf + `" media-type="application/oebps-package+xml"/>
  </rootfiles>
</container>`
}

// minimalOPF is a package document with the given manifest items and spine
// itemrefs, for tests that need a small, otherwise valid book.
func minimalOPF(manifest, spine string) string {
	return `<?xml version="1.0" encoding="UTF-8"?>
<package xmlns="http://www.idpf.org/2007/opf" version="3.0" unique-identifier="id">
  <metadata xmlns:dc="http://purl.org/dc/elements/1.1/">
    <dc:identifier id="id">urn:test</dc:identifier>
    <dc:title>Small</dc:title>
    <dc:language>en</dc:language>
  </metadata>
  <manifest>` + manifest + `</manifest>
  <spine>` + spine + `</spine>
</package>`
}

func xhtml(title, body string) string {
	return `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE html>
<html xmlns="http://www.w3.org/1999/xhtml" xmlns:epub="http://www.idpf.org/2007/ops">
<head><title>` + title + `</title></head>
<body>` + body + `</body>
</html>`
}

// smallBook is a valid one-chapter EPUB 3 whose chapter is body, with extra
// entries appended to the archive.
func smallBook(t testing.TB, body string, extra ...entry) []byte {
	t.Helper()
	entries := []entry{
		{name: "mimetype", body: mimetype, store: true},
		{name: "META-INF/container.xml", body: container("OEBPS/content.opf")},
		{name: "OEBPS/content.opf", body: minimalOPF(
			`<item id="c1" href="c1.xhtml" media-type="application/xhtml+xml"/>`,
			`<itemref idref="c1"/>`)},
		{name: "OEBPS/c1.xhtml", body: xhtml("One", body)},
	}
	return buildZip(t, append(entries, extra...))
}

// epub3 is a valid EPUB 3 book exercising the reading rules: a navigation
// document in the spine, a linear="no" cover, a file name with a space
// (referenced as %20), a chapter titled by a nav link with a fragment, one
// titled by its first heading, one titled by <title>, and an empty one.
func epub3(t testing.TB) []byte {
	t.Helper()
	opf := "\ufeff" + `<?xml version="1.0" encoding="UTF-8"?>
<package xmlns="http://www.idpf.org/2007/opf" version="3.0" unique-identifier="pub-id">
  <metadata xmlns:dc="http://purl.org/dc/elements/1.1/">
    <dc:identifier id="isbn">urn:isbn:9780000000000</dc:identifier>
    <dc:identifier id="pub-id">urn:uuid:0b6a7f2e-1c1d-4a7e-9c51-000000000001</dc:identifier>
    <dc:title>  The   Test Book </dc:title>
    <dc:creator id="c1">Ada Author</dc:creator>
    <dc:creator id="c2">Ivan Illustrator</dc:creator>
    <dc:creator id="c3">Bea Author</dc:creator>
    <meta refines="#c2" property="role" scheme="marc:relators">ill</meta>
    <meta refines="#c1" property="role" scheme="marc:relators">aut</meta>
    <dc:language>en-GB</dc:language>
    <meta property="dcterms:modified">2024-01-01T00:00:00Z</meta>
  </metadata>
  <manifest>
    <item id="nav" href="text/nav.xhtml" media-type="application/xhtml+xml" properties="nav"/>
    <item id="cover" href="text/cover.xhtml" media-type="application/xhtml+xml"/>
    <item id="ch1" href="text/chapter%20one.xhtml" media-type="application/xhtml+xml"/>
    <item id="ch2" href="text/ch2.xhtml#start" media-type="application/xhtml+xml"/>
    <item id="ch3" href="text/ch3.xhtml" media-type="application/xhtml+xml"/>
    <item id="blank" href="text/blank.xhtml" media-type="application/xhtml+xml"/>
    <item id="ch4" href="./text/../text/ch4.xhtml" media-type="application/xhtml+xml"/>
    <item id="css" href="style/book.css" media-type="text/css"/>
    <item id="img" href="images/cat.png" media-type="image/png"/>
    <item id="font" href="https://fonts.example.com/serif.woff2" media-type="font/woff2"/>
  </manifest>
  <spine>
    <itemref idref="cover" linear="no"/>
    <itemref idref="nav"/>
    <itemref idref="ch1"/>
    <itemref idref="ch2"/>
    <itemref idref="blank"/>
    <itemref idref="ch3" linear="yes"/>
    <itemref idref="ch4"/>
  </spine>
</package>`
	nav := xhtml("Contents", `
<nav epub:type="landmarks"><ol><li><a href="cover.xhtml">Cover page</a></li></ol></nav>
<nav epub:type="toc" id="toc">
  <h1>Contents</h1>
  <ol>
    <li><a href="chapter%20one.xhtml">Chapter One:
        <span>Beginnings</span></a>
      <ol><li><a href="chapter%20one.xhtml#lists">Lists</a></li></ol>
    </li>
    <li><a href="ch2.xhtml#start">Two</a></li>
    <li><span>Part without a link</span></li>
  </ol>
</nav>`)
	ch1 := xhtml("chapter one", `
<section epub:type="chapter">
  <h1 id="c1">Chapter <em>One</em></h1>
  <p>It was a <em>dark</em> and <strong>stormy</strong> night; the <code>config.yaml</code> file
     said <code>a`+"`"+`b</code>.<br/>Second   line.</p>
  <p>See <a href="ch2.xhtml#start">the next chapter</a> or <a href="https://example.com/a b">the site</a>.<a id="anchor"/> Done.</p>
  <h2 id="lists">Lists</h2>
  <ul>
    <li>apples</li>
    <li>pears
      <ol start="3">
        <li>third</li>
        <li>fourth</li>
      </ol>
    </li>
    <li><p>figs</p><p>and dates</p></li>
  </ul>
  <table>
    <thead><tr><th>Fruit</th><th>Price | each</th></tr></thead>
    <tbody>
      <tr><td>apple</td><td><p>1</p><p>euro</p></td></tr>
      <tr><td colspan="2">sold out</td></tr>
    </tbody>
  </table>
  <pre><code class="language-go">func main() {
	fmt.Println("`+"```"+`")
}
</code></pre>
  <p><img src="../images/cat.png" alt="A sleeping cat"/></p>
  <blockquote><p>To be, or not to be.</p><p>That is the question.</p></blockquote>
  <hr/>
  <p># not a heading, 1. not a list, *not emphasis*, [not a link]</p>
  <script>document.write("dropped")</script>
  <aside epub:type="footnote" id="fn1"><p>A footnote.</p></aside>
</section>`)
	ch2 := xhtml("", `<section id="start"><p>Chapter two has no heading.</p></section>`)
	ch3 := xhtml("Ignored title", `<div><h2>Third <b>Heading</b></h2><dl><dt>Term</dt><dd>Its definition.</dd></dl></div>`)
	ch4 := xhtml("The Fourth", `<p>Only a paragraph.</p><figure><img src="x.png" alt=""/><figcaption>A caption.</figcaption></figure>`)
	return buildZip(t, []entry{
		{name: "mimetype", body: mimetype, store: true},
		{name: "META-INF/", body: ""},
		{name: "META-INF/container.xml", body: container("OEBPS/content.opf")},
		{name: "OEBPS/content.opf", body: opf},
		{name: "OEBPS/text/nav.xhtml", body: nav},
		{name: "OEBPS/text/cover.xhtml", body: xhtml("Cover", `<p>COVER</p>`)},
		{name: "OEBPS/text/chapter one.xhtml", body: ch1},
		{name: "OEBPS/text/ch2.xhtml", body: ch2},
		{name: "OEBPS/text/ch3.xhtml", body: ch3},
		{name: "OEBPS/text/blank.xhtml", body: xhtml("Blank", "\n  <div>\u00a0</div> <p> </p>\n")},
		{name: "OEBPS/text/ch4.xhtml", body: ch4},
		{name: "OEBPS/style/book.css", body: "p { margin: 0 }"},
		{name: "OEBPS/images/cat.png", body: "\x89PNG\r\n\x1a\n", store: true},
	})
}

// epub2 is a valid EPUB 2 book: an NCX table of contents, no navigation
// document, OPF 2 metadata, a content directory other than OEBPS.
func epub2(t testing.TB) []byte {
	t.Helper()
	opf := `<?xml version="1.0" encoding="utf-8"?>
<opf:package xmlns:opf="http://www.idpf.org/2007/opf" version="2.0" unique-identifier="BookId">
  <opf:metadata xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:opf="http://www.idpf.org/2007/opf">
    <dc:title>Old &amp; Faithful</dc:title>
    <dc:creator opf:role="edt">Ed Editor</dc:creator>
    <dc:creator opf:role="aut" opf:file-as="Writer, Wanda">Wanda Writer</dc:creator>
    <dc:language>fr</dc:language>
    <dc:identifier id="BookId" opf:scheme="ISBN">9781111111111</dc:identifier>
  </opf:metadata>
  <opf:manifest>
    <opf:item id="ncx" href="toc.ncx" media-type="application/x-dtbncx+xml"/>
    <opf:item id="p1" href="Text/part1.html" media-type="application/xhtml+xml"/>
    <opf:item id="p2" href="Text/part2.html" media-type="application/xhtml+xml"/>
    <opf:item id="p3" href="Text/notes.html" media-type="application/xhtml+xml"/>
  </opf:manifest>
  <opf:spine toc="ncx">
    <opf:itemref idref="p1"/>
    <opf:itemref idref="p2"/>
    <opf:itemref idref="p3"/>
  </opf:spine>
</opf:package>`
	ncx := `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE ncx PUBLIC "-//NISO//DTD ncx 2005-1//EN" "http://www.daisy.org/z3986/2005/ncx-2005-1.dtd">
<ncx xmlns="http://www.daisy.org/z3986/2005/ncx/" version="2005-1">
  <head><meta name="dtb:uid" content="9781111111111"/></head>
  <docTitle><text>Old &amp; Faithful</text></docTitle>
  <navMap>
    <navPoint id="n1" playOrder="1">
      <navLabel><text>Part&nbsp;One</text></navLabel>
      <content src="Text/part1.html"/>
      <navPoint id="n2" playOrder="2">
        <navLabel><text>A section</text></navLabel>
        <content src="Text/part1.html#s1"/>
      </navPoint>
      <navPoint id="n3" playOrder="3">
        <navLabel><text>
          Part   Two
        </text></navLabel>
        <content src="Text/part2.html"/>
      </navPoint>
    </navPoint>
  </navMap>
</ncx>`
	part1 := `<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.1//EN" "http://www.w3.org/TR/xhtml11/DTD/xhtml11.dtd">
<html xmlns="http://www.w3.org/1999/xhtml"><head><title/><link rel="stylesheet" href="../style.css"/></head>
<body><h1 class="chapter">I</h1><p class="first">Première partie, avec des <i>italiques</i>.</p>
<h2 id="s1">Section</h2><p>Texte.</p></body></html>`
	part2 := `<html xmlns="http://www.w3.org/1999/xhtml"><head><title>Deux</title></head>
<body><p>Deuxième partie.</p></body></html>`
	notes := `<html xmlns="http://www.w3.org/1999/xhtml"><head><title>Notes</title></head>
<body><div class="note"><p>1. Une note.</p></div></body></html>`
	return buildZip(t, []entry{
		{name: "mimetype", body: mimetype, store: true},
		{name: "META-INF/container.xml", body: container("OPS/book.opf")},
		{name: "OPS/book.opf", body: opf},
		{name: "OPS/toc.ncx", body: ncx},
		{name: "OPS/Text/part1.html", body: part1},
		{name: "OPS/Text/part2.html", body: part2},
		{name: "OPS/Text/notes.html", body: notes},
	})
}

func zeros(n int) string { return strings.Repeat("\x00", n) }
