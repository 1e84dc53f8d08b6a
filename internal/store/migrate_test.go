package store

import (
	"strings"
	"testing"
	"testing/fstest"
)

func TestLoadMigrations(t *testing.T) {
	file := func(s string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(s)} }
	t.Run("in file-name order", func(t *testing.T) {
		ms, err := LoadMigrations(fstest.MapFS{
			"m/0002_users.sql": file("B"), "m/0001_init.sql": file("A"), "m/0010_more_2.sql": file("C"),
		}, "m")
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, m := range ms {
			got = append(got, m.Version+"="+m.SQL)
		}
		if strings.Join(got, " ") != "0001_init=A 0002_users=B 0010_more_2=C" {
			t.Errorf("got %v", got)
		}
	})
	for name, fsys := range map[string]fstest.MapFS{
		"a badly named file":       {"m/1_init.sql": file("")},
		"an upper-case name":       {"m/0001_Init.sql": file("")},
		"not SQL":                  {"m/0001_init.txt": file("")},
		"two files share a number": {"m/0001_a.sql": file(""), "m/0001_b.sql": file("")},
	} {
		t.Run(name+" is refused", func(t *testing.T) {
			if _, err := LoadMigrations(fsys, "m"); err == nil {
				t.Error("accepted")
			}
		})
	}
}
