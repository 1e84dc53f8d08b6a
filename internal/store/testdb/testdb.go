// Package testdb opens migrated stores of every engine for tests outside
// package store, so each suite can run the same cases on SQLite and on
// PostgreSQL.
package testdb

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/lectern/lectern/internal/store"
	"github.com/lectern/lectern/internal/store/pgtest"
	"github.com/lectern/lectern/internal/store/postgres"
	"github.com/lectern/lectern/internal/store/sqlite"
)

// Engine names a storage engine and opens a fresh, migrated store of it.
type Engine struct {
	Name string
	// Open returns an empty store closed when the test ends. PostgreSQL
	// follows pgtest's rules: skipped when unreachable unless
	// LECTERN_TEST_POSTGRES=require.
	Open func(t testing.TB) store.Store
}

// Engines returns SQLite and PostgreSQL.
func Engines() []Engine {
	return []Engine{
		{"sqlite", func(t testing.TB) store.Store {
			st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "lectern.db"))
			if err != nil {
				t.Fatal(err)
			}
			return migrated(t, st)
		}},
		{"postgres", func(t testing.TB) store.Store {
			st, err := postgres.Open(context.Background(), pgtest.NewDatabase(t))
			if err != nil {
				t.Fatal(err)
			}
			return migrated(t, st)
		}},
	}
}

func migrated(t testing.TB, st interface {
	store.Store
	Migrate(context.Context) ([]string, error)
}) store.Store {
	t.Helper()
	t.Cleanup(func() { st.Close() })
	if _, err := st.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return st
}

// ForEach runs f as a parallel subtest per engine, each with its own store.
func ForEach(t *testing.T, f func(t *testing.T, st store.Store)) {
	for _, e := range Engines() {
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			f(t, e.Open(t))
		})
	}
}
