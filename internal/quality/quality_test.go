package quality_test

import (
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
