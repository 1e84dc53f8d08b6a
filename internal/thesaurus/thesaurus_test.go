package thesaurus

import (
	"slices"
	"testing"
)

func TestSynonyms(t *testing.T) {
	th := English()
	for _, tc := range []struct {
		word string
		want []string // among the synonyms
		not  []string
	}{
		{"luck", []string{"fortune"}, nil},
		{"weapons", []string{"arm"}, nil},  // a plural, looked up as its singular
		{"hires", []string{"employ"}, nil}, // a verb's third person, looked up as its base
		{"generous", []string{"liberal"}, nil},
		{"stingy", []string{"mean"}, []string{"stingy"}},
		{"zzzz", nil, nil},
		{"", nil, nil},
	} {
		var got []string
		th.EachSynonym(tc.word, func(s string) { got = append(got, s) })
		for _, w := range tc.want {
			if !slices.Contains(got, w) {
				t.Errorf("%q: %v lacks %q", tc.word, got, w)
			}
		}
		for _, w := range tc.not {
			if slices.Contains(got, w) {
				t.Errorf("%q: %v has %q", tc.word, got, w)
			}
		}
		if tc.want == nil && len(got) > 0 {
			t.Errorf("%q: %v, want none", tc.word, got)
		}
	}
}

func TestTheDataIsSorted(t *testing.T) {
	th := English()
	for i := 1; i < len(th.lines); i++ {
		if th.head(i-1) >= th.head(i) {
			t.Fatalf("line %d: %q after %q", i, th.head(i), th.head(i-1))
		}
	}
}
