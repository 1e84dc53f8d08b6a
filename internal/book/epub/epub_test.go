package epub

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"errors"
	"hash/crc32"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

const chapterOne = "# Chapter *One*\n" +
	"\n" +
	"It was a *dark* and **stormy** night; the `config.yaml` file said ``a`b``.\\\n" +
	"Second line.\n" +
	"\n" +
	"See the next chapter or [the site](https://example.com/a%20b). Done.\n" +
	"\n" +
	"## Lists\n" +
	"\n" +
	"- apples\n" +
	"- pears\n" +
	"\n" +
	"  3. third\n" +
	"  4. fourth\n" +
	"- figs\n" +
	"\n" +
	"  and dates\n" +
	"\n" +
	"| Fruit | Price \\| each |\n" +
	"| --- | --- |\n" +
	"| apple | 1 euro |\n" +
	"| sold out |  |\n" +
	"\n" +
	"````go\n" +
	"func main() {\n" +
	"\tfmt.Println(\"```\")\n" +
	"}\n" +
	"````\n" +
	"\n" +
	"![A sleeping cat](../images/cat.png)\n" +
	"\n" +
	"> To be, or not to be.\n" +
	">\n" +
	"> That is the question.\n" +
	"\n" +
	"---\n" +
	"\n" +
	"\\# not a heading, 1. not a list, \\*not emphasis\\*, \\[not a link\\]\n" +
	"\n" +
	"A footnote.\n"

