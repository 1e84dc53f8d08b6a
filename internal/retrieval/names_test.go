package retrieval

import (
	"slices"
	"strings"
	"testing"
)

func TestAbsentNames(t *testing.T) {
	ix := New(Options{})
	ix.Add(Doc{ID: "1", Group: "a", Page: "a", Title: "Clocks", Heading: "Parsing",
		Text: "Go's time.Parse reads RFC 3339. The react-redux package and the APIs of chrony. Excellent clocks drift."})
	for _, tc := range []struct {
		question string
		want     []string
	}{
		{"how does Svelte handle stores?", []string{"Svelte"}},
		{"does React re-render here?", nil},                        // the book writes react in lower case
		{"which API parses dates?", nil},                           // the book has the plural
		{"what does time.Parse return?", nil},                      // an identifier the book has
		{"how does Moment.js parse dates?", []string{"Moment.js"}}, // one it lacks, whole
		{"is Excel affected?", []string{"Excel"}},                  // "excellent" is another word
		{"Svelte: does it parse?", nil},                            // a sentence's first word
		{"I've read that chrony drifts, is it true?", nil},         // a contraction is no name
		{"How To Parse Dates In Svelte", nil},                      // title case says nothing
		{"how does McMurdo keep time?", []string{"McMurdo"}},
		{"why does useSelector rerender?", []string{"useSelector"}},
		{"what does e.g. stand for in the RFC?", nil},
		{"does the RFC3339 parser accept it?", nil}, // the book writes "RFC 3339"
		{"does Rust2 change time.Parse?", []string{"Rust2"}},
		{"I set API_TOKEN=abc123 in my file, why does time.Parse fail?", nil}, // the reader's own setting
	} {
		if got := ix.absentNames(tc.question); !slices.Equal(got, tc.want) {
			t.Errorf("absentNames(%q) = %q, want %q", tc.question, got, tc.want)
		}
	}
}

func TestAQuestionNamingWhatTheBookNeverMentionsIsNotCovered(t *testing.T) {
	ix := corpusIndex(Options{})
	r := ix.Search(Query{Text: "how do I parse a date string with Moment.js in Go?"})
	if r.Covered || !slices.Equal(r.Missing, []string{"Moment.js"}) {
		t.Errorf("covered %v, missing %q; want not covered for lack of Moment.js", r.Covered, r.Missing)
	}
	r = ix.Search(Query{Text: "how do I parse a date string in Go?", Highlight: "Moment.js"})
	if !r.Covered {
		t.Errorf("a name only in the highlighted passage refused the question")
	}
}

func TestProximity(t *testing.T) {
	filler := strings.Repeat("the garden path leads past apple trees and old stone walls ", 4)
	near := Doc{ID: "near", Group: "near", Page: "a", Text: filler + "never dispatch from a reducer. " + filler}
	far := Doc{ID: "far", Group: "far", Page: "b", Text: "dispatch " + filler + filler + " reducer."}
	for _, tc := range []struct {
		weight float64
		first  string
	}{
		{-1, "far"}, // without the boost, the shorter chunk wins
		{DefaultProximityWeight, "near"},
	} {
		ix := New(Options{ProximityWeight: tc.weight, MinCoverage: -1})
		ix.Add(far, near)
		r := ix.Search(Query{Text: "can I dispatch in a reducer?"})
		if len(r.Hits) != 2 || r.Hits[0].ID != tc.first {
			t.Errorf("proximity weight %v: ranks %v, want %s first", tc.weight, hitIDs(r), tc.first)
		}
	}
}

// synonyms is a thesaurus for tests.
type synonyms map[string][]string

func (s synonyms) EachSynonym(word string, fn func(string)) {
	for _, w := range s[word] {
		fn(w)
	}
}

