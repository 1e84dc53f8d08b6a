package answer_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/lectern/lectern/internal/answer"
	"github.com/lectern/lectern/internal/chat"
	"github.com/lectern/lectern/internal/quality"
)

// BenchmarkExtractiveAnswer reports the p50 and p99 latency of a whole
// extractive answer (search, quotation choice, rendering) over the demo
// book's evaluation questions.
//
//	go test -run '^$' -bench ExtractiveAnswer -benchtime=5000x ./internal/answer/
func BenchmarkExtractiveAnswer(b *testing.B) {
	lib := demoLibrary(b)
	qs, err := quality.ReadFile("../../books/demo.qa.jsonl")
	if err != nil {
		b.Fatal(err)
	}
	a := answer.New(lib, nil, answer.Options{})
	ctx := context.Background()
	lat := make([]time.Duration, 0, b.N)
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		start := time.Now()
		if _, err := a.Answer(ctx, chat.Question{Agent: chat.AgentTriage, Query: qs[i%len(qs)].Question}, nil); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(start))
		i++
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
}
