package quality_test

import (
	"strings"
	"testing"

	"github.com/lectern/lectern/internal/quality"
)

func TestContainsFacts(t *testing.T) {
	text := "> Reviewers should respond **within one business day**. It’s the\n  maximum time [1]"
	for _, tc := range []struct {
		facts []string
		want  bool
	}{
		{[]string{"within one business day"}, true},
		{[]string{"WITHIN ONE business day", "it's the maximum time"}, true},
		{[]string{"within one business day", "two days"}, false},
		{[]string{"one business week"}, false},
		{nil, true},
	} {
		if got := quality.ContainsFacts(text, tc.facts); got != tc.want {
			t.Errorf("%q: got %v", tc.facts, got)
		}
	}
}

func TestFloors(t *testing.T) {
	floors, err := quality.ReadFloors(strings.NewReader("# book set measure value\nredux\ttune\thit@3\t0.9\nredux tune wrongly_nc 0.05\n\nother tune hit@3 1\n"))
	if err != nil || len(floors) != 3 {
		t.Fatalf("%v %+v", err, floors)
	}
	row := func(hit3, wrong float64) []quality.Row {
		return []quality.Row{{Book: "redux", Set: "tune", Retrieval: quality.Report{HitAt3: hit3, FalseNotCovered: wrong}}}
	}
	for _, tc := range []struct {
		name      string
		rows      []quality.Row
		violation int
	}{
		{"at the floors", row(0.9, 0.05), 0},
		{"below a floor", row(0.89, 0), 1},
		{"above a ceiling", row(1, 0.06), 1},
		{"both", row(0.5, 0.5), 2},
		{"a book not measured is not checked", nil, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := quality.CheckFloors(tc.rows, floors); len(got) != tc.violation {
				t.Errorf("%q", got)
			}
		})
	}
	for _, bad := range []string{"redux tune hit@3", "redux tune hit@4 0.5", "redux tune hit@3 1.5", "redux tune hit@3 x"} {
		if _, err := quality.ReadFloors(strings.NewReader(bad)); err == nil || !strings.HasPrefix(err.Error(), "line 1:") {
			t.Errorf("%q: %v", bad, err)
		}
	}
}
