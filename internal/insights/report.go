package insights

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/lectern/lectern/internal/store"
)

// View names one of the owners' tables, as in its URLs.
type View string

// The owners' views.
const (
	ViewVolume     View = "volume"
	ViewNotCovered View = "not-covered"
	ViewRatedDown  View = "rated-down"
	ViewPages      View = "pages"
	ViewCited      View = "cited"
)

// Views are every view, in the order the owners' page shows them.
var Views = []View{ViewVolume, ViewNotCovered, ViewPages, ViewCited, ViewRatedDown}

// Report is one view of a span of days as the owners' tools get it: its
// fields are the JSON document, WriteCSV its table.
type Report interface {
	WriteCSV(w io.Writer) error
}

// Dates is the span of days a report covers, both days included.
type Dates struct {
	From string `json:"from"`
	To   string `json:"to"`
}

// DatesOf returns the days of sp, as the reports and the page show them.
func DatesOf(sp Span) Dates {
	return Dates{sp.From.Format(time.DateOnly), sp.To.Add(-24 * time.Hour).Format(time.DateOnly)}
}

// Stamp is a moment as the reports write it: UTC, to the millisecond.
type Stamp time.Time

const stampLayout = "2006-01-02T15:04:05.000Z"

// MarshalJSON implements json.Marshaler.
func (t Stamp) MarshalJSON() ([]byte, error) {
	return time.Time(t).UTC().AppendFormat([]byte{'"'}, stampLayout+`"`), nil
}

func (t Stamp) String() string { return time.Time(t).UTC().Format(stampLayout) }

// VolumeReport is the questions, readers and answers of each day.
type VolumeReport struct {
	Dates
	Days   []DayRow   `json:"days"`
	Agents []AgentRow `json:"agents"`
}

// DayRow is one day's questions and the distinct readers who asked them.
type DayRow struct {
	Day       string `json:"day"`
	Questions int64  `json:"questions"`
	Readers   int64  `json:"readers"`
}

// AgentRow is how one agent answered on one day.
type AgentRow struct {
	Day        string `json:"day"`
	Agent      string `json:"agent"`
	Answered   int64  `json:"answered"`
	NotCovered int64  `json:"not_covered"`
}

// NotCoveredReport is what the book does not answer, grouped.
type NotCoveredReport struct {
	Dates
	Groups []GroupRow `json:"groups"`
}

// GroupRow is a Group as the reports show it.
type GroupRow struct {
	Terms     []string `json:"terms"`
	Examples  []string `json:"examples"`
	Count     int      `json:"count"`
	Readers   int      `json:"readers"`
	FirstSeen Stamp    `json:"first_seen"`
	LastSeen  Stamp    `json:"last_seen"`
}

// RatedDownReport is the answers readers rated down.
type RatedDownReport struct {
	Dates
	Answers []RatedRow `json:"answers"`
}

// RatedRow is an answer rated down, with its question and the sections it
// cited.
type RatedRow struct {
	Question string          `json:"question"`
	Answer   string          `json:"answer"`
	Sources  json.RawMessage `json:"sources"` // as stored with the answer, the API's shape
	Comment  string          `json:"comment"`
	RatedAt  Stamp           `json:"rated_at"`
}

// Cited is the part of a cited section that the owners see of it.
type Cited struct {
	Slug    string `json:"slug"`
	Title   string `json:"title"`
	Heading string `json:"heading"`
	URL     string `json:"url"`
}

// Cites reads the sections r's answer cited; none when they cannot be
// read.
func (r RatedRow) Cites() []Cited {
	var out []Cited
	if json.Unmarshal(r.Sources, &out) != nil {
		return nil
	}
	return slices.DeleteFunc(out, func(c Cited) bool { return c.Slug == "" })
}

// PagesReport is the pages readers asked the most questions from.
type PagesReport struct {
	Dates
	Pages []PageRow `json:"pages"`
}

// PageRow is how often readers asked from one page.
type PageRow struct {
	Page      string `json:"page"`
	Questions int64  `json:"questions"`
	Readers   int64  `json:"readers"`
}

// CitedReport is the sections the answers cited the most.
type CitedReport struct {
	Dates
	Sections []SectionRow `json:"sections"`
}

// SectionRow is how often answers cited one section.
type SectionRow struct {
	URL       string `json:"url"`
	Slug      string `json:"slug"`
	Heading   string `json:"heading"`
	Citations int64  `json:"citations"`
	Readers   int64  `json:"readers"`
}

// Report returns view of the span of days from and to (see ParseSpan),
// for userID if they are an owner.
func (s *Service) Report(ctx context.Context, userID string, view View, from, to string) (Report, error) {
	switch view {
	case ViewVolume:
		sp, v, err := s.Volume(ctx, userID, from, to)
		return volumeReport(sp, v), err
	case ViewNotCovered:
		sp, groups, err := s.NotCovered(ctx, userID, from, to)
		return notCoveredReport(sp, groups), err
	case ViewRatedDown:
		sp, rated, err := s.RatedDown(ctx, userID, from, to)
		return ratedDownReport(sp, rated), err
	case ViewPages:
		sp, pages, err := s.PagesAskedFrom(ctx, userID, from, to)
		return pagesReport(sp, pages), err
	case ViewCited:
		sp, sections, err := s.SectionsCited(ctx, userID, from, to)
		return citedReport(sp, sections), err
	}
	return nil, ErrNotOwner // an unknown view is an unknown route
}

