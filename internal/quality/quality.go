// Package quality measures how well Lectern answers on evaluation sets:
// whether the search finds the sections that answer each question, whether
// it says "not covered" when the book does not answer, and whether the
// answers themselves state the facts asked for. It puts several books and
// sets side by side in one table, because a ranking tuned on one book says
// little about the next.
package quality

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/lectern/lectern/internal/chat"
)

// Answerer is the assistant whose answers are measured.
type Answerer interface {
	Answer(ctx context.Context, q chat.Question, emit func(chat.Event) error) (chat.Reply, error)
}

// Row is how one evaluation set fared on one book.
type Row struct {
	Book      string       `json:"book"`
	Set       string       `json:"set"`
	Questions int          `json:"questions"`
	Retrieval Report       `json:"retrieval"`
	Answers   AnswerReport `json:"answers"`
}

// AnswerReport measures the answers over a set's answerable questions
// (with key facts) and unanswerable ones.
type AnswerReport struct {
	// Answerable is the number of answerable questions with key facts.
	Answerable int `json:"answerable"`
	// HoldsFacts is the share of those whose answer text contains every key
	// fact.
	HoldsFacts float64 `json:"holds_facts"`
	// FactsFound is the share of those for which one of the three sections
	// the search found contains every key fact: what an answer quoting the
	// right sentences could reach.
	FactsFound float64 `json:"facts_found"`
	// Cites is the share of answerable questions whose answer cites at least
	// one section.
	Cites float64 `json:"cites"`
	// Declines is the share of unanswerable questions answered with no
	// source: the reader is told the book does not cover it.
	Declines float64 `json:"declines"`
	// Failed lists the ids of answerable questions whose answer misses a
	// key fact.
	Failed []string `json:"failed,omitempty"`
}

// Measure scores one set: the search's ranking through lib and, when ans
// is not nil, the answers.
func Measure(ctx context.Context, lib Searcher, ans Answerer, book, set string, qs []Question) (Row, error) {
	row := Row{Book: book, Set: set, Questions: len(qs)}
	rep, err := Evaluate(ctx, lib, qs)
	if err != nil {
		return row, fmt.Errorf("%s/%s: %w", book, set, err)
	}
	row.Retrieval = rep
	if ans == nil {
		return row, nil
	}
	var answerable, cites, unanswerable int
	var holds, found, declines int
	for i, q := range qs {
		reply, err := ans.Answer(ctx, chat.Question{Agent: chat.AgentTriage, Query: q.Question}, nil)
		if err != nil {
			return row, fmt.Errorf("%s/%s: %s: %w", book, set, q.ID, err)
		}
		if !q.Answerable() {
			unanswerable++
			if len(reply.Sources) == 0 {
				declines++
			}
			continue
		}
		answerable++
		if len(reply.Sources) > 0 {
			cites++
		}
		if len(q.KeyFacts) == 0 {
			continue
		}
		row.Answers.Answerable++
		top := rep.Results[i].Top // the evaluation's own search, question by question
		for _, h := range top[:min(3, len(top))] {
			if ContainsFacts(h.SectionText, q.KeyFacts) {
				found++
				break
			}
		}
		if ContainsFacts(reply.Text, q.KeyFacts) {
			holds++
		} else {
			row.Answers.Failed = append(row.Answers.Failed, q.ID)
		}
	}
	if n := row.Answers.Answerable; n > 0 {
		row.Answers.HoldsFacts = float64(holds) / float64(n)
		row.Answers.FactsFound = float64(found) / float64(n)
	}
	if answerable > 0 {
		row.Answers.Cites = float64(cites) / float64(answerable)
	}
	if unanswerable > 0 {
		row.Answers.Declines = float64(declines) / float64(unanswerable)
	}
	return row, nil
}

// ContainsFacts reports whether text states every fact: each occurs in it
// ignoring case, runs of white space, Markdown emphasis and the kind of
// quotation marks and apostrophes.
func ContainsFacts(text string, facts []string) bool {
	t := normalizeFact(text)
	for _, f := range facts {
		if !strings.Contains(t, normalizeFact(f)) {
			return false
		}
	}
	return true
}

var factReplacer = strings.NewReplacer("’", "'", "‘", "'", "“", `"`, "”", `"`, "*", "", "`", "", "\u00a0", " ", "—", "-", "–", "-")

func normalizeFact(s string) string {
	return strings.Join(strings.Fields(strings.ToLower(factReplacer.Replace(s))), " ")
}

