package ratelimit

import (
	"context"
	"time"
)

// Counts keeps the counts of a Shared limiter where every replica of a
// deployment sees them (the database they share), with the semantics of
// Limiter's Allow, Fail, Blocked and Reset, each one atomic. Times are the
// caller's.
type Counts interface {
	Allow(ctx context.Context, key string, rule Rule, now time.Time) (ok bool, retryAfter time.Duration, err error)
	Fail(ctx context.Context, key string, rule Rule, now time.Time) (blocked bool, retryAfter time.Duration, err error)
	Blocked(ctx context.Context, key string, rule Rule, now time.Time) (blocked bool, retryAfter time.Duration, err error)
	Reset(ctx context.Context, key string) error
}

// Shared is a limiter whose counts every replica shares, so that N
// replicas behind a load balancer allow what one would, and a client
// gains nothing by reaching another. Its counts live in Counts; without
// Counts (nil: one process, or sharing turned off) it is its in-process
// Limiter.
//
// When Counts fails (the database is unreachable), the call is answered by
// the in-process Limiter instead: the limits hold per replica, as they
// would without sharing, rather than failing open (no limit at all) or
// closed (refusing every sign-in while the database is away, which the
// sign-in would fail on anyway). OnError is told of each such fallback,
// for the metric.
type Shared struct {
	counts  Counts
	local   *Limiter
	now     func() time.Time
	onError func(error)
}

// NewShared returns a Shared limiter over counts (nil: local only), with
// local as its fallback. onError may be nil.
func NewShared(counts Counts, local *Limiter, onError func(error)) *Shared {
	if onError == nil {
		onError = func(error) {}
	}
	return &Shared{counts: counts, local: local, now: local.now, onError: onError}
}

// Allow is Limiter.Allow across replicas.
func (s *Shared) Allow(ctx context.Context, rule Rule, key string) (ok bool, retryAfter time.Duration) {
	if s.counts != nil && rule.Validate() == nil {
		ok, retry, err := s.counts.Allow(ctx, "r|"+boundKey(key), rule, s.now())
		if err == nil {
			return ok, retry
		}
		s.onError(err)
	}
	return s.local.Allow(rule, key)
}

// Fail is Limiter.Fail across replicas.
func (s *Shared) Fail(ctx context.Context, rule Rule, key string) (blocked bool, retryAfter time.Duration) {
	if s.counts != nil && rule.Validate() == nil {
		blocked, retry, err := s.counts.Fail(ctx, "f|"+boundKey(key), rule, s.now())
		if err == nil {
			return blocked, retry
		}
		s.onError(err)
	}
	return s.local.Fail(rule, key)
}

// Blocked is Limiter.Blocked across replicas.
func (s *Shared) Blocked(ctx context.Context, rule Rule, key string) (blocked bool, retryAfter time.Duration) {
	if s.counts != nil && rule.Validate() == nil {
		blocked, retry, err := s.counts.Blocked(ctx, "f|"+boundKey(key), rule, s.now())
		if err == nil {
			return blocked, retry
		}
		s.onError(err)
	}
	return s.local.Blocked(rule, key)
}

// Reset is Limiter.Reset across replicas. The in-process count is reset
// too, in case it answered while the shared one was unreachable.
func (s *Shared) Reset(ctx context.Context, key string) {
	if s.counts != nil {
		if err := s.counts.Reset(ctx, "f|"+boundKey(key)); err != nil {
			s.onError(err)
		}
	}
	s.local.Reset(key)
}

// RetryAfter rounds what is left of a window to whole seconds, as Limiter
// reports it; for implementations of Counts.
func RetryAfter(left time.Duration) time.Duration { return ceilSeconds(int64(left)) }
