package main

import (
	"bytes"
	"context"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lectern/lectern/internal/store/sqlite"
)

// TestBackupCommand backs up the database of a running lectern serve and
// reads the copy back; it also checks the refusals.
func TestBackupCommand(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"LECTERN_DATA_DIR": dir, "LECTERN_SECRET": strings.Repeat("k", 40)}
	base, _, _ := startServe(t, env)
	res, body := post(t, base+"/api/auth/sign-up/email", `{"email":"reader@example.test","password":"correct horse battery","name":"Reader"}`)
	if res.StatusCode != 200 {
		t.Fatalf("sign-up: %d %s", res.StatusCode, body)
	}

	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "copy.db")
	var out bytes.Buffer
	if err := run(ctx, []string{"backup", path}, envFunc(env), &out, io.Discard); err != nil {
		t.Fatalf("backup: %v", err)
	}
	if !strings.Contains(out.String(), "backed up") {
		t.Errorf("backup printed %q", out.String())
	}
	st, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if u, err := st.UserByEmail(ctx, "reader@example.test"); err != nil || u.Name != "Reader" {
		t.Errorf("user in the backup: %+v, %v", u, err)
	}

	for _, tc := range []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"existing file", []string{"backup", path}, env, "already exists"},
		{"no path", []string{"backup"}, env, "missing the PATH"},
		{"no database", []string{"backup", filepath.Join(t.TempDir(), "x.db")}, map[string]string{"LECTERN_DATA_DIR": t.TempDir()}, "no database"},
		{"postgres", []string{"backup", "x.db"}, map[string]string{"LECTERN_DATABASE_URL": "postgres://127.0.0.1:1/x"}, "pg_dump"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := run(ctx, tc.args, envFunc(tc.env), io.Discard, io.Discard)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("backup = %v, want an error mentioning %q", err, tc.want)
			}
		})
	}
}
