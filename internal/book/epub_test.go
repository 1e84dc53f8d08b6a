package book

import (
	"archive/zip"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeEPUB writes a zip of files (name → content), mimetype first and
// stored, as EPUB requires.
func writeEPUB(t *testing.T, files [][2]string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "book.epub")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(f)
	for _, kv := range files {
		method := zip.Deflate
		if kv[0] == "mimetype" {
			method = zip.Store
		}
		w, err := zw.CreateHeader(&zip.FileHeader{Name: kv[0], Method: method})
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(kv[1]))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	return p
}

const (
	container = `<?xml version="1.0"?><container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container"><rootfiles><rootfile full-path="OEBPS/content.opf" media-type="application/oebps-package+xml"/></rootfiles></container>`
	opf       = `<?xml version="1.0"?><package xmlns="http://www.idpf.org/2007/opf" version="3.0" unique-identifier="id"><metadata xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:identifier id="id">urn:x</dc:identifier><dc:title>Tides and Moons</dc:title><dc:language>en</dc:language></metadata>
<manifest><item id="nav" href="nav.xhtml" media-type="application/xhtml+xml" properties="nav"/><item id="c1" href="text/Chapter%201.xhtml" media-type="application/xhtml+xml"/><item id="c2" href="text/ch2.xhtml" media-type="application/xhtml+xml"/></manifest>
<spine><itemref idref="c2"/><itemref idref="c1"/></spine></package>`
	nav = `<?xml version="1.0"?><html xmlns="http://www.w3.org/1999/xhtml" xmlns:epub="http://www.idpf.org/2007/ops"><body><nav epub:type="toc"><ol><li><a href="text/ch2.xhtml">Why tides happen</a></li><li><a href="text/Chapter%201.xhtml">The moon</a></li></ol></nav></body></html>`
	ch1 = `<?xml version="1.0"?><html xmlns="http://www.w3.org/1999/xhtml"><head><title>c1</title></head><body><h1>The moon</h1><p>The moon orbits the earth every 27.3 days.</p><h2>Phases</h2><p>A full cycle of phases takes 29.5 days.</p><script>alert(1)</script></body></html>`
	ch2 = `<?xml version="1.0"?><html xmlns="http://www.w3.org/1999/xhtml"><body><h1>Why tides happen</h1><p>The moon's gravity pulls the oceans.</p><h2>Spring &amp; neap tides</h2><table><tr><th>Tide</th><th>Range</th></tr><tr><td>Spring</td><td>Large</td></tr></table><pre><code>tide = moon + sun</code></pre></body></html>`
)

func TestLoadEPUB(t *testing.T) {
	p := writeEPUB(t, [][2]string{
		{"mimetype", "application/epub+zip"}, {"META-INF/container.xml", container}, {"OEBPS/content.opf", opf},
		{"OEBPS/nav.xhtml", nav}, {"OEBPS/text/Chapter 1.xhtml", ch1}, {"OEBPS/text/ch2.xhtml", ch2},
	})
	b, err := Load(p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if b.Title != "Tides and Moons" || b.Format != FormatEPUB || len(b.Docs) != 2 || len(b.TOC) != 2 {
		t.Fatalf("title %q format %q docs %d", b.Title, b.Format, len(b.Docs))
	}
	first, second := b.Docs[0], b.Docs[1]
	if first.Path != "OEBPS/text/ch2.xhtml" || first.Title != "Why tides happen" || first.Slug != "ch2" {
		t.Errorf("first in spine order: %+v", first)
	}
	if second.Title != "The moon" || second.Slug != "chapter-1" {
		t.Errorf("second: %q %q", second.Title, second.Slug)
	}
	if len(first.Sections) != 2 || first.Sections[1].Anchor != "spring--neap-tides" || !strings.Contains(first.HTML, `id="spring--neap-tides"`) {
		t.Errorf("sections %+v", first.Sections)
	}
	if !strings.Contains(first.HTML, "<table>") || !strings.Contains(first.HTML, "<pre><code>tide = moon + sun") {
		t.Errorf("table or code lost:\n%s", first.HTML)
	}
	if strings.Contains(second.HTML, "alert") || len(second.Chunks("b")) == 0 {
		t.Errorf("script survived or no chunks:\n%s", second.HTML)
	}
}

func TestLoadEPUBRefusesHostileArchives(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files [][2]string
		want  string
	}{
		{"a path escaping the archive", [][2]string{{"mimetype", "application/epub+zip"}, {"../evil.xhtml", "x"}, {"META-INF/container.xml", container}}, "../evil.xhtml"},
		{"no container", [][2]string{{"mimetype", "application/epub+zip"}, {"OEBPS/content.opf", opf}}, "container.xml"},
		{"a spine item missing from the archive", [][2]string{{"mimetype", "application/epub+zip"}, {"META-INF/container.xml", container}, {"OEBPS/content.opf", opf}, {"OEBPS/nav.xhtml", nav}}, "ch2.xhtml"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(writeEPUB(t, tc.files), Options{})
			var be *Error
			if !errors.As(err, &be) || be.File != "book.epub" || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v", err)
			}
		})
	}
	t.Run("not a zip at all", func(t *testing.T) {
		p := filepath.Join(t.TempDir(), "fake.epub")
		os.WriteFile(p, []byte("just text"), 0o644)
		if _, err := Load(p, Options{}); err == nil || !strings.HasPrefix(err.Error(), "fake.epub: ") {
			t.Fatalf("got %v", err)
		}
	})
}

// TestEPUBImagesAreShown checks that an EPUB's images become assets of the
// book, each shown once with its alt text, and that one the archive lacks
// is reported.
func TestEPUBImagesAreShown(t *testing.T) {
	moon := "\x89PNG\r\n\x1a\n moon"
	withImages := strings.Replace(ch1, "<h2>Phases</h2>",
		`<figure><img src="../images/moon%20full.png" alt="The full moon"/><figcaption>The moon when full.</figcaption></figure><p><img src="../images/gone.png" alt="Lost"/></p><h2>Phases</h2>`, 1)
	p := writeEPUB(t, [][2]string{
		{"mimetype", "application/epub+zip"}, {"META-INF/container.xml", container}, {"OEBPS/content.opf", opf},
		{"OEBPS/nav.xhtml", nav}, {"OEBPS/text/Chapter 1.xhtml", withImages}, {"OEBPS/text/ch2.xhtml", ch2},
		{"OEBPS/images/moon full.png", moon},
	})
	b, err := Load(p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Assets) != 1 || string(b.Assets[0].Data) != moon || b.Assets[0].Type != "image/png" {
		t.Fatalf("assets %+v, want the moon", b.Assets)
	}
	page := b.Docs[1].HTML
	want := `<img src="` + AssetURL(b.Assets[0].Name) + `" loading="lazy" alt="The full moon">`
	if !strings.Contains(page, want) || strings.Count(page, "The full moon") != 1 {
		t.Errorf("no %s, once, in\n%s", want, page)
	}
	if len(b.Problems) != 1 || !strings.Contains(b.Problems[0].String(), "image ../images/gone.png (no such file) not shown") {
		t.Errorf("problems %v", b.Problems)
	}
}
