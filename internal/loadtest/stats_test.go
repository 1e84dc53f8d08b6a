package loadtest

import (
	"math/rand/v2"
	"testing"
	"time"
)

func TestStatsPercentilesOnKnownData(t *testing.T) {
	rec := newOpRecorder(DefaultMaxSamples, 1)
	// 1ms … 100ms in a shuffled order, and three failures that must not
	// count as latencies.
	for _, i := range rand.New(rand.NewPCG(7, 7)).Perm(100) {
		rec.record(time.Duration(i+1)*time.Millisecond, "", "")
	}
	rec.record(time.Hour, Kind5xx, "503 SERVICE_UNAVAILABLE")
	rec.record(time.Hour, Kind5xx, "500")
	rec.record(time.Hour, KindRateLimited, "429 RATE_LIMITED")

	s := rec.stats(OpAsk, 2*time.Second)
	want := Stats{Op: "ask", Count: 103, Errors: 3, Rate: 51.5,
		Mean: 50500 * time.Microsecond, P50: 50 * time.Millisecond, P95: 95 * time.Millisecond, P99: 99 * time.Millisecond, Max: 100 * time.Millisecond}
	if s.Op != want.Op || s.Count != want.Count || s.Errors != want.Errors || s.Rate != want.Rate ||
		s.Mean != want.Mean || s.P50 != want.P50 || s.P95 != want.P95 || s.P99 != want.P99 || s.Max != want.Max {
		t.Errorf("stats = %+v\nwant    %+v", s, want)
	}
	if s.ErrorKinds[Kind5xx] != 2 || s.ErrorKinds[KindRateLimited] != 1 || len(s.ErrorKinds) != 2 {
		t.Errorf("error kinds = %v", s.ErrorKinds)
	}
	if s.ErrorExamples[Kind5xx] != "503 SERVICE_UNAVAILABLE" {
		t.Errorf("the example of 5xx is %q, want the first one", s.ErrorExamples[Kind5xx])
	}
}

func TestPercentileEdges(t *testing.T) {
	if got := percentile(nil, 50); got != 0 {
		t.Errorf("no samples: %v", got)
	}
	one := []time.Duration{7}
	for _, p := range []float64{0.1, 50, 99, 100} {
		if got := percentile(one, p); got != 7 {
			t.Errorf("p%v of one sample = %v", p, got)
		}
	}
	two := []time.Duration{1, 2}
	if percentile(two, 50) != 1 || percentile(two, 51) != 2 || percentile(two, 100) != 2 {
		t.Error("nearest rank of two samples")
	}
}

func TestStatsSampleIsBounded(t *testing.T) {
	rec := newOpRecorder(10, 1)
	for i := 1; i <= 1000; i++ {
		rec.record(time.Duration(i)*time.Millisecond, "", "")
	}
	if len(rec.samples) != 10 {
		t.Fatalf("kept %d samples, want the cap of 10", len(rec.samples))
	}
	s := rec.stats(OpHistory, time.Second)
	if s.Count != 1000 || s.Max != time.Second || s.Mean != 500500*time.Microsecond {
		t.Errorf("count, max and mean must stay exact: %+v", s)
	}
	if !(s.P50 <= s.P95 && s.P95 <= s.P99 && s.P99 <= s.Max) || s.P50 <= 0 {
		t.Errorf("percentiles out of order: %+v", s)
	}
}

func TestFmtDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		500:                      "500ns",
		812 * time.Microsecond:   "812µs",
		1234 * time.Microsecond:  "1.23ms",
		45670 * time.Microsecond: "45.7ms",
		1200 * time.Millisecond:  "1.20s",
		125 * time.Second:        "125s",
	} {
		if got := fmtDuration(d); got != want {
			t.Errorf("fmtDuration(%v) = %q, want %q", time.Duration(d), got, want)
		}
	}
}
