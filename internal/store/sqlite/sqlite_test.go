package sqlite

import (
	"crypto/sha256"
	"database/sql"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/lectern/lectern/internal/randid"
	"github.com/lectern/lectern/internal/store"
	"github.com/lectern/lectern/internal/store/storetest"
)

// open opens (without migrating) the database at path and closes it when the
// test ends.
func open(t *testing.T, path string) *Store {
	t.Helper()
	s, err := Open(t.Context(), path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// migrate applies all migrations to s.
func migrate(t *testing.T, s *Store) {
	t.Helper()
	if _, err := s.Migrate(t.Context()); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
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
		s, err := Open(t.Context(), filepath.Join(t.TempDir(), "lectern.db"))
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		migrate(t, s)
		return s
	})
}

func TestMigrateIsIdempotent(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "lectern.db"))
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

	var recorded []string
	rows, err := s.read.QueryContext(t.Context(), `SELECT version FROM schema_migrations ORDER BY version`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		recorded = append(recorded, v)
	}
	if !slices.Equal(recorded, want) {
		t.Errorf("schema_migrations holds %v, want %v", recorded, want)
	}
}

func TestMigrateFromTwoProcessesAtOnceAppliesEachMigrationOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "lectern.db")
	// Separate Stores share nothing but the file, like two processes.
	stores := []*Store{open(t, path), open(t, path), open(t, path)}
	applied := make([][]string, len(stores))
	errs := make([]error, len(stores))
	var wg sync.WaitGroup
	for i, s := range stores {
		wg.Go(func() { applied[i], errs[i] = s.Migrate(t.Context()) })
	}
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
		t.Errorf("migrations applied across processes: %v, want each of %v exactly once", all, want)
	}
}

func TestEveryConnectionGetsThePragmas(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "lectern.db"))
	want := map[string]string{
		"journal_mode": "wal",
		"foreign_keys": "1",
		"busy_timeout": "5000",
		"synchronous":  "1", // NORMAL
	}
	for name, db := range map[string]*sql.DB{"write": s.write, "read": s.read} {
		// Hold several connections at once so the pool has to open new ones.
		n := 3
		if name == "write" {
			n = 1
		}
		var conns []*sql.Conn
		for range n {
			c, err := db.Conn(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			conns = append(conns, c)
		}
		for i, c := range conns {
			for pragma, value := range want {
				var got string
				if err := c.QueryRowContext(t.Context(), "PRAGMA "+pragma).Scan(&got); err != nil {
					t.Fatalf("%s connection %d: PRAGMA %s: %v", name, i, pragma, err)
				}
				if got != value {
					t.Errorf("%s connection %d: %s = %s, want %s", name, i, pragma, got, value)
				}
			}
		}
	}
}

func TestReadPoolRefusesWrites(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "lectern.db"))
	migrate(t, s)
	if _, err := s.read.ExecContext(t.Context(), `DELETE FROM users`); err == nil {
		t.Error("DELETE through the read pool succeeded; want it refused")
	}
}

func TestTwoProcessesWritingAtOnceDoNotGetBusy(t *testing.T) {
	path := filepath.Join(t.TempDir(), "lectern.db")
	a, b := open(t, path), open(t, path)
	migrate(t, a)
	now := time.Now()
	u := store.User{ID: randid.New(), Name: "Ada", Email: "ada@example.test", CreatedAt: now, UpdatedAt: now}
	acct := store.Account{ID: randid.New(), AccountID: u.ID, ProviderID: "credential", UserID: u.ID, CreatedAt: now, UpdatedAt: now}
	if err := a.CreateUser(t.Context(), u, acct); err != nil {
		t.Fatal(err)
	}

	const n = 40
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		s := a
		if i%2 == 1 {
			s = b
		}
		wg.Go(func() {
			hash := sha256.Sum256([]byte(randid.New()))
			x := store.Session{ID: randid.New(), TokenHash: hash[:], UserID: u.ID,
				ExpiresAt: now.Add(time.Hour), CreatedAt: now, UpdatedAt: now}
			if errs[i] = s.CreateSession(t.Context(), x); errs[i] != nil {
				return
			}
			// A read-then-write transaction in the other "process" too.
			errs[i] = s.SetPassword(t.Context(), u.ID, randid.New(), now)
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("writer %d: %v", i, err)
		}
	}
	got, err := b.ListSessions(t.Context(), u.ID, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != n {
		t.Errorf("ListSessions found %d sessions, want %d", len(got), n)
	}
}

func TestOpenRejectsPathsItCannotServe(t *testing.T) {
	for _, path := range []string{"", ":memory:", "file:lectern.db", filepath.Join(t.TempDir(), "what?.db")} {
		if s, err := Open(t.Context(), path); err == nil {
			s.Close()
			t.Errorf("Open(%q) succeeded, want an error", path)
		}
	}
}

func TestForeignKeysAreEnforced(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "lectern.db"))
	migrate(t, s)
	now := time.Now()
	hash := sha256.Sum256([]byte("token"))
	err := s.CreateSession(t.Context(), store.Session{ID: randid.New(), TokenHash: hash[:], UserID: "nobody",
		ExpiresAt: now, CreatedAt: now, UpdatedAt: now})
	if err == nil {
		t.Error("CreateSession for a missing user succeeded; want a foreign key error")
	}
}

// TestDatabaseIsPrivate checks that a new database file, and the files
// SQLite makes beside it, are readable by their owner alone (0644 before).
func TestDatabaseIsPrivate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "lectern.db")
	s, err := Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{path, path + "-wal", path + "-shm"} {
		info, err := os.Stat(f)
		if err != nil {
			t.Fatal(err)
		}
		if perm := info.Mode().Perm(); perm&0o077 != 0 {
			t.Errorf("%s: mode %v, want no access for group or others", filepath.Base(f), perm)
		}
	}
}