// PrintTable writes rows as one table: the ranking (hit@1, hit@3, MRR),
// the "not covered" decision both ways, hit@3 by kind, and the answers.
func PrintTable(w io.Writer, rows []Row) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "book\tset\tq\thit@1\thit@3\tMRR\twrongly NC\tunans. caught\tfactual\tconceptual\tparaphrase\tfacts found\tkey facts\tcites\t")
	for _, r := range rows {
		rep := r.Retrieval
		fmt.Fprintf(tw, "%s\t%s\t%d\t%.3f\t%.3f\t%.3f\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n",
			r.Book, r.Set, r.Questions, rep.HitAt1, rep.HitAt3, rep.MRR,
			count(rep.FalseNotCovered, rep.Answerable), count(rep.NotCovered, rep.Unanswerable),
			kind(rep, "factual"), kind(rep, "conceptual"), kind(rep, "paraphrase"),
			share(r.Answers.FactsFound, r.Answers.Answerable), share(r.Answers.HoldsFacts, r.Answers.Answerable), share(r.Answers.Cites, rep.Answerable))
	}
	return tw.Flush()
}

// PrintMisses lists, for each row, the questions the search got wrong and
// the answers that miss a key fact.
func PrintMisses(w io.Writer, rows []Row) {
	for _, r := range rows {
		for _, m := range r.Retrieval.Results {
			if !m.Correct(3) {
				m.WriteMiss(w, r.Book+"/"+r.Set+" ")
			}
		}
		if len(r.Answers.Failed) > 0 {
			fmt.Fprintf(w, "\n%s/%s: answers missing a key fact: %s\n", r.Book, r.Set, strings.Join(r.Answers.Failed, " "))
		}
	}
}

// WriteJSON writes rows as JSON, for tools.
func WriteJSON(w io.Writer, rows []Row) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rows)
}

// count shows a share of n as "k/n", or "–" when there is nothing to count.
func count(share float64, n int) string {
	if n == 0 {
		return "–"
	}
	return fmt.Sprintf("%d/%d", int(share*float64(n)+0.5), n)
}

func share(v float64, n int) string {
	if n == 0 {
		return "–"
	}
	return fmt.Sprintf("%.3f", v)
}

func kind(rep Report, k string) string {
	v, ok := rep.ByKind[k]
	if !ok {
		return "–"
	}
	return fmt.Sprintf("%.3f", v)
}

// Floor is the least (or, for "wrongly_nc", the most) a measure may be on
// one book's set.
type Floor struct {
	Book, Set, Measure string
	Value              float64
}

// measures reads each measure a floor can name from a row; "wrongly_nc" is
// a ceiling, the others floors.
var measures = map[string]func(Row) float64{
	"hit@1":        func(r Row) float64 { return r.Retrieval.HitAt1 },
	"hit@3":        func(r Row) float64 { return r.Retrieval.HitAt3 },
	"mrr":          func(r Row) float64 { return r.Retrieval.MRR },
	"wrongly_nc":   func(r Row) float64 { return r.Retrieval.FalseNotCovered },
	"unans_caught": func(r Row) float64 { return r.Retrieval.NotCovered },
	"paraphrase":   func(r Row) float64 { return r.Retrieval.ByKind["paraphrase"] },
	"key_facts":    func(r Row) float64 { return r.Answers.HoldsFacts },
	"cites":        func(r Row) float64 { return r.Answers.Cites },
}

// ReadFloors reads floors, one per line: book, set, measure and value,
// separated by tabs or spaces; blank lines and lines starting with # are
// skipped.
func ReadFloors(r io.Reader) ([]Floor, error) {
	var out []Floor
	sc := bufio.NewScanner(r)
	for line := 1; sc.Scan(); line++ {
		t := strings.TrimSpace(sc.Text())
		if t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		f := strings.Fields(t)
		if len(f) != 4 {
			return nil, fmt.Errorf("line %d: want book, set, measure and value", line)
		}
		if measures[f[2]] == nil {
			return nil, fmt.Errorf("line %d: unknown measure %q", line, f[2])
		}
		v, err := strconv.ParseFloat(f[3], 64)
		if err != nil || v < 0 || v > 1 {
			return nil, fmt.Errorf("line %d: value %q is not a share from 0 to 1", line, f[3])
		}
		out = append(out, Floor{Book: f[0], Set: f[1], Measure: f[2], Value: v})
	}
	return out, sc.Err()
}

// CheckFloors returns a line for each floor a row falls below (or, for
// "wrongly_nc", rises above). Floors of books and sets not measured are
// not checked: each machine checks the books it has.
func CheckFloors(rows []Row, floors []Floor) []string {
	var out []string
	for _, f := range floors {
		for _, r := range rows {
			if r.Book != f.Book || r.Set != f.Set {
				continue
			}
			got := measures[f.Measure](r)
			if f.Measure == "wrongly_nc" && got > f.Value || f.Measure != "wrongly_nc" && got < f.Value {
				out = append(out, fmt.Sprintf("%s/%s: %s = %.3f, beyond its limit %.3f", r.Book, r.Set, f.Measure, got, f.Value))
			}
		}
	}
	return out
}
