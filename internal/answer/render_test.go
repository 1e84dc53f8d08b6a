package answer

import (
	"strings"
	"testing"

	"github.com/lectern/lectern/internal/library"
	"github.com/lectern/lectern/internal/retrieval"
)

func TestAListQuotedWholeIsNotQuotedAgain(t *testing.T) {
	hits := []library.Hit{{URL: "/docs/zst#zst", SectionText: "Zero-sized types break two things in our vector code:\n\n" +
		"- The raw allocator has undefined behaviour for zero-sized allocations.\n- Raw pointer offsets are no-ops for zero-sized types.\n\nSo we guard against both of them."}}
	text, _ := extractiveAnswer("what breaks with zero-sized types in the raw allocator and pointer offsets?", hits,
		retrieval.Analyze, func(string) float64 { return 1 }, nil)
	if n := strings.Count(text, "Raw pointer offsets are no-ops"); n != 1 || !strings.Contains(text, "> - The raw allocator") {
		t.Errorf("the list is quoted %d times, or not as a list:\n%s", n, text)
	}
}
