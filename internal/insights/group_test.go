package insights

import (
	"slices"
	"testing"
	"time"

	"github.com/lectern/lectern/internal/retrieval"
)

func TestGroupQuestions(t *testing.T) {
	at := time.Date(2026, time.March, 1, 9, 0, 0, 0, time.UTC)
	qs := []Asked{
		{"How do I bake sourdough bread?", "r1", at},
		{"baking sourdough bread at home", "r2", at.Add(time.Hour)},
		{"How do I bake sourdough bread?", "r3", at.Add(2 * time.Hour)},
		{"Which bread goes with cheese?", "r1", at.Add(3 * time.Hour)},
		{"What is the best watch for diving?", "r2", at.Add(4 * time.Hour)},
		{"best diving watch", "r2", at.Add(5 * time.Hour)},
		{"??", "r4", at.Add(6 * time.Hour)}, // no terms: left out
	}
	groups := GroupQuestions(qs, retrieval.Analyze, 1)
	if len(groups) != 3 {
		t.Fatalf("%d groups, want 3: %+v", len(groups), groups)
	}
	bread := groups[0]
	if bread.Count != 3 || bread.Readers != 3 || !bread.FirstSeen.Equal(at) || !bread.LastSeen.Equal(at.Add(2*time.Hour)) ||
		!slices.Equal(bread.Examples, []string{"baking sourdough bread at home", "How do I bake sourdough bread?"}) ||
		!slices.Equal(bread.Terms, []string{"bake", "bread", "sourdough"}) {
		t.Errorf("the sourdough group: %+v", bread)
	}
	watch := groups[1]
	if watch.Count != 2 || watch.Readers != 1 || !slices.Contains(watch.Examples, "best diving watch") {
		t.Errorf("the watch group: %+v", watch)
	}
	if cheese := groups[2]; cheese.Count != 1 || cheese.Examples[0] != "Which bread goes with cheese?" {
		t.Errorf("the cheese question joined another group: %+v", groups)
	}

	// Groups from fewer distinct readers than asked for are hidden.
	if got := GroupQuestions(qs, retrieval.Analyze, 2); len(got) != 1 || got[0].Count != 3 {
		t.Errorf("with 2 readers at least: %+v", got)
	}
}