func TestSynonymsOfWordsTheBookLacks(t *testing.T) {
	th := synonyms{"luck": {"fortune", "chance"}, "ruler": {"prince", "sovereign"}}
	docs := []Doc{
		{ID: "fortune", Group: "fortune", Page: "a", Text: "Fortune is the arbiter of half our actions, and leaves the other half to us."},
		{ID: "ruler", Group: "ruler", Page: "b", Text: "A ruler must keep the people content, or the ruler falls."},
		{ID: "prince", Group: "prince", Page: "c", Text: "A prince must know how to be a fox."},
	}
	plain, expanded := New(Options{}), New(Options{Thesaurus: th})
	plain.Add(docs...)
	expanded.Add(docs...)
	if r := plain.Search(Query{Text: "how much of life is luck?"}); r.Covered {
		t.Errorf("without a thesaurus: covered, %v", hitIDs(r))
	}
	r := expanded.Search(Query{Text: "how much of life is luck?"})
	if !r.Covered || r.Hits[0].ID != "fortune" || !slices.Contains(r.Hits[0].Matched, "fortun") {
		t.Errorf("with a thesaurus: covered %v, %+v", r.Covered, r.Hits)
	}
	// "ruler" is the book's own word: its synonyms are not added, so the
	// section on princes does not come before the one on rulers.
	if r := expanded.Search(Query{Text: "what must a ruler keep?"}); len(r.Hits) == 0 || r.Hits[0].ID != "ruler" || len(r.Hits) > 1 && r.Hits[1].ID == "prince" && slices.Contains(r.Hits[1].Matched, "princ") {
		t.Errorf("a word the book uses was expanded: %+v", r.Hits)
	}
}

func TestNamesInABookThatCapitalizesNouns(t *testing.T) {
	ix := New(Options{})
	ix.Add(Doc{ID: "1", Group: "a", Page: "a", Title: "Zeit",
		Text: "Die Uhr zeigt die Zeit. Eine Sekunde ist die Einheit der Zeit, und die Schaltsekunde hält die Zeit mit der Erde im Takt."})
	if got := ix.absentNames("Wie lang ist eine Minute in der Uhrzeit?"); got != nil {
		t.Errorf("absentNames = %q; in a book that capitalizes its nouns, capitals are no names", got)
	}
	en := New(Options{})
	en.Add(Doc{ID: "1", Group: "a", Page: "a", Text: "The clock shows the time. A second is the unit of time, and a leap second keeps it in step with the Earth."})
	if got := en.absentNames("how long is a minute in Rust?"); !slices.Equal(got, []string{"Rust"}) {
		t.Errorf("absentNames = %q in an English book", got)
	}
}

// TestNamesInChineseText checks that a Latin name written between Chinese
// characters is read as that name alone, not run together with the
// characters and punctuation around it.
func TestNamesInChineseText(t *testing.T) {
	var got []string
	surfaceWords("绝大多数类型都会自动实现 Send 和 Sync，那主要有哪些例外？", func(w string, _ int) { got = append(got, w) })
	if strings.Join(got, " ") != "Send Sync" {
		t.Errorf("surface words %q, want Send and Sync", got)
	}
}

// TestLatinNamesInAnotherScript checks that in a question written in
// another script, every Latin word is a name, whatever its case or place.
func TestLatinNamesInAnotherScript(t *testing.T) {
	ix := New(Options{})
	ix.Add(Doc{ID: "1", Group: "a", Page: "a", Title: "互斥锁",
		Text: "Mutex 在等待时自旋。调用 ptr::read 读取值，再用 unsafe 块。Часы показывают время, и Mutex тоже. match map.get_mut(&key) {"},
		Doc{ID: "2", Group: "b", Page: "b", Title: "异常安全", Heading: "BinaryHeap::sift_up", Text: "在比较时 panic 的情况。"})
	for _, tc := range []struct {
		question string
		want     []string
	}{
		{"Mutex 是怎么让线程休眠的（比如用 futex）？", []string{"futex"}},
		{"Pin<&mut T> 是怎样保证结构体不会被移动的？", []string{"Pin"}},
		{"用 ptr::read_volatile 读写寄存器时要注意什么？", []string{"ptr::read_volatile"}},
		{"unsafe 块里的 ptr::read 做什么？", nil},
		{"先 `map.get_mut(&key)` 再插入，为什么报错？", nil},  // the identifier of a call in the book's code
		{"BinaryHeap::sift_up 在 panic 时怎么办？", nil}, // an identifier in a heading
		{"Как работает futex в Mutex?", []string{"futex"}},
		{"how does the futex work in a Mutex?", nil}, // in English, a lower-case word is no name
	} {
		if got := ix.absentNames(tc.question); !slices.Equal(got, tc.want) {
			t.Errorf("absentNames(%q) = %q, want %q", tc.question, got, tc.want)
		}
	}
}
