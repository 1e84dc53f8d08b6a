package epub

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

// fuzzLimits keep each fuzzed book cheap; the limit code is the same.
var fuzzLimits = Limits{MaxEntries: 200, MaxEntryBytes: 1 << 20, MaxTotalBytes: 4 << 20, MaxRatio: 100}

// FuzzRead feeds arbitrary bytes to Read. It must never panic, every error
// must be an *Error of a known kind, and a book read must hold only text
// documents whose Markdown is valid UTF-8 ending in a newline.
func FuzzRead(f *testing.F) {
	f.Add(epub3(f))
	f.Add(epub2(f))
	f.Add(smallBook(f, "<p>x</p>"))
	f.Add(smallBook(f, "<p>x</p>", entry{name: "../evil.xhtml", body: "x"}))
	f.Add([]byte{})
	f.Add([]byte("PK\x05\x06" + zeros(18)))
	f.Fuzz(func(t *testing.T, data []byte) {
		book, err := read(data, fuzzLimits)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("err = %v (%T), want *Error", err, err)
			}
			if !errors.Is(err, ErrNotEPUB) && !errors.Is(err, ErrUnsafe) && !errors.Is(err, ErrMalformed) {
				t.Fatalf("err = %v is of no known kind", err)
			}
			return
		}
		if len(book.Docs) == 0 {
			t.Fatal("a book without documents was returned")
		}
		for _, d := range book.Docs {
			if d.Href == "" || !strings.HasSuffix(d.Markdown, "\n") || !utf8.ValidString(d.Markdown) || !utf8.ValidString(d.Title) {
				t.Fatalf("bad doc %q titled %q: %q", d.Href, d.Title, d.Markdown)
			}
		}
	})
}

// FuzzXHTMLToMarkdown feeds arbitrary documents to the converter. It must
// never panic, never leak its internal mark bytes, and produce valid UTF-8
// blocks ending in a newline within its output budget.
func FuzzXHTMLToMarkdown(f *testing.F) {
	for _, tc := range markdownCases {
		f.Add(xhtml("T", tc.body))
	}
	f.Add("<p><em>a<code>b</code></em><del>c<br/><br/>d</del></p>")
	f.Add("<!DOCTYPE html [ <!ENTITY x 'y'> ]><title/><p>&x;</p>")
	f.Add(strings.Repeat("<ul><li>", 40) + "x")
	f.Fuzz(func(t *testing.T, doc string) {
		got, err := toMarkdown(toUTF8([]byte(doc)))
		if err != nil {
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrUnsafe) {
				t.Fatalf("err = %v is of no known kind", err)
			}
			return
		}
		md := got.markdown
		if md != "" && !strings.HasSuffix(md, "\n") {
			t.Fatalf("Markdown does not end in a newline: %q", md)
		}
		if !utf8.ValidString(md) || !utf8.ValidString(got.heading) || !utf8.ValidString(got.title) {
			t.Fatalf("invalid UTF-8: %q", md)
		}
		if strings.ContainsAny(md, "\x00\x01\x02\x03\x04") {
			t.Fatalf("a mark byte leaked into %q", md)
		}
		if len(md) > 8*len(doc)+1<<20 {
			t.Fatalf("%d bytes of Markdown from %d of XHTML", len(md), len(doc))
		}
	})
}