func TestReadEPUB3(t *testing.T) {
	book, err := read(epub3(t), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	want := Book{
		Title:      "The Test Book",
		Creator:    "Ada Author, Bea Author",
		Language:   "en-GB",
		Identifier: "urn:uuid:0b6a7f2e-1c1d-4a7e-9c51-000000000001",
		Docs: []Doc{
			{Href: "OEBPS/text/chapter one.xhtml", Title: "Chapter One: Beginnings", Markdown: chapterOne},
			{Href: "OEBPS/text/ch2.xhtml", Title: "Two", Markdown: "Chapter two has no heading.\n"},
			{Href: "OEBPS/text/ch3.xhtml", Title: "Third Heading", Markdown: "## Third **Heading**\n\n**Term**\n\nIts definition.\n"},
			{Href: "OEBPS/text/ch4.xhtml", Title: "The Fourth", Markdown: "Only a paragraph.\n\n![](x.png)\n\nA caption.\n"},
		},
	}
	compareBooks(t, book, &want)
	// The cat is in the archive; x.png, which ch4 shows, is not.
	if len(book.Images) != 1 || string(book.Images["OEBPS/images/cat.png"]) != "\x89PNG\r\n\x1a\n" {
		t.Errorf("images %v, want the cat's only", book.Images)
	}
}

func TestReadEPUB2(t *testing.T) {
	book, err := read(epub2(t), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	want := Book{
		Title:      "Old & Faithful",
		Creator:    "Wanda Writer",
		Language:   "fr",
		Identifier: "9781111111111",
		Docs: []Doc{
			{Href: "OPS/Text/part1.html", Title: "Part One", Markdown: "# I\n\nPremière partie, avec des *italiques*.\n\n## Section\n\nTexte.\n"},
			{Href: "OPS/Text/part2.html", Title: "Part Two", Markdown: "Deuxième partie.\n"},
			{Href: "OPS/Text/notes.html", Title: "Notes", Markdown: "1\\. Une note.\n"},
		},
	}
	compareBooks(t, book, &want)
}

func compareBooks(t *testing.T, got, want *Book) {
	t.Helper()
	if got.Title != want.Title || got.Creator != want.Creator || got.Language != want.Language || got.Identifier != want.Identifier {
		t.Errorf("metadata = %q, %q, %q, %q; want %q, %q, %q, %q",
			got.Title, got.Creator, got.Language, got.Identifier,
			want.Title, want.Creator, want.Language, want.Identifier)
	}
	for i := range max(len(got.Docs), len(want.Docs)) {
		switch {
		case i >= len(got.Docs):
			t.Errorf("doc %d missing, want %s", i, want.Docs[i].Href)
		case i >= len(want.Docs):
			t.Errorf("unexpected doc %d: %s", i, got.Docs[i].Href)
		default:
			g, w := got.Docs[i], want.Docs[i]
			if g.Href != w.Href || g.Title != w.Title {
				t.Errorf("doc %d = %q titled %q, want %q titled %q", i, g.Href, g.Title, w.Href, w.Title)
			}
			if g.Markdown != w.Markdown {
				t.Errorf("doc %d (%s) Markdown:\n%s\nwant:\n%s", i, g.Href, g.Markdown, w.Markdown)
			}
		}
	}
}

func TestOpenReadsAFileAndRefusesWhatIsNotOne(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "book.epub")
	if err := os.WriteFile(path, epub2(t), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Run("an EPUB file is read", func(t *testing.T) {
		book, err := Open(path, Limits{})
		if err != nil {
			t.Fatal(err)
		}
		if book.Title != "Old & Faithful" || len(book.Docs) != 3 {
			t.Errorf("got %q with %d docs", book.Title, len(book.Docs))
		}
	})
	t.Run("a missing file gives the file system's error", func(t *testing.T) {
		_, err := Open(filepath.Join(dir, "nope.epub"), Limits{})
		if !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("err = %v, want fs.ErrNotExist", err)
		}
	})
	t.Run("a directory is not an EPUB", func(t *testing.T) {
		_, err := Open(dir, Limits{})
		if !errors.Is(err, ErrNotEPUB) {
			t.Errorf("err = %v, want ErrNotEPUB", err)
		}
	})
}

// rawEntry is an entry written with CreateRaw: its header says what the
// test wants, whatever the data is.
type rawEntry struct {
	header zip.FileHeader
	data   []byte
}

func buildRawZip(t *testing.T, plain []entry, raw ...rawEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range plain {
		w, err := zw.Create(e.name)
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(w, e.body)
	}
	for _, e := range raw {
		h := e.header
		w, err := zw.CreateRaw(&h)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(e.data)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func deflate(t *testing.T, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	fw, err := flate.NewWriter(&buf, flate.BestCompression)
	if err != nil {
		t.Fatal(err)
	}
	fw.Write(data)
	fw.Close()
	return buf.Bytes()
}

// bookWithout returns the entries of a small valid book whose only chapter,
// named chapter, is left for the caller to add.
func bookWithout(chapter string) []entry {
	return []entry{
		{name: "mimetype", body: mimetype, store: true},
		{name: "META-INF/container.xml", body: container("OEBPS/content.opf")},
		{name: "OEBPS/content.opf", body: minimalOPF(
			`<item id="c1" href="`+strings.TrimPrefix(chapter, "OEBPS/")+`" media-type="application/xhtml+xml"/>`,
			`<itemref idref="c1"/>`)},
	}
}

func TestHostileAndBrokenArchivesAreRefusedClearly(t *testing.T) {
	randomBytes := make([]byte, 4096)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range randomBytes {
		randomBytes[i] = byte(rng.Uint32())
	}
	bigZeros := []byte(zeros(20 << 20))
	tests := []struct {
		name string
		data func(t *testing.T) []byte
		lim  Limits
		kind error
		msg  string // the error message must contain this (a regular expression)
	}{
		{
			name: "random bytes are not a zip archive",
			data: func(*testing.T) []byte { return randomBytes },
			kind: ErrNotEPUB, msg: "epub: not a zip archive",
		},
		{
			name: "an empty file is not a zip archive",
			data: func(*testing.T) []byte { return nil },
			kind: ErrNotEPUB, msg: "not a zip archive (the file is empty)",
		},
		{
			name: "a truncated EPUB is not a zip archive",
			data: func(t *testing.T) []byte { return epub3(t)[:1000] },
			kind: ErrNotEPUB, msg: "not a zip archive",
		},
		{
			name: "a zip without META-INF/container.xml is not an EPUB",
			data: func(t *testing.T) []byte {
				return buildZip(t, []entry{{name: "readme.txt", body: "hello"}})
			},
			kind: ErrNotEPUB, msg: "epub: META-INF/container.xml missing",
		},
		{
			name: "a zip whose mimetype names another format is not an EPUB",
			data: func(t *testing.T) []byte {
				return buildZip(t, []entry{{name: "mimetype", body: "application/vnd.oasis.opendocument.text", store: true}})
			},
			kind: ErrNotEPUB, msg: `entry mimetype: media type is "application/vnd.oasis.opendocument.text", not application/epub+zip`,
		},
		{
			name: "an entry named ../evil.xhtml is a path traversal",
			data: func(t *testing.T) []byte { return smallBook(t, "<p>x</p>", entry{name: "../evil.xhtml", body: "x"}) },
			kind: ErrUnsafe, msg: "epub: entry ../evil.xhtml: path escapes the archive",
		},
		{
			name: "an entry that climbs out after descending is a path traversal",
			data: func(t *testing.T) []byte {
				return smallBook(t, "<p>x</p>", entry{name: "OEBPS/../../etc/passwd", body: "x"})
			},
			kind: ErrUnsafe, msg: "entry OEBPS/../../etc/passwd: path escapes the archive",
		},
		{
			name: "an absolute entry name is refused",
			data: func(t *testing.T) []byte { return smallBook(t, "<p>x</p>", entry{name: "/abs.xhtml", body: "x"}) },
			kind: ErrUnsafe, msg: "entry /abs.xhtml: absolute path",
		},
		{
			name: "an entry name with a drive letter is refused",
			data: func(t *testing.T) []byte {
				return smallBook(t, "<p>x</p>", entry{name: "C:/Windows/x.xhtml", body: "x"})
			},
			kind: ErrUnsafe, msg: "entry C:/Windows/x.xhtml: absolute path (drive letter)",
		},
		{
			name: "an entry name with backslashes is refused",
			data: func(t *testing.T) []byte { return smallBook(t, "<p>x</p>", entry{name: `a\..\b`, body: "x"}) },
			kind: ErrUnsafe, msg: `entry a\..\b: the name contains a backslash`,
		},
		{
			name: "an entry name with a NUL byte is refused and quoted",
			data: func(t *testing.T) []byte {
				return smallBook(t, "<p>x</p>", entry{name: "OEBPS/a\x00.xhtml", body: "x"})
			},
			kind: ErrUnsafe, msg: `entry "OEBPS/a\x00.xhtml": the name contains a NUL byte`,
		},
		{
			name: "two entries with the same name are refused",
			data: func(t *testing.T) []byte {
				return smallBook(t, "<p>x</p>", entry{name: "OEBPS/./c1.xhtml", body: "<p>other</p>"})
			},
			kind: ErrUnsafe, msg: "entry OEBPS/./c1.xhtml: the name appears more than once in the archive",
		},
		{
			name: "too many entries are refused before any is read",
			data: func(t *testing.T) []byte {
				var extra []entry
				for i := range 10 {
					extra = append(extra, entry{name: "OEBPS/f" + string(rune('a'+i)), body: "x"})
				}
				return smallBook(t, "<p>x</p>", extra...)
			},
			lim:  Limits{MaxEntries: 8},
			kind: ErrUnsafe, msg: "epub: the archive has 14 entries, over the limit of 8",
		},
		{
			name: "a 20 MB zip bomb is refused by the entry limit",
			data: func(t *testing.T) []byte {
				e := bookWithout("OEBPS/bomb.xhtml")
				return buildZip(t, append(e, entry{name: "OEBPS/bomb.xhtml", body: string(bigZeros)}))
			},
			lim:  Limits{MaxEntryBytes: 1 << 20, MaxRatio: 1 << 20},
			kind: ErrUnsafe, msg: "entry OEBPS/bomb.xhtml: declares 20971520 bytes uncompressed, over the limit of 1048576 per entry",
		},
		{
			name: "a zip bomb that understates its size is stopped while decompressing",
			data: func(t *testing.T) []byte {
				packed := deflate(t, bigZeros)
				h := zip.FileHeader{
					Name: "OEBPS/bomb.xhtml", Method: zip.Deflate,
					CRC32:              crc32.ChecksumIEEE(bigZeros),
					CompressedSize64:   uint64(len(packed)),
					UncompressedSize64: 1000,
				}
				return buildRawZip(t, bookWithout("OEBPS/bomb.xhtml"), rawEntry{header: h, data: packed})
			},
			kind: ErrUnsafe, msg: "entry OEBPS/bomb.xhtml: decompresses to more bytes than its header declares (zip bomb?)",
		},
		{
			name: "an entry of 5 MB of zeros, compressed about 1000:1, is refused as a zip bomb with default limits",
			data: func(t *testing.T) []byte {
				e := bookWithout("OEBPS/big.xhtml")
				return buildZip(t, append(e, entry{name: "OEBPS/big.xhtml", body: zeros(5 << 20)}))
			},
			// The ratio itself depends on the Go release's compressor.
			kind: ErrUnsafe, msg: `entry OEBPS/big\.xhtml: compression ratio 1\d{3}:1 exceeds 100:1 \(zip bomb\?\)`,
		},
		{
			name: "the total limit stops a book whose entries add up to too much",
			data: func(t *testing.T) []byte { return smallBook(t, strings.Repeat("<p>Some text.</p>", 200)) },
			lim:  Limits{MaxTotalBytes: 2000},
			kind: ErrUnsafe, msg: "entry OEBPS/c1.xhtml: reading it would exceed the limit of 2000 bytes uncompressed for the whole book",
		},
		{
			name: "the total limit caps the Markdown made, too",
			data: func(t *testing.T) []byte {
				return smallBook(t, strings.Repeat("<blockquote>", 6)+strings.Repeat("<p>x</p>", 2000))
			},
			lim:  Limits{MaxTotalBytes: 30000},
			kind: ErrUnsafe, msg: "entry OEBPS/c1.xhtml: the book's Markdown exceeds the limit of 30000 bytes",
		},
		{
			name: "an encrypted entry cannot be read",
			data: func(t *testing.T) []byte {
				h := zip.FileHeader{Name: "OEBPS/c1.xhtml", Method: zip.Store, Flags: 0x1, CompressedSize64: 5, UncompressedSize64: 5}
				return buildRawZip(t, bookWithout("OEBPS/c1.xhtml"), rawEntry{header: h, data: []byte("abcde")})
			},
			kind: ErrMalformed, msg: "entry OEBPS/c1.xhtml: the entry is encrypted",
		},
		{
			name: "a corrupt entry fails its checksum",
			data: func(t *testing.T) []byte {
				h := zip.FileHeader{Name: "OEBPS/c1.xhtml", Method: zip.Store, CRC32: 1, CompressedSize64: 5, UncompressedSize64: 5}
				return buildRawZip(t, bookWithout("OEBPS/c1.xhtml"), rawEntry{header: h, data: []byte("abcde")})
			},
			kind: ErrMalformed, msg: "entry OEBPS/c1.xhtml: checksum mismatch",
		},
		{
			name: "a container pointing to a missing OPF names it",
			data: func(t *testing.T) []byte {
				return buildZip(t, []entry{
					{name: "mimetype", body: mimetype, store: true},
					{name: "META-INF/container.xml", body: container("OEBPS/missing.opf")},
				})
			},
			kind: ErrMalformed, msg: "epub: entry OEBPS/missing.opf: the package document named by META-INF/container.xml is missing",
		},
		{
			name: "a container naming no rootfile is malformed",
			data: func(t *testing.T) []byte {
				return buildZip(t, []entry{{name: "META-INF/container.xml", body: `<container><rootfiles/></container>`}})
			},
			kind: ErrMalformed, msg: "entry META-INF/container.xml: no rootfile names the package document",
		},
		{
			name: "a container pointing outside the archive is unsafe",
			data: func(t *testing.T) []byte {
				return buildZip(t, []entry{{name: "META-INF/container.xml", body: container("../content.opf")}})
			},
			kind: ErrUnsafe, msg: `entry META-INF/container.xml: rootfile "../content.opf": path escapes the archive`,
		},
		{
			name: "invalid XML in the container is malformed",
			data: func(t *testing.T) []byte {
				return buildZip(t, []entry{{name: "META-INF/container.xml", body: `<container><rootfiles>`}})
			},
			kind: ErrMalformed, msg: "entry META-INF/container.xml: not a valid container document: XML syntax error",
		},
		{
			name: "invalid XML in the OPF is malformed",
			data: func(t *testing.T) []byte {
				e := bookWithout("OEBPS/c1.xhtml")
				e[2].body = `<package><metadata><dc:title>Unclosed</metadata></package>`
				return buildZip(t, e)
			},
			kind: ErrMalformed, msg: "entry OEBPS/content.opf: not a valid package document: XML syntax error",
		},
		{
			name: "an entity bomb in the OPF is an error, not a loop",
			data: func(t *testing.T) []byte {
				e := bookWithout("OEBPS/c1.xhtml")
				e[2].body = `<?xml version="1.0"?>
<!DOCTYPE package [
  <!ENTITY a "aaaaaaaaaa">
  <!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
  <!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">
]>
<package><metadata><title>&c;</title></metadata></package>`
				return buildZip(t, e)
			},
			kind: ErrMalformed, msg: "entry OEBPS/content.opf: not a valid package document",
		},
		{
			name: "a spine idref missing from the manifest is named",
			data: func(t *testing.T) []byte {
				e := bookWithout("OEBPS/c1.xhtml")
				e[2].body = minimalOPF(`<item id="c1" href="c1.xhtml" media-type="application/xhtml+xml"/>`,
					`<itemref idref="c1"/><itemref idref="ch3"/>`)
				return buildZip(t, append(e, entry{name: "OEBPS/c1.xhtml", body: xhtml("", "<p>x</p>")}))
			},
			kind: ErrMalformed, msg: "epub: entry OEBPS/content.opf: OPF manifest has no item for spine idref ch3",
		},
		{
			name: "a spine document missing from the archive is named",
			data: func(t *testing.T) []byte { return buildZip(t, bookWithout("OEBPS/c1.xhtml")) },
			kind: ErrMalformed, msg: "epub: entry OEBPS/c1.xhtml: missing from the archive (spine item c1)",
		},
		{
			name: "a spine item whose href is only a fragment is malformed",
			data: func(t *testing.T) []byte {
				e := bookWithout("OEBPS/c1.xhtml")
				e[2].body = minimalOPF(`<item id="c1" href="#top" media-type="application/xhtml+xml"/>`, `<itemref idref="c1"/>`)
				return buildZip(t, e)
			},
			kind: ErrMalformed, msg: "entry OEBPS/content.opf: spine item c1 names no file",
		},
		{
			name: "a manifest href escaping the archive is unsafe",
			data: func(t *testing.T) []byte {
				e := bookWithout("OEBPS/c1.xhtml")
				e[2].body = minimalOPF(`<item id="c1" href="c1.xhtml" media-type="application/xhtml+xml"/>
					<item id="x" href="../../etc/passwd" media-type="text/plain"/>`, `<itemref idref="c1"/>`)
				return buildZip(t, append(e, entry{name: "OEBPS/c1.xhtml", body: xhtml("", "<p>x</p>")}))
			},
			kind: ErrUnsafe, msg: `entry OEBPS/content.opf: manifest item "x" has href "../../etc/passwd": path escapes the archive`,
		},
		{
			name: "an absolute manifest href is unsafe",
			data: func(t *testing.T) []byte {
				e := bookWithout("OEBPS/c1.xhtml")
				e[2].body = minimalOPF(`<item id="c1" href="/etc/passwd" media-type="application/xhtml+xml"/>`, `<itemref idref="c1"/>`)
				return buildZip(t, e)
			},
			kind: ErrUnsafe, msg: `manifest item "c1" has href "/etc/passwd": absolute path`,
		},
		{
			name: "invalid XML in the NCX is malformed",
			data: func(t *testing.T) []byte {
				e := bookWithout("OEBPS/c1.xhtml")
				e[2].body = minimalOPF(`<item id="c1" href="c1.xhtml" media-type="application/xhtml+xml"/>
					<item id="ncx" href="toc.ncx" media-type="application/x-dtbncx+xml"/>`, `<itemref idref="c1"/>`)
				return buildZip(t, append(e,
					entry{name: "OEBPS/c1.xhtml", body: xhtml("", "<p>x</p>")},
					entry{name: "OEBPS/toc.ncx", body: `<ncx><navMap><navPoint></navMap></ncx>`}))
			},
			kind: ErrMalformed, msg: "entry OEBPS/toc.ncx: invalid XML in the NCX table of contents",
		},
		{
			name: "a document whose Markdown would explode is refused",
			data: func(t *testing.T) []byte {
				return smallBook(t, strings.Repeat("<blockquote>", 200)+"<pre>"+strings.Repeat("x\n", 50000)+"</pre>")
			},
			kind: ErrUnsafe, msg: "entry OEBPS/c1.xhtml: document too complex to convert",
		},
		{
			name: "a book whose spine has no text is malformed",
			data: func(t *testing.T) []byte { return smallBook(t, `<p> </p><img src="a.png" alt=""/>`) },
			kind: ErrMalformed, msg: "entry OEBPS/content.opf: no document in the spine has any text",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			book, err := read(tc.data(t), tc.lim)
			if err == nil {
				t.Fatalf("read succeeded with %d docs, want an error", len(book.Docs))
			}
			if !errors.Is(err, tc.kind) {
				t.Errorf("err = %v, want it to wrap %v", err, tc.kind)
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Errorf("err = %T, want *Error", err)
			}
			if !strings.Contains(err.Error(), tc.msg) && !regexp.MustCompile(tc.msg).MatchString(err.Error()) {
				t.Errorf("err = %q, want it to contain %q", err, tc.msg)
			}
		})
	}
}

func TestReadCopesWithSloppyButReadableBooks(t *testing.T) {
	tests := []struct {
		name  string
		data  func(t *testing.T) []byte
		title string
		md    string
	}{
		{
			name:  "invalid UTF-8 in a document becomes U+FFFD",
			data:  func(t *testing.T) []byte { return smallBook(t, "<h1>Caf\xe9</h1><p>na\xefve \xff\xfe text</p>") },
			title: "Caf\uFFFD",
			md:    "# Caf\uFFFD\n\nna\uFFFDve \uFFFD text\n",
		},
		{
			name: "a document in UTF-16 with a byte order mark is decoded",
			data: func(t *testing.T) []byte {
				return buildZip(t, append(bookWithout("OEBPS/c1.xhtml"),
					entry{name: "OEBPS/c1.xhtml", body: utf16LE("\ufeff<html><body><h1>Ünïcode</h1><p>𝄞 clef</p></body></html>")}))
			},
			title: "Ünïcode",
			md:    "# Ünïcode\n\n𝄞 clef\n",
		},
		{
			name: "a reference in the wrong case still finds its file",
			data: func(t *testing.T) []byte {
				return buildZip(t, append(bookWithout("OEBPS/C1.XHTML"),
					entry{name: "OEBPS/c1.xhtml", body: xhtml("T", "<p>found</p>")}))
			},
			title: "T",
			md:    "found\n",
		},
		{
			name: "a manifest item without a media type is read when its name says XHTML",
			data: func(t *testing.T) []byte {
				e := bookWithout("OEBPS/c1.xhtml")
				e[2].body = minimalOPF(`<item id="c1" href="c1.xhtml"/><item id="svg" href="cover.svg" media-type="image/svg+xml"/>`,
					`<itemref idref="svg"/><itemref idref="c1"/>`)
				return buildZip(t, append(e, entry{name: "OEBPS/c1.xhtml", body: xhtml("T", "<p>read</p>")}))
			},
			title: "T",
			md:    "read\n",
		},
		{
			name: "a book without mimetype, nav or NCX is read, titled by its headings",
			data: func(t *testing.T) []byte {
				e := bookWithout("OEBPS/c1.xhtml")[1:]
				return buildZip(t, append(e, entry{name: "OEBPS/c1.xhtml", body: xhtml("T", "<h3>Heading</h3>")}))
			},
			title: "Heading",
			md:    "### Heading\n",
		},
		{
			name:  "a document nested too deep for the HTML parser is read as bare text",
			data:  func(t *testing.T) []byte { return smallBook(t, strings.Repeat("<div>", 600)+"deep") },
			title: "One",
			md:    "deep\n",
		},
		{
			name: "an entity bomb in a document is not expanded",
			data: func(t *testing.T) []byte {
				return buildZip(t, append(bookWithout("OEBPS/c1.xhtml"), entry{name: "OEBPS/c1.xhtml", body: `<?xml version="1.0"?>
<!DOCTYPE html [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>
<html><body><p>&b;</p></body></html>`}))
			},
			md: "\\&b;\n",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			book, err := read(tc.data(t), Limits{})
			if err != nil {
				t.Fatal(err)
			}
			if len(book.Docs) != 1 {
				t.Fatalf("%d docs, want 1", len(book.Docs))
			}
			if d := book.Docs[0]; d.Title != tc.title || d.Markdown != tc.md {
				t.Errorf("doc titled %q:\n%q\nwant titled %q:\n%q", d.Title, d.Markdown, tc.title, tc.md)
			}
		})
	}
}

func utf16LE(s string) string {
	var b []byte
	for _, r := range s {
		if r >= 0x10000 {
			r -= 0x10000
			hi, lo := 0xD800+(r>>10), 0xDC00+(r&0x3FF)
			b = append(b, byte(hi), byte(hi>>8), byte(lo), byte(lo>>8))
			continue
		}
		b = append(b, byte(r), byte(r>>8))
	}
	return string(b)
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func TestReadAtMostStopsDecompressingPastTheLimit(t *testing.T) {
	packed := deflate(t, []byte(zeros(20<<20)))
	tests := []struct {
		name  string
		limit int64
		over  bool
	}{
		{name: "a limit below the data stops reading just past it", limit: 1 << 20, over: true},
		{name: "a limit of exactly the data's size reads it all", limit: 20 << 20, over: false},
		{name: "a limit above the data's size reads it all", limit: 1 << 30, over: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out := &countingReader{r: flate.NewReader(bytes.NewReader(packed))}
			data, n, err := readAtMost(out, tc.limit, 0)
			if err != nil {
				t.Fatal(err)
			}
			if got := n > tc.limit; got != tc.over {
				t.Errorf("n = %d with limit %d: over = %v, want %v", n, tc.limit, got, tc.over)
			}
			if int64(len(data)) != n || n > tc.limit+1 {
				t.Errorf("held %d bytes, counted %d, limit %d", len(data), n, tc.limit)
			}
			if out.n > tc.limit+1 {
				t.Errorf("decompressed %d bytes, more than the limit %d + 1", out.n, tc.limit)
			}
		})
	}
}

func TestLimitsDefaultWhereLeftZero(t *testing.T) {
	got := Limits{MaxEntries: 5, MaxRatio: -1}.withDefaults()
	want := Limits{MaxEntries: 5, MaxEntryBytes: 32 << 20, MaxTotalBytes: 256 << 20, MaxRatio: 100}
	if got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}
	if DefaultLimits() != (Limits{}).withDefaults() {
		t.Errorf("DefaultLimits() = %+v differs from the zero Limits' defaults", DefaultLimits())
	}
}

