package store

import (
	"fmt"
	"testing"
)

func TestKeyTally(t *testing.T) {
	type row struct {
		key     string
		n       int64
		readers string
	}
	tests := []struct {
		name              string
		rows              []row
		minReaders, limit int
		want              []KeyCount
	}{
		{"a reader counts once per key, across days", []row{
			{"/a", 3, "1,2,1,"}, {"/a", 2, "2,7,"}, {"/b", 1, "1,"},
		}, 1, 10, []KeyCount{{"/a", 5, 3}, {"/b", 1, 1}}},
		{"numbers far apart, at word edges", []row{
			{"/a", 4, "0,63,64,1000000,"}, {"/b", 3, "63,64,64,"}, {"/c", 1, "1000000,"},
		}, 1, 10, []KeyCount{{"/a", 4, 4}, {"/b", 3, 2}, {"/c", 1, 1}}},
		{"numbers beyond the bitmap, counted once a key", []row{
			{"/a", 3, "4000000000,4000000000,16777216,"}, {"/b", 2, "4000000000,1,"},
		}, 1, 10, []KeyCount{{"/a", 3, 2}, {"/b", 2, 2}}},
		{"most first, then by key; the limit keeps the first", []row{
			{"/a", 1, "1,"}, {"/b", 2, "1,2,"}, {"/c", 2, "3,4,"},
		}, 1, 2, []KeyCount{{"/b", 2, 2}, {"/c", 2, 2}}},
		{"fewer readers than asked for, or nothing left, is left out", []row{
			{"/a", 3, "5,5,5,"}, {"/b", 2, "5,6,"}, {"/c", 0, ""},
		}, 2, 10, []KeyCount{{"/b", 2, 2}}},
		{"no rows", nil, 1, 10, []KeyCount{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var tally KeyTally
			for _, r := range tt.rows {
				tally.Add([]byte(r.key), r.n, []byte(r.readers))
			}
			if got := tally.Counts(tt.minReaders, tt.limit); fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("Counts = %v, want %v", got, tt.want)
			}
		})
	}
}
