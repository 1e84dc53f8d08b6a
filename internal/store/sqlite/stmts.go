package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"strings"
	"sync"
)

// stmts keeps the prepared form of each query run through it on one pool.
// The driver parses SQL anew for every unprepared query; kept statements are
// only reset between uses. On a loaded server parsing took an eighth of all
// CPU (docs/benchmarks.md, "Load"), so the hot queries go through here.
type stmts struct {
	db *sql.DB
	mu sync.Mutex
	m  map[string]*sql.Stmt
}

func newStmts(db *sql.DB) *stmts { return &stmts{db: db, m: make(map[string]*sql.Stmt)} }

// get returns query prepared on the pool. It may wait for a connection, so
// callers inside a transaction of the same pool must get their statements
// before they begin it (a pool of one connection would wait for ever).
func (c *stmts) get(ctx context.Context, query string) (*sql.Stmt, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if st, ok := c.m[query]; ok {
		return st, nil
	}
	st, err := c.db.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	c.m[query] = st
	return st, nil
}

// close closes every kept statement.
func (c *stmts) close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var errs []error
	for q, st := range c.m {
		errs = append(errs, st.Close())
		delete(c.m, q)
	}
	return errors.Join(errs...)
}

// errRow is a row whose Scan reports the error that kept it from being read.
type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }

// row runs a one-row query through its kept statement.
func (c *stmts) row(ctx context.Context, query string, args ...any) scanner {
	st, err := c.get(ctx, query)
	if err != nil {
		return errRow{err}
	}
	return st.QueryRowContext(ctx, args...)
}

// rows runs a query through its kept statement.
func (c *stmts) rows(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	st, err := c.get(ctx, query)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(ctx, args...)
}

// writeTx begins a write transaction and gives it the kept statements of
// queries, in order, prepared before the transaction takes the connection.
func (s *Store) writeTx(ctx context.Context, queries ...string) (*sql.Tx, []*sql.Stmt, error) {
	prepared := make([]*sql.Stmt, len(queries))
	for i, q := range queries {
		st, err := s.writeStmts.get(ctx, q)
		if err != nil {
			return nil, nil, err
		}
		prepared[i] = st
	}
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return nil, nil, err
	}
	for i, st := range prepared {
		prepared[i] = tx.StmtContext(ctx, st)
	}
	return tx, prepared, nil
}

// limited gives query, which ends in "LIMIT ?", its limit. SQLite's planner
// reads a bound LIMIT value, so a kept statement whose LIMIT is bound to a
// new value is prepared all over again at its next step. Page sizes up to
// maxLiteralLimit are therefore written into the text, each its own kept
// statement; a larger limit, which no caller of the API makes, stays bound.
func limited(query string, limit int, args ...any) (string, []any) {
	if limit <= maxLiteralLimit {
		return strings.TrimSuffix(query, "?") + strconv.Itoa(limit), args
	}
	return query, append(args, limit)
}

// maxLiteralLimit bounds the kept statements per paged query; the API's
// pages hold at most 100 items (101 with the look-ahead row).
const maxLiteralLimit = 128
