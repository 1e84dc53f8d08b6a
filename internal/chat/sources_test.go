package chat

import (
	"reflect"
	"testing"

	"github.com/lectern/lectern/internal/store"
)

// TestStoredSourcesKeepTheirShape pins the JSON that answers' sources are
// stored in: every conversation ever stored reads it back, so a change to
// Source or to the API's wire type must not change it.
func TestStoredSourcesKeepTheirShape(t *testing.T) {
	ch := 2
	in := []Source{{Slug: "time/leap", Title: "Leap seconds", Heading: "Why", URL: "/docs/time/leap#why", ChapterNumber: &ch, Snippet: "A leap second…", Score: 1.5}}
	b, err := encodeSources(in)
	if err != nil {
		t.Fatal(err)
	}
	const want = `[{"slug":"time/leap","title":"Leap seconds","heading":"Why","url":"/docs/time/leap#why","chapter_number":2,"page_number":null,"snippet":"A leap second…","score":1.5}]`
	if string(b) != want {
		t.Errorf("stored as\n%s\nwant\n%s", b, want)
	}
	if got := SourcesOf(store.Message{Sources: b}); !reflect.DeepEqual(got, in) {
		t.Errorf("read back %+v", got)
	}
	for _, raw := range []string{"", "null", "{not json"} {
		if got := SourcesOf(store.Message{Sources: []byte(raw)}); len(got) != 0 {
			t.Errorf("SourcesOf(%q) = %+v, want none", raw, got)
		}
	}
}
