package insights

import (
	"strings"
	"testing"
	"time"

	"github.com/lectern/lectern/internal/store"
)

func TestReportsCSV(t *testing.T) {
	day := time.Date(2026, time.March, 1, 0, 0, 0, 0, time.UTC)
	sp := Span{From: day, To: day.AddDate(0, 0, 2)}
	for _, tc := range []struct {
		name string
		rep  Report
		want string
	}{
		{"volume: a row a day, each agent's answers in columns, zero where it did not answer", volumeReport(sp, store.Volume{
			Days: []store.DayVolume{{Day: day, Questions: 3, Readers: 2}, {Day: day.AddDate(0, 0, 1), Questions: 1, Readers: 1}},
			Agents: []store.AgentVolume{{Day: day, Agent: "rag", Answered: 1, NotCovered: 1}, {Day: day, Agent: "summarizer", Answered: 1},
				{Day: day.AddDate(0, 0, 1), Agent: "rag", NotCovered: 1}},
		}), "day,questions,readers,rag answered,rag not covered,summarizer answered,summarizer not covered\n" +
			"2026-03-01,3,2,1,1,1,0\n2026-03-02,1,1,0,1,0,0\n"},
		{"not covered: a question that a spreadsheet would run as a formula is text", notCoveredReport(sp, []Group{{
			Terms: []string{"sum"}, Examples: []string{"=SUM(A1:A9) in chapter 2?", "what is a sum"}, Count: 2, Readers: 1,
			FirstSeen: day.Add(time.Hour), LastSeen: day.Add(2 * time.Hour)}}),
			"questions,readers,first seen,last seen,shared words,examples\n" +
				"2,1,2026-03-01T01:00:00.000Z,2026-03-01T02:00:00.000Z,sum,\"'=SUM(A1:A9) in chapter 2?\nwhat is a sum\"\n"},
		{"rated down: the sources as their links", ratedDownReport(sp, []store.RatedAnswer{{Question: "q", Answer: "a, quoted \"so\"",
			Sources: []byte(`[{"slug":"intro","url":"/docs/intro#setup"},{"slug":"api","url":"/docs/api"}]`), Comment: "-1", RatedAt: day}}),
			"rated at,question,answer,sources,comment\n2026-03-01T00:00:00.000Z,q,\"a, quoted \"\"so\"\"\",\"/docs/intro#setup\n/docs/api\",'-1\n"},
		{"pages", pagesReport(sp, []store.PageCount{{Page: "/docs/a", Questions: 4, Readers: 2}}), "page,questions,readers\n/docs/a,4,2\n"},
		{"sections cited", citedReport(sp, []store.SectionCount{{URL: "/docs/a#b", Slug: "a", Heading: "B", Citations: 3, Readers: 1}}),
			"section,page,heading,citations,readers\n/docs/a#b,a,B,3,1\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b strings.Builder
			if err := tc.rep.WriteCSV(&b); err != nil {
				t.Fatal(err)
			}
			if b.String() != tc.want {
				t.Errorf("CSV:\n%s\nwant:\n%s", b.String(), tc.want)
			}
		})
	}
}
