package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/lectern/lectern/books"
	"github.com/lectern/lectern/internal/answer"
	"github.com/lectern/lectern/internal/config"
	"github.com/lectern/lectern/internal/embeddings"
	"github.com/lectern/lectern/internal/jsconfig"
	"github.com/lectern/lectern/internal/library"
	"github.com/lectern/lectern/internal/llm"
	"github.com/lectern/lectern/internal/metrics"
	"github.com/lectern/lectern/internal/quality"
	"github.com/lectern/lectern/internal/store"
)

// newLibrary returns the library of the configured book, with the dense
// path when an embeddings endpoint is configured.
func newLibrary(cfg *config.Config, log *slog.Logger, st store.Store, m *metrics.Metrics) *library.Library {
	opt := library.Options{BookID: cfg.BookID, Language: cfg.BookLanguage, Log: log, OnSearch: observeSearches(m), Scripts: scriptSandbox()}
	if cfg.EmbeddingsBaseURL != "" {
		opt.Embedder = embeddings.New(cfg.EmbeddingsBaseURL, cfg.EmbeddingsModel, cfg.EmbeddingsAPIKey, embeddings.Options{})
		opt.EmbeddingModel = cfg.EmbeddingsModel
	}
	return library.New(st, opt)
}

// scriptSandbox runs a site's configuration scripts in a child process of
// this program (see run), or in this process when the program cannot be
// found.
func scriptSandbox() jsconfig.Runner {
	exe, err := os.Executable()
	if err != nil {
		return jsconfig.InProcess{}
	}
	return jsconfig.Process{Program: exe}
}

// newAssistant returns the assistant: the configured language model, or
// the extractive answerer.
func newAssistant(cfg *config.Config, log *slog.Logger, lib *library.Library, m *metrics.Metrics) *answer.Assistant {
	if cfg.LLMBaseURL == "" {
		log.Info("no language model configured (LECTERN_LLM_BASE_URL): answers quote the book")
		return answer.New(lib, nil, answer.Options{})
	}
	model := llm.New(cfg.LLMBaseURL, cfg.LLMModel, cfg.LLMAPIKey, llm.Options{Timeout: cfg.LLMTimeout, IdleTimeout: cfg.LLMTimeout})
	log.Info("language model", "base_url", cfg.LLMBaseURL, "model", cfg.LLMModel)
	return answer.New(lib, observeModel(m, cfg, model), answer.Options{})
}

// openBook makes the library ready to serve: the book given with --book is
// ingested (a no-op when it did not change); without one, a book ingested
// earlier with "lectern ingest" is served, and failing that the bundled
// demo book.
func openBook(ctx context.Context, cfg *config.Config, log *slog.Logger, st store.Store, lib *library.Library) error {
	var src library.Source
	switch {
	case cfg.Book != "":
		src = library.Source{Path: cfg.Book}
	default:
		b, err := st.Book(ctx, cfg.BookID)
		switch {
		case err == nil && !strings.HasPrefix(b.Source, "embedded:"):
			if err := lib.Load(ctx); err != nil {
				return fmt.Errorf("book: %w", err)
			}
			log.Info("serving the ingested book", "title", b.Title, "source", b.Source)
			return nil
		case err != nil && !errors.Is(err, store.ErrNotFound):
			return fmt.Errorf("book: %w", err)
		}
		src = library.Source{FS: books.Demo(), Name: books.DemoName}
	}
	sum, err := lib.Ingest(ctx, src, library.IngestOptions{Title: cfg.BookTitle, Locale: cfg.BookLocale})
	if err != nil {
		return fmt.Errorf("book %s: %w", src, err)
	}
	log.Info("book ready", "title", sum.Title, "source", src.String(), "documents", sum.Documents, "chunks", sum.Chunks,
		"words", sum.Words, "unchanged", sum.Skipped, "changed", sum.Changed, "removed", sum.Removed, "elapsed", sum.Elapsed.Round(time.Millisecond))
	return nil
}

// progressBar draws "label [=====     ] 12/40" on a terminal, rewriting one
// line; elsewhere it prints a plain line per tenth.
type progressBar struct {
	w        io.Writer
	terminal bool
	last     map[string]int
}

func (p *progressBar) update(stage string, done, total int) {
	if total <= 0 {
		return
	}
	if p.last == nil {
		p.last = map[string]int{}
	}
	label := map[string]string{"read": "reading", "embed": "embedding"}[stage]
	if p.terminal {
		const width = 30
		n := done * width / total
		fmt.Fprintf(p.w, "\r%-9s [%s%s] %d/%d", label, strings.Repeat("=", n), strings.Repeat(" ", width-n), done, total)
		if done == total {
			fmt.Fprintln(p.w)
		}
		return
	}
	tenth := done * 10 / total
	if tenth > p.last[stage] || done == total {
		p.last[stage] = tenth
		fmt.Fprintf(p.w, "%s %d/%d\n", label, done, total)
	}
}

