// Package postgres implements store.Store on PostgreSQL through a pgx
// connection pool.
//
// Ids are text, times timestamptz (microsecond precision; returned in UTC),
// flags boolean and binary values bytea.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/lectern/lectern/internal/store"
)

const (
	// defaultMaxConns caps the pool when the URL sets no pool_max_conns.
	// Measured with lectern loadtest (docs/benchmarks.md, "Load"), 100
	// readers on 2 cores shared with PostgreSQL: 5, 10 and 20 connections
	// gave the same throughput, 40 lost 5% and raised p99 by 45%; more
	// connections than PostgreSQL can run at once only move the queue into
	// PostgreSQL. Ten suits a server of a few cores, and leaves room for
	// several replicas under PostgreSQL's default max_connections of 100.
	defaultMaxConns = 10
	// defaultConnectTimeout bounds each connection attempt when the URL sets
	// no connect_timeout, so that while the server is unreachable start-up
	// fails promptly and requests fail fast (store.ErrUnavailable) instead
	// of queueing behind connection attempts.
	defaultConnectTimeout = 3 * time.Second
	// uniqueViolation is the SQLSTATE of a unique or primary-key violation.
	uniqueViolation = "23505"
)

// Store is a store.Store backed by a PostgreSQL database. It is safe for
// concurrent use.
type Store struct {
	pool *pgxpool.Pool
}

var _ store.Store = (*Store)(nil)

// Open connects to the PostgreSQL database at url (postgres://… or a
// key=value connection string) and pings it. Pool settings in the URL
// (pool_max_conns, connect_timeout, …) win over the defaults of 10
// connections and a 3-second connect timeout. Call Migrate before use.
//
// While the server is down, every operation fails at once (or after the
// connect timeout) with an error wrapping store.ErrUnavailable, and the pool
// reconnects by itself once the server is back.
func Open(ctx context.Context, url string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// pgconn's parse errors already redact the password.
		return nil, fmt.Errorf("postgres: parse url: %w", err)
	}
	// pgxpool's own default depends on the CPU count; check whether the URL
	// asked for a size by reparsing it without the pool layer, which leaves
	// pool_max_conns among the runtime parameters.
	if conn, err := pgx.ParseConfig(url); err == nil {
		if _, set := conn.RuntimeParams["pool_max_conns"]; !set {
			cfg.MaxConns = defaultMaxConns
		}
	}
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = defaultConnectTimeout
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	s := &Store{pool: pool}
	if err := s.Ping(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	return s, nil
}

// Pool returns the underlying connection pool, for statistics and for code
// that shares the database.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// Ping reports whether the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.pool.Ping(ctx); err != nil {
		return wrap("ping", err)
	}
	return nil
}

// Close closes every connection in the pool, waiting for those in use to be
// released. It always returns nil.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}

// wrap adds the operation to err and maps driver errors onto the store's
// sentinel errors: a unique violation becomes store.ErrConflict, no rows
// store.ErrNotFound, and a failure to reach the server store.ErrUnavailable.
func wrap(op string, err error) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("postgres: %s: %w", op, store.ErrNotFound)
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == uniqueViolation {
		return fmt.Errorf("postgres: %s: %w: %w", op, store.ErrConflict, err)
	}
	if unavailable(err) {
		return fmt.Errorf("postgres: %s: %w: %w", op, store.ErrUnavailable, err)
	}
	return fmt.Errorf("postgres: %s: %w", op, err)
}

// unavailable reports whether err means the server could not be reached or
// could not serve now, rather than that the statement failed: a failed
// connection attempt (refused, timed out, the server starting or shutting
// down), a connection dropped mid-way (EOF, reset, closed), SQLSTATE class
// 08 (connection exception), 57P01-57P03 (shutdown, crash, cannot connect
// now) and 53300 (too many connections), or a deadline that ran out waiting
// for the server. A cancelled context is the caller's doing, not the
// server's, and is not counted.
func unavailable(err error) bool {
	if errors.Is(err, context.Canceled) {
		return false
	}
	var connectErr *pgconn.ConnectError
	if errors.As(err, &connectErr) {
		return true
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case "57P01", "57P02", "57P03", "53300":
			return true
		}
		return strings.HasPrefix(pgErr.Code, "08")
	}
	var netErr net.Error
	return errors.As(err, &netErr) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, pgconn.ErrConnClosed) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, context.DeadlineExceeded) || pgconn.Timeout(err)
}

// mustAffect returns a store.ErrNotFound error when tag reports no changed
// row.
func mustAffect(op string, tag pgconn.CommandTag) error {
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("postgres: %s: %w", op, store.ErrNotFound)
	}
	return nil
}

// utc returns an optional time in UTC (pgx returns local times).
func utc(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}
