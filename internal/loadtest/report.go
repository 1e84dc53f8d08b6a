package loadtest

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// Report is what a run measured, with the parameters it ran with.
type Report struct {
	// The run's parameters, after defaults (the password is not kept).
	Target, AuthURL string
	RunID           string
	Readers         int // virtual readers asked for
	ReadersReady    int // of those, the ones that signed in and took part
	Duration        time.Duration
	Count, Total    int
	Rate            float64 // open-loop target, requests per second; 0 is closed-loop
	Think           time.Duration
	Mix             Mix
	FollowUp        float64

	Started time.Time
	Setup   time.Duration // signing every reader up and in
	Load    time.Duration // the load phase, after setup
	Elapsed time.Duration // setup and load

	// Ops has one entry per operation that was done or is in the mix, in
	// the order sign_up, sign_in, token, list_conversations, ask, history,
	// ask_stream, ask_stream_first_delta (the last Derived: the time to
	// the first delta of ask_stream's streams, no requests of its own).
	// The Rate of list_conversations, ask, history and ask_stream (and its
	// first delta) is per second of Load; that of the others, which setup
	// does too, per second of Elapsed.
	Ops []Stats
	// All sums Count and Errors over Ops but the derived ones; its Rate is
	// per second of Elapsed, and it has no latencies.
	All Stats

	// LoadRequests is the requests of the load phase (setup excluded), and
	// LoadRate those per second of Load: the throughput to compare with
	// Rate.
	LoadRequests int64
	LoadRate     float64
	// Dropped counts open-loop operations that fell due but were dropped
	// because every reader was busy and the backlog was full.
	Dropped int64
	// Interrupted is set when the run was stopped (SIGINT) before its end.
	Interrupted bool
	// Notes explain what the figures suggest: limits the server applied,
	// readers that could not sign in, a rate beyond capacity.
	Notes []string
}

// Op returns the statistics of the named operation, or false.
func (rep *Report) Op(name string) (Stats, bool) {
	for _, s := range rep.Ops {
		if s.Op == name {
			return s, true
		}
	}
	return Stats{}, false
}

func (rep *Report) mode() string {
	if rep.Rate > 0 {
		return "open"
	}
	return "closed"
}

