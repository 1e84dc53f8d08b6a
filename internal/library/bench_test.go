package library_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lectern/lectern/books"
	"github.com/lectern/lectern/internal/book"
	"github.com/lectern/lectern/internal/library"
	"github.com/lectern/lectern/internal/quality"
	"github.com/lectern/lectern/internal/store/testdb"
)

// syntheticBook writes a book of about words words: 40 chapters of
// documents with a heading every 250 words, paragraphs of words drawn from
// a Zipf distribution over a vocabulary of real English words with their
// inflections, a table and a code block per document.
func syntheticBook(b *testing.B, words int) (root string, vocab []string) {
	b.Helper()
	root = b.TempDir()
	base := strings.Fields(`time clock second minute hour day week month year zone offset leap calendar date
		schedule job timer network server client packet delay drift frequency crystal atomic signal
		store database column index query record value number format parse string field table
		reader writer page chapter section heading text word sentence paragraph book library
		test check measure count compute convert round truncate compare order sort merge split
		start stop run wait sleep wake repeat retry fail recover log trace report alert monitor`)
	for _, w := range base {
		vocab = append(vocab, w, w+"s", w+"ed", w+"ing")
	}
	r := rand.New(rand.NewPCG(1, 2))
	zipf := rand.NewZipf(r, 1.1, 4, uint64(len(vocab)-1))
	sentence := func(n int) string {
		ws := make([]string, n)
		for i := range ws {
			ws[i] = vocab[zipf.Uint64()]
		}
		return strings.ToUpper(ws[0][:1]) + strings.Join(ws, " ")[1:] + "."
	}
	written := 0
	for d := 0; written < words; d++ {
		var sb strings.Builder
		fmt.Fprintf(&sb, "---\ntitle: Document %d\nsidebar_position: %d\n---\n\n", d, d%25)
		for s := 0; s < 20 && written < words; s++ {
			fmt.Fprintf(&sb, "## %s\n\n", strings.TrimSuffix(sentence(4), "."))
			for p := 0; p < 3; p++ {
				for i := 0; i < 6; i++ {
					sb.WriteString(sentence(13) + " ")
				}
				sb.WriteString("\n\n")
				written += 80
			}
			if s == 10 {
				sb.WriteString("| zone | offset |\n|---|---|\n| UTC | +00:00 |\n| CET | +01:00 |\n\n```go\nfunc main() {\n\tfmt.Println(time.Now())\n}\n```\n\n")
			}
		}
		dir := filepath.Join(root, fmt.Sprintf("%02d-chapter-%02d", d%40, d%40))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("doc-%03d.md", d)), []byte(sb.String()), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	return root, vocab
}

// BenchmarkIngest measures reading a book (parse, render, split) and a full
// ingestion into SQLite (every document rewritten), in words per second.
//
//	go test -run '^$' -bench Ingest -benchtime=3x ./internal/library/
func BenchmarkIngest(b *testing.B) {
	synthetic, _ := syntheticBook(b, 1_000_000)
	for _, src := range []struct {
		name string
		src  library.Source
	}{
		{"demo", library.Source{FS: books.Demo(), Name: books.DemoName}},
		{"synthetic-1M", library.Source{Path: synthetic}},
	} {
		words := 0
		b.Run(src.name+"/read", func(b *testing.B) {
			for b.Loop() {
				var bk *book.Book
				var err error
				if src.src.FS != nil {
					bk, err = book.LoadFS(src.src.FS, src.src.Name, book.Options{})
				} else {
					bk, err = book.Load(src.src.Path, book.Options{})
				}
				if err != nil {
					b.Fatal(err)
				}
				words = 0
				for _, d := range bk.Docs {
					words += d.Words
					d.Chunks("b")
				}
			}
			b.ReportMetric(float64(words)*float64(b.N)/b.Elapsed().Seconds(), "words/s")
		})
		b.Run(src.name+"/ingest-sqlite", func(b *testing.B) {
			lib := library.New(testdb.Engines()[0].Open(b), library.Options{})
			for b.Loop() {
				sum, err := lib.Ingest(context.Background(), src.src, library.IngestOptions{Force: true})
				if err != nil {
					b.Fatal(err)
				}
				words = sum.Words
			}
			b.ReportMetric(float64(words)*float64(b.N)/b.Elapsed().Seconds(), "words/s")
		})
	}
}

// BenchmarkSearchLatency reports the p50 and p99 latency of Library.Search
// over realistic questions (the demo book's evaluation set; random 3–7 word
// questions on the synthetic book), and the heap the loaded book and its
// index take.
//
//	go test -run '^$' -bench SearchLatency -benchtime=20000x ./internal/library/
func BenchmarkSearchLatency(b *testing.B) {
	synthetic, vocab := syntheticBook(b, 1_000_000)
	qs, err := quality.ReadFile("../../books/demo.qa.jsonl")
	if err != nil {
		b.Fatal(err)
	}
	demoQuestions := make([]string, len(qs))
	for i, q := range qs {
		demoQuestions[i] = q.Question
	}
	r := rand.New(rand.NewPCG(3, 4))
	synthQuestions := make([]string, 500)
	for i := range synthQuestions {
		n := 3 + r.IntN(5)
		ws := make([]string, n)
		for j := range ws {
			ws[j] = vocab[r.IntN(len(vocab))]
		}
		synthQuestions[i] = "how does " + strings.Join(ws, " ") + " work?"
	}
	for _, tc := range []struct {
		name      string
		src       library.Source
		questions []string
	}{
		{"demo", library.Source{FS: books.Demo(), Name: books.DemoName}, demoQuestions},
		{"synthetic-1M", library.Source{Path: synthetic}, synthQuestions},
	} {
		b.Run(tc.name, func(b *testing.B) {
			ctx := context.Background()
			st := testdb.Engines()[0].Open(b)
			if _, err := library.New(st, library.Options{}).Ingest(ctx, tc.src, library.IngestOptions{}); err != nil {
				b.Fatal(err)
			}
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			lib := library.New(st, library.Options{})
			if err := lib.Load(ctx); err != nil {
				b.Fatal(err)
			}
			runtime.GC()
			runtime.ReadMemStats(&after)
			lat := make([]time.Duration, 0, b.N)
			i := 0
			for b.Loop() {
				start := time.Now()
				if _, err := lib.Search(ctx, library.Query{Text: tc.questions[i%len(tc.questions)]}); err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(start))
				i++
			}
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
			b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/(1<<20), "heap-MB")
			runtime.KeepAlive(lib)
		})
	}
}
