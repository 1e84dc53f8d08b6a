package web

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/lectern/lectern/internal/insights"
)

// chart is the owners' daily volume as an SVG bar chart drawn on the
// server: a bar a day, its questions, the part the book did not cover in
// another colour, and the readers as a line. Title and Desc are its text
// alternative.
type chart struct {
	Width, Height int
	Bars          []bar
	Readers       string // the readers line's points
	Max           int64
	First, Last   string // the first and last day, under the axis
	Title, Desc   string
	Baseline      float64
}

// bar is one day: the whole bar is its questions, the inner one the
// answers that said the book does not cover them.
type bar struct {
	X, W, Y, H float64
	NotY, NotH float64
	Label      string // the day's figures, as the bar's tooltip
}

const (
	chartW, chartH = 720, 220
	chartTop       = 14 // room for the top value
	chartBottom    = 22 // room for the days
)

// volumeChart draws v's days, a bar for every day of the span (empty days
// too), and totals the answers of each agent.
func volumeChart(v *insights.VolumeReport) (chart, []agentTotal) {
	from, _ := time.Parse(time.DateOnly, v.From)
	to, _ := time.Parse(time.DateOnly, v.To)
	days := int(to.Sub(from).Hours()/24) + 1
	byDay := map[string]insights.DayRow{}
	var questions, notCovered int64
	busiest := insights.DayRow{}
	for _, d := range v.Days {
		byDay[d.Day] = d
		questions += d.Questions
		if d.Questions > busiest.Questions {
			busiest = d
		}
	}
	notByDay := map[string]int64{}
	var agents []agentTotal
	for _, a := range v.Agents {
		notByDay[a.Day] += a.NotCovered
		notCovered += a.NotCovered
		i := slices.IndexFunc(agents, func(t agentTotal) bool { return t.Agent == a.Agent })
		if i < 0 {
			i = len(agents)
			agents = append(agents, agentTotal{Agent: a.Agent})
		}
		agents[i].Answered += a.Answered
		agents[i].NotCovered += a.NotCovered
	}
	slices.SortFunc(agents, func(a, b agentTotal) int { return strings.Compare(a.Agent, b.Agent) })

	c := chart{Width: chartW, Height: chartH, Max: max(busiest.Questions, 1), First: v.From, Last: v.To,
		Baseline: chartH - chartBottom, Title: fmt.Sprintf("Questions per day, %s to %s", v.From, v.To)}
	plot := float64(chartH - chartTop - chartBottom)
	step := float64(chartW) / float64(days)
	scale := func(n int64) float64 { return plot * float64(n) / float64(c.Max) }
	var line []string
	for i := range days {
		day := from.AddDate(0, 0, i).Format(time.DateOnly)
		d := byDay[day]
		b := bar{X: float64(i)*step + step*0.15, W: step * 0.7, H: scale(d.Questions), NotH: scale(notByDay[day])}
		b.Y, b.NotY = c.Baseline-b.H, c.Baseline-b.NotH
		b.Label = fmt.Sprintf("%s: %d questions from %d readers, %d not covered", day, d.Questions, d.Readers, notByDay[day])
		c.Bars = append(c.Bars, b)
		line = append(line, strconv.FormatFloat(float64(i)*step+step/2, 'f', 1, 64)+","+strconv.FormatFloat(c.Baseline-scale(d.Readers), 'f', 1, 64))
	}
	c.Readers = strings.Join(line, " ")
	switch {
	case questions == 0:
		c.Desc = "No questions were asked in these days."
	default:
		c.Desc = fmt.Sprintf("%s over %s; %s the book does not cover the question (%.0f%%). The busiest day was %s, with %s from %s.",
			count(questions, "question"), count(int64(days), "day"), count(notCovered, "answer")+" said", 100*float64(notCovered)/float64(questions),
			busiest.Day, count(busiest.Questions, "question"), count(busiest.Readers, "reader"))
	}
	return c, agents
}

// count is n things, in words: "1 question", "2 questions".
func count(n int64, thing string) string {
	if n == 1 {
		return "1 " + thing
	}
	return strconv.FormatInt(n, 10) + " " + thing + "s"
}