// Write prints the report as a readable table.
func (rep *Report) Write(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "Lectern load test of %s", rep.Target)
	if rep.AuthURL != rep.Target {
		fmt.Fprintf(&b, " (identity service %s)", rep.AuthURL)
	}
	fmt.Fprintf(&b, ", run %s, started %s\n", rep.RunID, rep.Started.UTC().Format(time.RFC3339))
	fmt.Fprintf(&b, "readers %d (%d signed in), ", rep.Readers, rep.ReadersReady)
	if rep.Rate > 0 {
		fmt.Fprintf(&b, "open loop at %s requests/s", strconv.FormatFloat(rep.Rate, 'g', -1, 64))
	} else {
		fmt.Fprintf(&b, "closed loop, think %s", rep.Think)
	}
	var bounds []string
	if rep.Duration > 0 {
		bounds = append(bounds, "duration "+rep.Duration.String())
	}
	if rep.Count > 0 {
		bounds = append(bounds, fmt.Sprintf("count %d per reader", rep.Count))
	}
	if rep.Total > 0 {
		bounds = append(bounds, fmt.Sprintf("total %d", rep.Total))
	}
	fmt.Fprintf(&b, ", %s, mix %s, follow-up %s\n", strings.Join(bounds, ", "), rep.Mix, strconv.FormatFloat(rep.FollowUp, 'g', -1, 64))
	fmt.Fprintf(&b, "setup %s, load %s: %d requests, %.1f/s", fmtDuration(rep.Setup), fmtDuration(rep.Load), rep.LoadRequests, rep.LoadRate)
	if rep.Rate > 0 {
		fmt.Fprintf(&b, " (target %s/s, %d dropped)", strconv.FormatFloat(rep.Rate, 'g', -1, 64), rep.Dropped)
	}
	b.WriteString("\n\n")
	if _, err := io.WriteString(w, b.String()); err != nil {
		return err
	}

	// Numbers align right; the names, padded to one width, stay left.
	width := len("OPERATION")
	for _, s := range rep.Ops {
		width = max(width, len(s.Op))
	}
	name := func(s string) string { return fmt.Sprintf("%-*s", width, s) }
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "%s\tCOUNT\tERRORS\tREQ/S\tMEAN\tP50\tP95\tP99\tMAX\t\n", name("OPERATION"))
	for _, s := range rep.Ops {
		lat := []string{"-", "-", "-", "-", "-"}
		if s.Count > s.Errors {
			lat = []string{fmtDuration(s.Mean), fmtDuration(s.P50), fmtDuration(s.P95), fmtDuration(s.P99), fmtDuration(s.Max)}
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%.1f\t%s\t\n", name(s.Op), s.Count, s.Errors, s.Rate, strings.Join(lat, "\t"))
	}
	fmt.Fprintf(tw, "%s\t%d\t%d\t%.1f\t\n", name("total"), rep.All.Count, rep.All.Errors, rep.All.Rate)
	if err := tw.Flush(); err != nil {
		return err
	}

	b.Reset()
	b.WriteString("(latencies of successful requests")
	if rep.Rate > 0 {
		b.WriteString(", counted from when each request was due")
	}
	b.WriteString(")\n")
	for _, s := range rep.Ops {
		if s.Derived && s.Op == OpAskStreamFirstDelta.String() {
			b.WriteString("(" + s.Op + ": the time to the first delta event of the ask_stream streams that had one; no requests of its own, not in the total)\n")
		}
	}
	var errLines []string
	for _, s := range rep.Ops {
		if s.Errors == 0 {
			continue
		}
		var parts []string
		for _, k := range slices.Sorted(maps.Keys(s.ErrorKinds)) {
			part := fmt.Sprintf("%d %s", s.ErrorKinds[k], k)
			if ex := s.ErrorExamples[k]; ex != "" {
				part += " (first: " + ex + ")"
			}
			parts = append(parts, part)
		}
		errLines = append(errLines, "  "+s.Op+": "+strings.Join(parts, ", "))
	}
	if len(errLines) > 0 {
		b.WriteString("\nerrors:\n" + strings.Join(errLines, "\n") + "\n")
	}
	if len(rep.Notes) > 0 {
		b.WriteString("\nnotes:\n")
		for _, n := range rep.Notes {
			b.WriteString("  " + n + "\n")
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// fmtDuration prints d with three significant digits: 812µs, 1.23ms,
// 45.6ms, 1.20s.
func fmtDuration(d time.Duration) string {
	f := func(v float64, unit string) string {
		prec := 0
		switch {
		case v < 10:
			prec = 2
		case v < 100:
			prec = 1
		}
		return strconv.FormatFloat(v, 'f', prec, 64) + unit
	}
	switch {
	case d < time.Microsecond:
		return strconv.FormatInt(int64(d), 10) + "ns"
	case d < time.Millisecond:
		return f(float64(d)/float64(time.Microsecond), "µs")
	case d < time.Second:
		return f(float64(d)/float64(time.Millisecond), "ms")
	}
	return f(d.Seconds(), "s")
}

// ms is a duration in milliseconds, for JSON.
func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

type statsJSON struct {
	Op            string            `json:"op"`
	Derived       bool              `json:"derived,omitempty"`
	Count         int64             `json:"count"`
	Errors        int64             `json:"errors"`
	ErrorKinds    map[string]int64  `json:"error_kinds,omitempty"`
	ErrorExamples map[string]string `json:"error_examples,omitempty"`
	Rate          float64           `json:"rate"`
	MeanMS        *float64          `json:"mean_ms,omitempty"`
	P50MS         *float64          `json:"p50_ms,omitempty"`
	P95MS         *float64          `json:"p95_ms,omitempty"`
	P99MS         *float64          `json:"p99_ms,omitempty"`
	MaxMS         *float64          `json:"max_ms,omitempty"`
}

// MarshalJSON writes the statistics with latencies in milliseconds
// (mean_ms, p50_ms, p95_ms, p99_ms, max_ms; absent when nothing succeeded)
// and Rate as requests per second; "derived": true marks a derived row
// (ask_stream_first_delta).
func (s Stats) MarshalJSON() ([]byte, error) {
	out := statsJSON{Op: s.Op, Derived: s.Derived, Count: s.Count, Errors: s.Errors, ErrorKinds: s.ErrorKinds, ErrorExamples: s.ErrorExamples, Rate: s.Rate}
	if s.Count > s.Errors {
		v := []float64{ms(s.Mean), ms(s.P50), ms(s.P95), ms(s.P99), ms(s.Max)}
		out.MeanMS, out.P50MS, out.P95MS, out.P99MS, out.MaxMS = &v[0], &v[1], &v[2], &v[3], &v[4]
	}
	return json.Marshal(out)
}

// MarshalJSON writes the report for programs: durations in seconds
// (duration_s, setup_s, load_s, elapsed_s, think_s) and latencies in
// milliseconds.
func (rep *Report) MarshalJSON() ([]byte, error) {
	type total struct {
		Count  int64   `json:"count"`
		Errors int64   `json:"errors"`
		Rate   float64 `json:"rate"`
	}
	ops := rep.Ops
	if ops == nil {
		ops = []Stats{}
	}
	notes := rep.Notes
	if notes == nil {
		notes = []string{}
	}
	return json.Marshal(struct {
		Target       string    `json:"target"`
		AuthURL      string    `json:"auth_url"`
		RunID        string    `json:"run_id"`
		Readers      int       `json:"readers"`
		ReadersReady int       `json:"readers_ready"`
		Mode         string    `json:"mode"`
		Rate         float64   `json:"rate"`
		Think        float64   `json:"think_s"`
		Duration     float64   `json:"duration_s"`
		Count        int       `json:"count"`
		Total        int       `json:"total"`
		Mix          string    `json:"mix"`
		FollowUp     float64   `json:"follow_up"`
		Started      time.Time `json:"started"`
		Setup        float64   `json:"setup_s"`
		Load         float64   `json:"load_s"`
		Elapsed      float64   `json:"elapsed_s"`
		Ops          []Stats   `json:"ops"`
		Sum          total     `json:"totals"`
		LoadRequests int64     `json:"load_requests"`
		LoadRate     float64   `json:"load_rate"`
		Dropped      int64     `json:"dropped"`
		Interrupted  bool      `json:"interrupted"`
		Notes        []string  `json:"notes"`
	}{
		rep.Target, rep.AuthURL, rep.RunID, rep.Readers, rep.ReadersReady, rep.mode(), rep.Rate, rep.Think.Seconds(),
		rep.Duration.Seconds(), rep.Count, rep.Total, rep.Mix.String(), rep.FollowUp, rep.Started.UTC(),
		rep.Setup.Seconds(), rep.Load.Seconds(), rep.Elapsed.Seconds(), ops,
		total{rep.All.Count, rep.All.Errors, rep.All.Rate}, rep.LoadRequests, rep.LoadRate, rep.Dropped, rep.Interrupted, notes,
	})
}
