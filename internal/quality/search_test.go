package quality_test

import (
	"context"
	"strings"
	"testing"

	"github.com/lectern/lectern/books"
	"github.com/lectern/lectern/internal/library"
	"github.com/lectern/lectern/internal/quality"
	"github.com/lectern/lectern/internal/store/testdb"
)

// Floors for the demo book's evaluation set, set a little under what was
// measured before the work on outside books (hit@1 0.851, hit@3 0.979, MRR
// 0.913, section hit@3 0.883, 10 of 13 unanswerable refused, 1 of 94
// answerable wrongly refused; docs/retrieval.md has today's figures), so a
// change that makes retrieval worse on the demo book fails here. The
// outside books' floors are in eval/floors.tsv.
const (
	floorHitAt1      = 0.82
	floorHitAt3      = 0.95
	floorMRR         = 0.88
	floorSectionHit3 = 0.85
	floorNotCovered  = 0.75 // unanswerable questions rightly refused
	ceilingFalseNC   = 0.03 // answerable questions wrongly refused
)

// evalFloors are the least each measure may be on an evaluation set.
type evalFloors struct {
	hitAt1, hitAt3, mrr, sectionHitAt3, notCovered, maxFalseNotCovered float64
}

func TestDemoBookRetrievalQuality(t *testing.T) {
	ctx := context.Background()
	lib := library.New(testdb.Engines()[0].Open(t), library.Options{})
	if _, err := lib.Ingest(ctx, library.Source{FS: books.Demo(), Name: books.DemoName}, library.IngestOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, p := range lib.Pages() {
		if strings.Contains(p.DocPath, "/") && !strings.HasPrefix(p.Chapter, "Part ") {
			t.Errorf("%s: chapter %q does not come from its _category_.json", p.DocPath, p.Chapter)
		}
	}
	for _, set := range []struct {
		file   string
		min    int
		floors evalFloors
	}{
		// The main set; the retrieval defaults were tuned on it.
		{"demo.qa.jsonl", 50, evalFloors{floorHitAt1, floorHitAt3, floorMRR, floorSectionHit3, floorNotCovered, ceilingFalseNC}},
		// Questions written after tuning, to see how the defaults generalize
		// (measured: hit@1 0.958, hit@3 1.000, MRR 0.979, section hit@3
		// 0.833, 4 of 6 unanswerable refused, none answerable refused).
		{"demo.qa-holdout.jsonl", 25, evalFloors{0.90, 0.95, 0.93, 0.80, 0.60, 0.05}},
	} {
		t.Run(set.file, func(t *testing.T) {
			qs, err := quality.ReadFile("../../books/" + set.file)
			if err != nil {
				t.Fatal(err)
			}
			if len(qs) < set.min {
				t.Fatalf("only %d questions", len(qs))
			}
			rep, err := quality.Evaluate(ctx, lib, qs)
			if err != nil {
				t.Fatal(err)
			}
			var b strings.Builder
			rep.Print(&b, true)
			t.Log("\n" + b.String())
			fl := set.floors
			for _, c := range []struct {
				name       string
				got, floor float64
			}{
				{"hit@1", rep.HitAt1, fl.hitAt1},
				{"hit@3", rep.HitAt3, fl.hitAt3},
				{"MRR", rep.MRR, fl.mrr},
				{"section hit@3", rep.SectionHitAt3, fl.sectionHitAt3},
				{"not-covered accuracy", rep.NotCovered, fl.notCovered},
			} {
				if c.got < c.floor {
					t.Errorf("%s = %.3f, below the floor %.2f", c.name, c.got, c.floor)
				}
			}
			if rep.FalseNotCovered > fl.maxFalseNotCovered {
				t.Errorf("%.3f of answerable questions were called not covered (ceiling %.2f)", rep.FalseNotCovered, fl.maxFalseNotCovered)
			}
		})
	}
}

func TestReadEvalSetRejectsBadLines(t *testing.T) {
	for _, tc := range []struct{ name, line string }{
		{"not JSON", `{"id":`},
		{"an unknown key", `{"id":"1","question":"q","kind":"factual","expected_docs":["a.md"],"extra":1}`},
		{"an unknown kind", `{"id":"1","question":"q","kind":"trivia","expected_docs":["a.md"]}`},
		{"an answerable question without documents", `{"id":"1","question":"q","kind":"factual","expected_docs":[]}`},
		{"an unanswerable question with documents", `{"id":"1","question":"q","kind":"unanswerable","expected_docs":["a.md"]}`},
		{"no question", `{"id":"1","question":" ","kind":"factual","expected_docs":["a.md"]}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := quality.ReadSet(strings.NewReader("\n" + tc.line + "\n"))
			if err == nil || !strings.HasPrefix(err.Error(), "line 2:") {
				t.Errorf("got %v", err)
			}
		})
	}
}
