package answer_test

import (
	"context"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/lectern/lectern/books"
	"github.com/lectern/lectern/internal/answer"
	"github.com/lectern/lectern/internal/chat"
	"github.com/lectern/lectern/internal/library"
	"github.com/lectern/lectern/internal/quality"
	"github.com/lectern/lectern/internal/store/testdb"
)

func demoLibrary(t testing.TB) *library.Library {
	t.Helper()
	lib := library.New(testdb.Engines()[0].Open(t), library.Options{})
	if _, err := lib.Ingest(context.Background(), library.Source{FS: books.Demo(), Name: books.DemoName}, library.IngestOptions{}); err != nil {
		t.Fatal(err)
	}
	return lib
}

// sectionText finds the text of the section a citation URL points to.
func sectionText(lib *library.Library, u string) string {
	p, ok := lib.PageOf(u)
	if !ok {
		return ""
	}
	parsed, _ := url.Parse(u)
	for _, s := range p.Sections {
		if s.Anchor == parsed.Fragment {
			return s.Text
		}
	}
	return ""
}

var citation = regexp.MustCompile(`\[[1-3]\]`)

func containsAll(text string, facts []string) bool {
	text = strings.ToLower(text)
	for _, f := range facts {
		if !strings.Contains(text, strings.ToLower(f)) {
			return false
		}
	}
	return true
}

// Floors for the extractive answerer on the demo book's evaluation set
// (docs/retrieval.md has the measured shares).
const (
	floorCitesFacts  = 0.87 // answerable: a cited section holds every key fact
	floorQuotesFacts = 0.48 // answerable: the answer's own text holds every key fact (measured 0.521)
	floorSaysNot     = 0.75 // unanswerable: the answer says the book does not cover it
)

func TestExtractiveAnswersOnTheDemoBook(t *testing.T) {
	lib := demoLibrary(t)
	a := answer.New(lib, nil, answer.Options{})
	qs, err := quality.ReadFile("../../books/demo.qa.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	var answerable, cites, quotes, unanswerable, says int
	for _, q := range qs {
		reply, err := a.Answer(context.Background(), chat.Question{Agent: chat.AgentTriage, Query: q.Question}, nil)
		if err != nil {
			t.Fatalf("%s: %v", q.ID, err)
		}
		if reply.Agent != chat.AgentRAG {
			t.Errorf("%s: triage chose %s for a question", q.ID, reply.Agent)
		}
		if !q.Answerable() {
			unanswerable++
			if strings.HasPrefix(reply.Text, answer.NotCovered) && len(reply.Sources) == 0 {
				says++
			}
			continue
		}
		answerable++
		if strings.HasPrefix(reply.Text, answer.NotCovered) {
			continue // counted as a miss; the search's refusals are measured in package library
		}
		if !strings.Contains(reply.Text, "Quoted from the book") || !citation.MatchString(reply.Text) {
			t.Errorf("%s: the answer does not say it quotes, or cites nothing:\n%s", q.ID, reply.Text)
		}
		for _, s := range reply.Sources {
			if containsAll(sectionText(lib, s.URL), q.KeyFacts) {
				cites++
				break
			}
		}
		if containsAll(reply.Text, q.KeyFacts) {
			quotes++
		}
	}
	citeShare, quoteShare, saysShare := float64(cites)/float64(answerable), float64(quotes)/float64(answerable), float64(says)/float64(unanswerable)
	t.Logf("answerable %d: a cited section holds the key facts %.3f, the answer quotes them %.3f; unanswerable %d: says not covered %.3f",
		answerable, citeShare, quoteShare, unanswerable, saysShare)
	if citeShare < floorCitesFacts || quoteShare < floorQuotesFacts || saysShare < floorSaysNot {
		t.Errorf("below the floors %.2f / %.2f / %.2f", floorCitesFacts, floorQuotesFacts, floorSaysNot)
	}
}