// parseWithPath parses "[flags] PATH [flags]": flags may come on either side
// of the one positional argument.
func parseWithPath(name string, args []string, getenv func(string) string, stderr io.Writer) (*config.Config, string, error) {
	return parseWithArg(name, "PATH", args, getenv, stderr)
}

// parseWithArg is parseWithPath for a command whose one argument is what.
func parseWithArg(name, what string, args []string, getenv func(string) string, stderr io.Writer) (*config.Config, string, error) {
	cfg, rest, err := config.Parse("lectern "+name, settingsOf(name), args, getenv, stderr)
	if err != nil {
		return nil, "", err
	}
	if len(rest) == 0 {
		return nil, "", fmt.Errorf("%s: missing the %s argument", name, what)
	}
	path := rest[0]
	if len(rest) > 1 {
		before := args[:len(args)-len(rest)]
		if cfg, rest, err = config.Parse("lectern "+name, settingsOf(name), append(slices.Clone(before), rest[1:]...), getenv, stderr); err != nil {
			return nil, "", err
		}
		if len(rest) > 0 {
			return nil, "", fmt.Errorf("%s: unexpected arguments %q", name, rest)
		}
	}
	return cfg, path, nil
}

// runIngest is "lectern ingest [--strict] PATH": read a book into the
// database, listing its problems; with --strict, a book with any is
// refused.
func runIngest(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer, terminal bool) error {
	strict := false
	args = slices.DeleteFunc(slices.Clone(args), func(a string) bool {
		if a == "--strict" || a == "-strict" {
			strict = true
			return true
		}
		return false
	})
	cfg, path, err := parseWithPath("ingest", args, getenv, stderr)
	if err != nil {
		return err
	}
	log := newLogger(cfg, stderr)
	st, err := openStore(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer st.Close()
	bar := &progressBar{w: stderr, terminal: terminal}
	sum, err := newLibrary(cfg, log, st, nil).Ingest(ctx, library.Source{Path: path}, library.IngestOptions{Title: cfg.BookTitle, Locale: cfg.BookLocale, Strict: strict, Progress: bar.update})
	if err != nil {
		return err
	}
	state := fmt.Sprintf("%d changed, %d removed", sum.Changed, sum.Removed)
	if sum.Skipped {
		state = "unchanged"
	}
	fmt.Fprintf(stdout, "%s (%s)\n  documents %d\n  sections  %d\n  chunks    %d\n  words     %d\n  time      %s\n",
		sum.Title, state, sum.Documents, sum.Sections, sum.Chunks, sum.Words, sum.Elapsed.Round(time.Millisecond))
	if sum.Embedded > 0 {
		fmt.Fprintf(stdout, "  embedded  %d chunks\n", sum.Embedded)
	}
	if len(sum.Problems) > 0 {
		noun := "problems"
		if len(sum.Problems) == 1 {
			noun = "problem"
		}
		fmt.Fprintf(stdout, "%d %s (--strict refuses a book with any):\n", len(sum.Problems), noun)
		for _, p := range sum.Problems {
			fmt.Fprintf(stdout, "  %s\n", p)
		}
	}
	return nil
}

const evalUsage = `Usage: lectern eval [-v] [--json] [--search-only] [--floors FILE]
                    [SET.jsonl…] [--book PATH SET.jsonl…]…

Measures how well the search finds, and the assistant answers, the questions
of evaluation sets, and prints one table: a row a book and set.

  --book PATH     the sets that follow are about the book at PATH (a folder or
                  an .epub), read into a scratch database of its own; sets
                  before any --book are about the served book
  -v              list every miss, with the sections found instead
  --json          the table as JSON
  --search-only   measure the search only, not the answers
  --floors FILE   fail when a measure falls below its floor; FILE has lines
                  "book<TAB>set<TAB>measure<TAB>value" (hit@3, wrongly_nc as a
                  ceiling, unans_caught, key_facts, cites)

A set file is JSON Lines, one question a line, named BOOK.SET.jsonl (shown as
BOOK and SET):

  {"id": "q1", "question": "What is a leap second?", "kind": "factual",
   "expected_docs": ["01-foundations/03-leap-seconds.md"], "alt_docs": [],
   "expected_heading": "Leap seconds", "key_facts": ["one second"]}

  kind              factual, conceptual, paraphrase (in words the book does
                    not use) or unanswerable (the book does not answer it)
  expected_docs     the documents (paths in the book) that answer it; empty
                    for, and only for, an unanswerable question
  alt_docs          other documents that count as right (optional)
  expected_heading  the heading of the section that answers it (optional)
  key_facts         short phrases of that section that an answer should hold

Settings:
`

// runEval is "lectern eval [-v] [--json] [--floors FILE] [--book PATH]
// SET.jsonl… [--book PATH SET.jsonl…]…": how well the search ranks and the
// assistant answers on evaluation sets, as one table; with --floors, an
// error when a measure falls below its floor. The sets after a --book are
// that book's, read into a scratch database of its own; sets before any
// --book are the served book's. A set file named BOOK.SET.jsonl is shown
// as BOOK and SET.
func runEval(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if slices.ContainsFunc(args, func(a string) bool { return a == "-h" || a == "-help" || a == "--help" }) {
		fmt.Fprint(stderr, evalUsage)
		_, err := parseConfig("eval", []string{"-h"}, getenv, stderr)
		return err
	}
	var verbose, asJSON, searchOnly bool
	var floorsFile string
	type group struct {
		book string // "" for the served book
		sets []string
	}
	groups := []group{{}}
	var rest []string
	for i := 0; i < len(args); i++ {
		switch a := args[i]; {
		case a == "-v" || a == "--verbose":
			verbose = true
		case a == "--json":
			asJSON = true
		case a == "--search-only":
			searchOnly = true
		case a == "--floors":
			if i+1 == len(args) {
				return errors.New("eval: --floors needs a FILE")
			}
			i++
			floorsFile = args[i]
		case a == "--book" || a == "-book":
			if i+1 == len(args) {
				return errors.New("eval: --book needs a PATH")
			}
			i++
			groups = append(groups, group{book: args[i]})
		case strings.HasPrefix(a, "--book=") || strings.HasPrefix(a, "-book="):
			groups = append(groups, group{book: a[strings.IndexByte(a, '=')+1:]})
		case strings.HasSuffix(a, ".jsonl"):
			groups[len(groups)-1].sets = append(groups[len(groups)-1].sets, a)
		default:
			rest = append(rest, a)
		}
	}
	cfg, err := parseConfig("eval", rest, getenv, stderr)
	if err != nil {
		return err
	}
	log := newLogger(cfg, stderr)
	if cfg.Book != "" && groups[0].book == "" {
		groups[0].book = cfg.Book // LECTERN_BOOK: the served book is that one
	}
	var rows []quality.Row
	for _, g := range groups {
		if g.book == "" && len(g.sets) == 0 {
			continue
		}
		if len(g.sets) == 0 {
			return fmt.Errorf("eval: no evaluation set (a .jsonl file) for the book %s", g.book)
		}
		r, err := evalBook(ctx, *cfg, log, g.book, g.sets, !searchOnly)
		if err != nil {
			return err
		}
		rows = append(rows, r...)
	}
	if len(rows) == 0 {
		return errors.New("eval: missing the evaluation set (QA.jsonl)")
	}
	var floors []quality.Floor
	if floorsFile != "" {
		f, err := os.Open(floorsFile)
		if err != nil {
			return fmt.Errorf("eval: %w", err)
		}
		floors, err = quality.ReadFloors(f)
		f.Close()
		if err != nil {
			return fmt.Errorf("eval: %s: %w", floorsFile, err)
		}
	}
	if asJSON {
		if err := quality.WriteJSON(stdout, rows); err != nil {
			return err
		}
	} else if err := quality.PrintTable(stdout, rows); err != nil {
		return err
	}
	if verbose {
		quality.PrintMisses(stdout, rows)
	}
	if bad := quality.CheckFloors(rows, floors); len(bad) > 0 {
		fmt.Fprintln(stdout)
		for _, b := range bad {
			fmt.Fprintln(stdout, "BELOW THE FLOOR", b)
		}
		return fmt.Errorf("eval: %d measures beyond their limits in %s", len(bad), floorsFile)
	}
	return nil
}

// evalBook measures the sets on one book: the one at path, read into a
// scratch database so the real one is never touched, or with path empty
// the served book.
func evalBook(ctx context.Context, cfg config.Config, log *slog.Logger, path string, sets []string, answers bool) ([]quality.Row, error) {
	if path != "" {
		dir, err := os.MkdirTemp("", "lectern-eval-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(dir)
		cfg.DataDir, cfg.DatabaseURL = dir, ""
	}
	st, err := openStore(ctx, &cfg, log)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	lib := newLibrary(&cfg, log, st, nil)
	if path != "" {
		if _, err := lib.Ingest(ctx, library.Source{Path: path}, library.IngestOptions{Title: cfg.BookTitle, Locale: cfg.BookLocale}); err != nil {
			return nil, err
		}
	} else if err := lib.Load(ctx); err != nil {
		return nil, fmt.Errorf("eval: %w (ingest a book first, or pass --book)", err)
	}
	var ans quality.Answerer
	if answers {
		ans = answer.New(lib, nil, answer.Options{})
	}
	var rows []quality.Row
	for _, file := range sets {
		qs, err := quality.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("eval: %w", err)
		}
		book, set := lib.Title(), strings.TrimSuffix(filepath.Base(file), ".jsonl")
		if b, s, ok := strings.Cut(set, "."); ok {
			book, set = b, s
		}
		row, err := quality.Measure(ctx, lib, ans, book, set, qs)
		if err != nil {
			return nil, err
		}
		rows = append(rows, row)
	}
	return rows, nil
}
