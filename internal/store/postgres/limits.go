package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/lectern/lectern/internal/ratelimit"
)

// Limits keeps rate-limit counts in the database, for every replica to
// share (ratelimit.Counts). Each call is one statement: the row of a key is
// created, reset or counted atomically, so two replicas counting the same
// key at once count twice, never once.
type Limits struct{ s *Store }

// Limits returns the shared rate-limit counts.
func (s *Store) Limits() *Limits { return &Limits{s} }

var _ ratelimit.Counts = (*Limits)(nil)

// Allow counts a request for key under Better Auth's window: allowed when
// fewer than rule.Max were allowed since the count last reset, which it
// does once rule.Window has passed since the last allowed request; a
// refused request changes nothing.
func (l *Limits) Allow(ctx context.Context, key string, rule ratelimit.Rule, now time.Time) (bool, time.Duration, error) {
	t, w := now.UnixMicro(), rule.Window.Microseconds()
	var n int
	err := l.s.pool.QueryRow(ctx,
		`INSERT INTO rate_limits AS r (key, start_us, count, expires_us) VALUES ($1, $2::bigint, 1, $2::bigint + $3::bigint)
		 ON CONFLICT (key) DO UPDATE SET
		   count = CASE WHEN $2::bigint - r.start_us >= $3::bigint THEN 1 ELSE r.count + 1 END,
		   start_us = $2::bigint, expires_us = $2::bigint + $3::bigint
		 WHERE $2::bigint - r.start_us >= $3::bigint OR r.count < $4::integer
		 RETURNING count`, key, t, w, rule.Max).Scan(&n)
	if err == nil {
		return true, 0, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return false, 0, wrap("rate limit", err)
	}
	var start int64
	if err := l.s.pool.QueryRow(ctx, `SELECT start_us FROM rate_limits WHERE key = $1`, key).Scan(&start); err != nil {
		return false, 0, wrap("rate limit", err)
	}
	return false, ratelimit.RetryAfter(min(time.Duration(start+w-t)*time.Microsecond, rule.Window)), nil
}

// Fail counts a failed sign-in for key in a window that starts at the
// first failure and does not move, up to rule.Max.
func (l *Limits) Fail(ctx context.Context, key string, rule ratelimit.Rule, now time.Time) (bool, time.Duration, error) {
	t, w := now.UnixMicro(), rule.Window.Microseconds()
	var n int
	var start int64
	err := l.s.pool.QueryRow(ctx,
		`INSERT INTO rate_limits AS r (key, start_us, count, expires_us) VALUES ($1, $2::bigint, 1, $2::bigint + $3::bigint)
		 ON CONFLICT (key) DO UPDATE SET
		   count = CASE WHEN $2::bigint - r.start_us >= $3::bigint THEN 1 ELSE least(r.count + 1, $4::integer) END,
		   start_us = CASE WHEN $2::bigint - r.start_us >= $3::bigint THEN $2::bigint ELSE r.start_us END,
		   expires_us = CASE WHEN $2::bigint - r.start_us >= $3::bigint THEN $2::bigint + $3::bigint ELSE r.expires_us END
		 RETURNING count, start_us`, key, t, w, rule.Max).Scan(&n, &start)
	if err != nil {
		return false, 0, wrap("sign-in failures", err)
	}
	if n < rule.Max {
		return false, 0, nil
	}
	return true, ratelimit.RetryAfter(min(time.Duration(start+w-t)*time.Microsecond, rule.Window)), nil
}

// Blocked reports whether key has rule.Max failures in its window.
func (l *Limits) Blocked(ctx context.Context, key string, rule ratelimit.Rule, now time.Time) (bool, time.Duration, error) {
	t, w := now.UnixMicro(), rule.Window.Microseconds()
	var n int
	var start int64
	err := l.s.pool.QueryRow(ctx, `SELECT count, start_us FROM rate_limits WHERE key = $1`, key).Scan(&n, &start)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, 0, nil
	}
	if err != nil {
		return false, 0, wrap("sign-in failures", err)
	}
	if t-start >= w || n < rule.Max {
		return false, 0, nil
	}
	return true, ratelimit.RetryAfter(min(time.Duration(start+w-t)*time.Microsecond, rule.Window)), nil
}

// Reset forgets key's failures.
func (l *Limits) Reset(ctx context.Context, key string) error {
	if _, err := l.s.pool.Exec(ctx, `DELETE FROM rate_limits WHERE key = $1`, key); err != nil {
		return wrap("reset sign-in failures", err)
	}
	return nil
}

// DeleteExpired removes the counts that no longer carry state at now, and
// the answer slots whose replica did not give them back; it returns how
// many rows it removed.
func (l *Limits) DeleteExpired(ctx context.Context, now time.Time) (int64, error) {
	a, err := l.s.pool.Exec(ctx, `DELETE FROM rate_limits WHERE expires_us < $1`, now.UnixMicro())
	if err != nil {
		return 0, wrap("delete expired rate limits", err)
	}
	b, err := l.s.pool.Exec(ctx, `DELETE FROM answer_slots WHERE expires_us < $1`, now.UnixMicro())
	if err != nil {
		return a.RowsAffected(), wrap("delete expired answer slots", err)
	}
	return a.RowsAffected() + b.RowsAffected(), nil
}

// AcquireSlot takes one of max places for an answer being written, named
// id, until it is released or until expires (when its replica died); it
// reports false when all are taken. Places are numbered: one statement
// picks a free or expired number at random and claims it, and the primary
// key makes two replicas claiming the same number at once take it once.
// The loser tries again, a few times, while there are free places.
func (l *Limits) AcquireSlot(ctx context.Context, id string, max int, now, expires time.Time) (bool, error) {
	for range 4 {
		var free, claimed bool
		err := l.s.pool.QueryRow(ctx,
			`WITH free AS (
			   SELECT n FROM generate_series(0, $4::integer - 1) n
			   WHERE NOT EXISTS (SELECT 1 FROM answer_slots b WHERE b.slot = n AND b.expires_us >= $2::bigint)
			   ORDER BY random() LIMIT 1
			 ), claimed AS (
			   INSERT INTO answer_slots AS a (slot, id, expires_us) SELECT n, $1, $3::bigint FROM free
			   ON CONFLICT (slot) DO UPDATE SET id = EXCLUDED.id, expires_us = EXCLUDED.expires_us
			   WHERE a.expires_us < $2::bigint
			   RETURNING slot
			 )
			 SELECT EXISTS (SELECT 1 FROM free), EXISTS (SELECT 1 FROM claimed)`,
			id, now.UnixMicro(), expires.UnixMicro(), max).Scan(&free, &claimed)
		if err != nil {
			return false, wrap("answer slot", err)
		}
		if claimed || !free {
			return claimed, nil
		}
	}
	return false, nil
}

// ReleaseSlot gives the place id back.
func (l *Limits) ReleaseSlot(ctx context.Context, id string) error {
	if _, err := l.s.pool.Exec(ctx, `DELETE FROM answer_slots WHERE id = $1`, id); err != nil {
		return wrap("release answer slot", err)
	}
	return nil
}
