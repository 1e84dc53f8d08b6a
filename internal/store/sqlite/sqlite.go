// Package sqlite implements store.Store on an SQLite database file, using the
// pure-Go modernc.org/sqlite driver through database/sql.
//
// Writes go through a pool of exactly one connection whose transactions begin
// with BEGIN IMMEDIATE, so writers in this process queue in Go rather than
// racing for SQLite's write lock, and a writer in another process is waited
// for (busy_timeout) instead of failing with SQLITE_BUSY. Reads go through a
// separate read-only pool and, thanks to WAL, never block on the writer.
//
// Times are stored as INTEGER microseconds since the Unix epoch: they sort
// numerically, round-trip exactly at the precision PostgreSQL's timestamptz
// keeps, and come back in UTC. Booleans are 0/1 and binary values are BLOBs.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"runtime"
	"strings"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/lectern/lectern/internal/store"
)

// busyTimeout is how long a statement waits for another connection's (or
// process's) write lock before giving up with SQLITE_BUSY.
const busyTimeout = 5 * time.Second

// Store is a store.Store backed by one SQLite database file. It is safe for
// concurrent use.
type Store struct {
	path  string
	write *sql.DB // exactly one connection; every write goes here
	read  *sql.DB // read-only connections for queries
	// The hot queries, prepared once per pool.
	writeStmts, readStmts *stmts
}

var _ store.Store = (*Store)(nil)

// Open opens (creating if needed) the SQLite database at path and configures
// every connection for WAL, a busy timeout, foreign keys and synchronous=NORMAL.
// path is a plain filesystem path; in-memory databases are rejected because the
// read and write pools would each see a different one. Call Migrate before use.
func Open(ctx context.Context, path string) (*Store, error) {
	switch {
	case path == "" || path == ":memory:" || strings.HasPrefix(path, "file:"):
		return nil, fmt.Errorf("sqlite: open %q: need a plain database file path", path)
	case strings.ContainsAny(path, "?#"):
		// The driver splits its DSN at the first '?'.
		return nil, fmt.Errorf("sqlite: open %q: path must not contain '?' or '#'", path)
	}

	// Readable by its owner alone: it holds password hashes, sessions and
	// every reader's conversations. SQLite gives the -wal and -shm files
	// the database file's permissions.
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	f.Close()
	write, err := sql.Open("sqlite", dsn(path, false))
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	write.SetMaxOpenConns(1)
	write.SetMaxIdleConns(1)
	write.SetConnMaxLifetime(0)
	write.SetConnMaxIdleTime(0)

	// The first write connection creates the file and switches it to WAL;
	// check that it took, since some filesystems cannot do WAL.
	var mode string
	if err := write.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		write.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	if !strings.EqualFold(mode, "wal") {
		write.Close()
		return nil, fmt.Errorf("sqlite: open %s: journal_mode is %q, want wal", path, mode)
	}

	read, err := sql.Open("sqlite", dsn(path, true))
	if err != nil {
		write.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	n := max(4, runtime.NumCPU())
	read.SetMaxOpenConns(n)
	read.SetMaxIdleConns(n)

	s := &Store{path: path, write: write, read: read, writeStmts: newStmts(write), readStmts: newStmts(read)}
	if err := s.Ping(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// dsn builds the driver's data source name. The pragmas travel in the DSN so
// that database/sql applies them to every connection it ever opens, not just
// the first. Read connections are additionally query_only, so a write routed
// to the wrong pool fails loudly instead of contending for the lock.
func dsn(path string, readOnly bool) string {
	q := url.Values{}
	// busy_timeout first: switching to WAL may itself need to wait for a lock.
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busyTimeout.Milliseconds()))
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "foreign_keys(ON)")
	q.Add("_pragma", "synchronous(NORMAL)")
	if readOnly {
		q.Add("_pragma", "query_only(ON)")
	} else {
		// Take the write lock when a transaction begins, not at its first
		// write: upgrading a read transaction to a write one cannot wait for
		// the lock and fails with SQLITE_BUSY at once.
		q.Set("_txlock", "immediate")
	}
	return path + "?" + q.Encode()
}

// Ping reports whether both connection pools can reach the database.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.write.PingContext(ctx); err != nil {
		return fmt.Errorf("sqlite: ping: %w", err)
	}
	if err := s.read.PingContext(ctx); err != nil {
		return fmt.Errorf("sqlite: ping: %w", err)
	}
	return nil
}

// Close closes both connection pools.
func (s *Store) Close() error {
	return errors.Join(s.readStmts.close(), s.writeStmts.close(), s.read.Close(), s.write.Close())
}

// wrap adds the operation to err and maps driver errors onto the store's
// sentinel errors: a uniqueness violation becomes store.ErrConflict, a
// missing row store.ErrNotFound, and a database still locked after
// busyTimeout (SQLITE_BUSY, SQLITE_LOCKED) store.ErrUnavailable.
func wrap(op string, err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("sqlite: %s: %w", op, store.ErrNotFound)
	}
	var e *sqlite.Error
	if errors.As(err, &e) {
		switch e.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return fmt.Errorf("sqlite: %s: %w: %w", op, store.ErrConflict, err)
		}
		switch e.Code() & 0xff { // the primary code of an extended one
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
			return fmt.Errorf("sqlite: %s: %w: %w", op, store.ErrUnavailable, err)
		}
	}
	return fmt.Errorf("sqlite: %s: %w", op, err)
}

// toDB converts a time to its stored form, microseconds since the Unix epoch.
func toDB(t time.Time) int64 { return t.UnixMicro() }

// fromDB converts a stored time back, in UTC.
func fromDB(us int64) time.Time { return time.UnixMicro(us).UTC() }

// toDBNull converts an optional time to its stored form (NULL when nil).
func toDBNull(t *time.Time) any {
	if t == nil {
		return nil
	}
	return toDB(*t)
}

// fromDBNull converts an optional stored time back.
func fromDBNull(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := fromDB(v.Int64)
	return &t
}

// mustAffect returns a store.ErrNotFound error when res changed no row.
func mustAffect(op string, res sql.Result) error {
	n, err := res.RowsAffected()
	if err != nil {
		return wrap(op, err)
	}
	if n == 0 {
		return fmt.Errorf("sqlite: %s: %w", op, store.ErrNotFound)
	}
	return nil
}