func TestCleanEntryName(t *testing.T) {
	tests := []struct {
		name, in, want, err string
	}{
		{name: "a plain name is kept", in: "OEBPS/text/ch1.xhtml", want: "OEBPS/text/ch1.xhtml"},
		{name: "dot segments inside the archive are cleaned", in: "OEBPS/./a/../ch1.xhtml", want: "OEBPS/ch1.xhtml"},
		{name: "a directory gives no name", in: "OEBPS/", want: ""},
		{name: "a leading ./ is cleaned", in: "./mimetype", want: "mimetype"},
		{name: "climbing out of the root is refused", in: "a/../../b", err: "path escapes the archive"},
		{name: "a bare .. is refused", in: "..", err: "path escapes the archive"},
		{name: "an absolute path is refused", in: "/etc/passwd", err: "absolute path"},
		{name: "a backslash is refused", in: `a\b`, err: "backslash"},
		{name: "an empty name is refused", in: "", err: "empty name"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := cleanEntryName(tc.in)
			switch {
			case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
				t.Errorf("cleanEntryName(%q) = %q, %v; want error %q", tc.in, got, err, tc.err)
			case tc.err == "" && (err != nil || got != tc.want):
				t.Errorf("cleanEntryName(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
			}
		})
	}
}

func TestResolveHref(t *testing.T) {
	tests := []struct {
		name, dir, href, want string
		remote                bool
		err                   error
	}{
		{name: "a sibling file is joined to the directory", dir: "OEBPS", href: "ch1.xhtml", want: "OEBPS/ch1.xhtml"},
		{name: "percent escapes are decoded", dir: "OEBPS/text", href: "chapter%20one.xhtml", want: "OEBPS/text/chapter one.xhtml"},
		{name: "the fragment is dropped", dir: "OEBPS", href: "ch1.xhtml#sec-2", want: "OEBPS/ch1.xhtml"},
		{name: "the query is dropped", dir: "OEBPS", href: "ch1.xhtml?x=1", want: "OEBPS/ch1.xhtml"},
		{name: "a parent reference inside the archive is resolved", dir: "OEBPS/text", href: "../images/a.png", want: "OEBPS/images/a.png"},
		{name: "a file at the root resolves from the root", dir: ".", href: "content.opf", want: "content.opf"},
		{name: "a bare fragment names no file", dir: "OEBPS", href: "#note", want: ""},
		{name: "a URL with a scheme is remote", dir: "OEBPS", href: "https://example.com/x", remote: true},
		{name: "a mailto link is remote", dir: "OEBPS", href: "mailto:a@example.com", remote: true},
		{name: "climbing out of the root is refused", dir: "OEBPS", href: "../../etc/passwd", err: errEscapes},
		{name: "an encoded climb out of the root is refused", dir: "OEBPS", href: "%2e%2e/%2e%2e/x", err: errEscapes},
		{name: "an absolute path is refused", dir: "OEBPS", href: "/etc/passwd", err: errAbsolute},
		{name: "an encoded backslash is refused", dir: "OEBPS", href: "a%5cb", err: errBackslash},
		{name: "an encoded NUL is refused", dir: "OEBPS", href: "a%00.xhtml", err: errNUL},
		{name: "a malformed escape is taken literally", dir: "OEBPS", href: "100%.xhtml", want: "OEBPS/100%.xhtml"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, remote, err := resolveHref(tc.dir, tc.href)
			if got != tc.want || remote != tc.remote || !errors.Is(err, tc.err) {
				t.Errorf("resolveHref(%q, %q) = %q, %v, %v; want %q, %v, %v", tc.dir, tc.href, got, remote, err, tc.want, tc.remote, tc.err)
			}
		})
	}
}

