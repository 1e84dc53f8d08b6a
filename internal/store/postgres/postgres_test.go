package postgres

import (
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/lectern/lectern/internal/store"
	"github.com/lectern/lectern/internal/store/pgtest"
	"github.com/lectern/lectern/internal/store/storetest"
)

// open connects to url and closes the store when the test ends.
func open(t *testing.T, url string) *Store {
	t.Helper()
	s, err := Open(t.Context(), url)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// withParam adds a query parameter to a postgres:// URL.
func withParam(url, param string) string {
	if strings.Contains(url, "?") {
		return url + "&" + param
	}
	return url + "?" + param
}

// versions returns the versions of every embedded migration, in order.
func versions(t *testing.T) []string {
	t.Helper()
	all, err := loadMigrations()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range all {
		out = append(out, m.Version)
	}
	return out
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		// A small pool: the suite runs many databases side by side.
		s, err := Open(t.Context(), withParam(pgtest.NewDatabase(t), "pool_max_conns=4"))
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		if _, err := s.Migrate(t.Context()); err != nil {
			s.Close()
			t.Fatalf("Migrate: %v", err)
		}
		return s
	})
}

func TestMigrateIsIdempotent(t *testing.T) {
	s := open(t, pgtest.NewDatabase(t))
	applied, err := s.Migrate(t.Context())
	if err != nil {
		t.Fatalf("first Migrate: %v", err)
	}
	want := versions(t)
	if !slices.Equal(applied, want) || applied[0] != "0001_identity" {
		t.Errorf("first Migrate applied %v, want %v starting with 0001_identity", applied, want)
	}

	applied, err = s.Migrate(t.Context())
	if err != nil {
		t.Fatalf("second Migrate: %v", err)
	}
	if len(applied) != 0 {
		t.Errorf("second Migrate applied %v, want nothing", applied)
	}

	rows, err := s.Pool().Query(t.Context(), `SELECT version FROM schema_migrations ORDER BY version`)
	if err != nil {
		t.Fatal(err)
	}
	var recorded []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		recorded = append(recorded, v)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(recorded, want) {
		t.Errorf("schema_migrations holds %v, want %v", recorded, want)
	}
}

func TestConcurrentMigratesBothSucceedAndApplyEachMigrationOnce(t *testing.T) {
	url := pgtest.NewDatabase(t)
	// Separate pools, like separate replicas starting together.
	stores := []*Store{open(t, url), open(t, url), open(t, url), open(t, url)}
	applied := make([][]string, len(stores))
	errs := make([]error, len(stores))
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, s := range stores {
		wg.Go(func() {
			<-start
			applied[i], errs[i] = s.Migrate(t.Context())
		})
	}
	close(start)
	wg.Wait()

	var all []string
	for i := range stores {
		if errs[i] != nil {
			t.Errorf("Migrate %d: %v", i, errs[i])
		}
		all = append(all, applied[i]...)
	}
	slices.Sort(all)
	if want := versions(t); !slices.Equal(all, want) {
		t.Errorf("migrations applied across migrators: %v, want each of %v exactly once", all, want)
	}
}

func TestOpenSizesThePool(t *testing.T) {
	url := pgtest.NewDatabase(t)
	cases := []struct {
		name string
		url  string
		want int32
	}{
		{"without pool_max_conns the pool holds 10 connections", url, defaultMaxConns},
		{"pool_max_conns in the URL wins", withParam(url, "pool_max_conns=3"), 3},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := open(t, c.url)
			if got := s.Pool().Config().MaxConns; got != c.want {
				t.Errorf("MaxConns = %d, want %d", got, c.want)
			}
			if got := s.Pool().Config().ConnConfig.ConnectTimeout; got <= 0 {
				t.Errorf("ConnectTimeout = %v, want a limit", got)
			}
		})
	}
}

func TestOpenFailsWhenTheServerIsUnreachable(t *testing.T) {
	// Port 1 on loopback refuses connections at once.
	if s, err := Open(t.Context(), "postgres://postgres@127.0.0.1:1/postgres?sslmode=disable&connect_timeout=2"); err == nil {
		s.Close()
		t.Fatal("Open succeeded; want an error")
	}
}