func volumeReport(sp Span, v store.Volume) *VolumeReport {
	out := &VolumeReport{Dates: DatesOf(sp), Days: []DayRow{}, Agents: []AgentRow{}}
	for _, d := range v.Days {
		out.Days = append(out.Days, DayRow{d.Day.Format(time.DateOnly), d.Questions, d.Readers})
	}
	for _, a := range v.Agents {
		out.Agents = append(out.Agents, AgentRow{a.Day.Format(time.DateOnly), a.Agent, a.Answered, a.NotCovered})
	}
	return out
}

func notCoveredReport(sp Span, groups []Group) *NotCoveredReport {
	out := &NotCoveredReport{Dates: DatesOf(sp), Groups: []GroupRow{}}
	for _, g := range groups {
		if g.Terms == nil {
			g.Terms = []string{}
		}
		out.Groups = append(out.Groups, GroupRow{Terms: g.Terms, Examples: g.Examples, Count: g.Count, Readers: g.Readers,
			FirstSeen: Stamp(g.FirstSeen), LastSeen: Stamp(g.LastSeen)})
	}
	return out
}

func ratedDownReport(sp Span, rated []store.RatedAnswer) *RatedDownReport {
	out := &RatedDownReport{Dates: DatesOf(sp), Answers: []RatedRow{}}
	for _, a := range rated {
		src := json.RawMessage(a.Sources)
		if !json.Valid(src) || src[0] != '[' {
			src = json.RawMessage("[]")
		}
		out.Answers = append(out.Answers, RatedRow{Question: a.Question, Answer: a.Answer, Sources: src, Comment: a.Comment, RatedAt: Stamp(a.RatedAt)})
	}
	return out
}

func pagesReport(sp Span, pages []store.PageCount) *PagesReport {
	out := &PagesReport{Dates: DatesOf(sp), Pages: []PageRow{}}
	for _, p := range pages {
		out.Pages = append(out.Pages, PageRow(p))
	}
	return out
}

func citedReport(sp Span, sections []store.SectionCount) *CitedReport {
	out := &CitedReport{Dates: DatesOf(sp), Sections: []SectionRow{}}
	for _, c := range sections {
		out.Sections = append(out.Sections, SectionRow(c))
	}
	return out
}

// WriteCSV writes a row a day: its questions and readers, then each
// agent's answers and "not covered" answers.
func (r *VolumeReport) WriteCSV(w io.Writer) error {
	var agents []string
	byDay := map[[2]string]AgentRow{} // day, agent
	for _, a := range r.Agents {
		if !slices.Contains(agents, a.Agent) {
			agents = append(agents, a.Agent)
		}
		byDay[[2]string{a.Day, a.Agent}] = a
	}
	slices.Sort(agents)
	head := []string{"day", "questions", "readers"}
	for _, a := range agents {
		head = append(head, a+" answered", a+" not covered")
	}
	rows := [][]string{head}
	for _, d := range r.Days {
		row := []string{d.Day, itoa(d.Questions), itoa(d.Readers)}
		for _, agent := range agents {
			a := byDay[[2]string{d.Day, agent}]
			row = append(row, itoa(a.Answered), itoa(a.NotCovered))
		}
		rows = append(rows, row)
	}
	return writeCSV(w, rows)
}

// WriteCSV writes a row a group.
func (r *NotCoveredReport) WriteCSV(w io.Writer) error {
	rows := [][]string{{"questions", "readers", "first seen", "last seen", "shared words", "examples"}}
	for _, g := range r.Groups {
		rows = append(rows, []string{strconv.Itoa(g.Count), strconv.Itoa(g.Readers), g.FirstSeen.String(), g.LastSeen.String(),
			strings.Join(g.Terms, " "), strings.Join(g.Examples, "\n")})
	}
	return writeCSV(w, rows)
}

// WriteCSV writes a row an answer, its sources as their links, one a line.
func (r *RatedDownReport) WriteCSV(w io.Writer) error {
	rows := [][]string{{"rated at", "question", "answer", "sources", "comment"}}
	for _, a := range r.Answers {
		var links []string
		for _, c := range a.Cites() {
			links = append(links, c.URL)
		}
		rows = append(rows, []string{a.RatedAt.String(), a.Question, a.Answer, strings.Join(links, "\n"), a.Comment})
	}
	return writeCSV(w, rows)
}

// WriteCSV writes a row a page.
func (r *PagesReport) WriteCSV(w io.Writer) error {
	rows := [][]string{{"page", "questions", "readers"}}
	for _, p := range r.Pages {
		rows = append(rows, []string{p.Page, itoa(p.Questions), itoa(p.Readers)})
	}
	return writeCSV(w, rows)
}

// WriteCSV writes a row a section.
func (r *CitedReport) WriteCSV(w io.Writer) error {
	rows := [][]string{{"section", "page", "heading", "citations", "readers"}}
	for _, c := range r.Sections {
		rows = append(rows, []string{c.URL, c.Slug, c.Heading, itoa(c.Citations), itoa(c.Readers)})
	}
	return writeCSV(w, rows)
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// writeCSV writes rows as CSV. A cell that a spreadsheet would run as a
// formula (a reader's question may start with "=") is quoted as text.
func writeCSV(w io.Writer, rows [][]string) error {
	cw := csv.NewWriter(w)
	for _, row := range rows {
		for i, cell := range row {
			if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
				row[i] = "'" + cell
			}
		}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