func TestToUTF8(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{name: "valid UTF-8 is unchanged", in: "héllo", want: "héllo"},
		{name: "a UTF-8 byte order mark is dropped", in: "\xef\xbb\xbfhi", want: "hi"},
		{name: "invalid bytes become U+FFFD", in: "a\xffb\xc3", want: "a\uFFFDb\uFFFD"},
		{name: "UTF-16 big-endian is decoded", in: "\xfe\xff\x00h\x00\xe9", want: "hé"},
		{name: "UTF-16 little-endian is decoded", in: "\xff\xfeh\x00\xe9\x00", want: "hé"},
		{name: "a lone UTF-16 surrogate becomes U+FFFD", in: "\xff\xfe\x00\xd8a\x00", want: "\uFFFDa"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := string(toUTF8([]byte(tc.in))); got != tc.want {
				t.Errorf("toUTF8(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestErrorMessagesAndKinds(t *testing.T) {
	cause := errors.New("disk on fire")
	tests := []struct {
		name string
		err  *Error
		want string
		is   []error
	}{
		{
			name: "an entry error names the entry",
			err:  &Error{Kind: ErrUnsafe, Entry: "../x", Msg: "path escapes the archive"},
			want: "epub: entry ../x: path escapes the archive",
			is:   []error{ErrUnsafe},
		},
		{
			name: "a cause is appended and unwrapped",
			err:  &Error{Entry: "a.xhtml", Msg: "cannot read the entry", Err: cause},
			want: "epub: entry a.xhtml: cannot read the entry: disk on fire",
			is:   []error{cause},
		},
		{
			name: "a name with a newline is quoted so it cannot forge a log line",
			err:  &Error{Kind: ErrMalformed, Entry: "a\nlevel=error", Msg: "bad"},
			want: `epub: entry "a\nlevel=error": bad`,
			is:   []error{ErrMalformed},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.err.Error(); got != tc.want {
				t.Errorf("Error() = %q, want %q", got, tc.want)
			}
			for _, target := range tc.is {
				if !errors.Is(tc.err, target) {
					t.Errorf("errors.Is(%v, %v) = false", tc.err, target)
				}
			}
			for _, other := range []error{ErrNotEPUB, ErrUnsafe, ErrMalformed} {
				if other != tc.err.Kind && errors.Is(tc.err, other) {
					t.Errorf("errors.Is(%v, %v) = true", tc.err, other)
				}
			}
		})
	}
}

// failingReaderAt fails every read past a point, like a disk going bad.
type failingReaderAt struct {
	r     io.ReaderAt
	after int64
}

var errDisk = errors.New("input/output error")

func (f failingReaderAt) ReadAt(p []byte, off int64) (int, error) {
	if off+int64(len(p)) > f.after {
		return 0, errDisk
	}
	return f.r.ReadAt(p, off)
}

func TestAnIOErrorIsReportedAsOneNotAsABrokenBook(t *testing.T) {
	data := epub3(t)
	_, err := Read(failingReaderAt{r: bytes.NewReader(data), after: int64(len(data)) / 2}, int64(len(data)), Limits{})
	if !errors.Is(err, errDisk) {
		t.Fatalf("err = %v, want it to wrap the I/O error", err)
	}
	for _, kind := range []error{ErrNotEPUB, ErrUnsafe, ErrMalformed} {
		if errors.Is(err, kind) {
			t.Errorf("err = %v wraps %v", err, kind)
		}
	}
}
