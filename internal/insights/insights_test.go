package insights

import (
	"strings"
	"testing"
	"time"
)

func TestParseSpan(t *testing.T) {
	now := func() time.Time { return time.Date(2026, time.March, 10, 15, 4, 5, 0, time.FixedZone("CET", 3600)) }
	s := New(nil, Options{Now: now})
	for _, tc := range []struct {
		from, to       string
		wantFrom, want string // the first and the last day, or the error's field
	}{
		{"", "", "2026-02-09", "2026-03-10"}, // the last 30 days, today included
		{"2026-03-01", "", "2026-03-01", "2026-03-10"},
		{"", "2026-01-31", "2026-01-02", "2026-01-31"},
		{"2026-01-01", "2026-01-01", "2026-01-01", "2026-01-01"},
		{"2026-01-02", "2026-01-01", "", "from:"},
		{"2024-01-01", "2026-01-01", "", "from:"}, // longer than MaxSpan
		{"yesterday", "", "", "from:"},
		{"", "2026-02-30", "", "to:"},
	} {
		sp, err := s.ParseSpan(tc.from, tc.to)
		if tc.wantFrom == "" {
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("ParseSpan(%q, %q) = %v, %v; want an error about %s", tc.from, tc.to, sp, err, tc.want)
			}
			continue
		}
		first, last := sp.From.Format(time.DateOnly), sp.To.Add(-24*time.Hour).Format(time.DateOnly)
		if err != nil || first != tc.wantFrom || last != tc.want {
			t.Errorf("ParseSpan(%q, %q) = %s … %s, %v; want %s … %s", tc.from, tc.to, first, last, err, tc.wantFrom, tc.want)
		}
	}
}
