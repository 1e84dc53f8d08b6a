// Package ratelimit is an in-memory, bounded rate limiter with Better Auth's
// window semantics, plus a per-account failure counter for sign-in lockout.
//
// # Request limiting (Allow)
//
// Each key (Better Auth uses "<ip>|<path>") has a count and the time of its
// last allowed request. A request is allowed when fewer than Rule.Max requests
// have been allowed since the counter last reset; the counter resets once
// now − lastAllowed ≥ Rule.Window. Every allowed request moves lastAllowed
// forward; denied requests change nothing, so hammering does not extend the
// wait. A denied request gets retryAfter = ceil(lastAllowed + Window − now)
// in whole seconds, the value of Better Auth's X-Retry-After header. With
// 3/10s: allowed at t=0, 4, 8 s; denied at t=12 s with retry 6 s; allowed
// again at t=18 s.
//
// # Lockout (Fail, Blocked, Reset)
//
// Failed sign-ins are counted per account in a fixed window that starts at the
// first failure: once Rule.Max failures fall within Rule.Window of it, the
// account is blocked until that window ends. A successful sign-in should call
// Reset. Unlike Allow's window this one does not slide, so a user who mistypes
// now and then is never locked out by failures spread over hours, and a block
// always ends at a predictable time.
//
// # Memory bound
//
// A Limiter holds at most maxKeys entries (request keys and account keys
// together), each key at most MaxKeyBytes (a longer key is kept as a prefix
// and a hash of the whole). Entries whose window has passed carry no state
// and are swept periodically and whenever a full store needs room. When the
// store is still full of live entries, a new key evicts an idle one: of a
// few entries taken at random, the one least recently used, preferring
// request counts over sign-in failures and entries that block nothing over
// ones that block. A flood of new keys therefore never locks out the
// clients that come after it (the opposite choice, refusing new keys, let
// one flooding client lock out everyone); what a flood can do is make the
// limiter forget some idle clients' counts early. Callers keep that cheap
// by giving each purpose its own Limiter and by building keys from what
// a client cannot mint freely (its address, the route's pattern). The
// bound is kept per shard (maxKeys divided evenly over up to 64 shards of
// at least 256 entries).
//
// A Limiter is safe for concurrent use. Keys are spread over mutex-guarded
// shards by a randomly seeded hash, so an attacker cannot aim at one shard.
package ratelimit

import (
	"crypto/sha256"
	"encoding/hex"
	"hash/maphash"
	"math"
	"sync"
	"time"
)

// MaxKeyBytes bounds the bytes a key takes in the store: a longer key is
// kept as its first bytes and a hash of the whole, so that a client sending
// long paths or headers cannot grow the store's memory with them.
const MaxKeyBytes = 128

// boundKey returns key, or for a key longer than MaxKeyBytes its prefix and
// a hash of it, MaxKeyBytes long.
func boundKey(key string) string {
	if len(key) <= MaxKeyBytes {
		return key
	}
	sum := sha256.Sum256([]byte(key))
	const hashLen = 32 // hex of 16 bytes of the hash
	return key[:MaxKeyBytes-hashLen-1] + "#" + hex.EncodeToString(sum[:hashLen/2])
}

// DefaultMaxKeys is the capacity New uses when maxKeys < 1. At roughly 100
// bytes per entry (key included) it is about 10 MB.
const DefaultMaxKeys = 100_000

const (
	// maxShards caps the shard count; more brings no benefit for a mutex
	// held for ~100 ns.
	maxShards = 64
	// minPerShard keeps shards large enough that uneven hashing does not
	// refuse keys long before the whole store is full; small limiters get
	// a single shard and an exact bound.
	minPerShard = 256
	// evictSample is how many entries a full shard looks at to choose the
	// one to evict.
	evictSample = 8
	// sweepEvery is the minimum number of Allow/Fail calls on a shard
	// between periodic sweeps. The actual interval is at least the number
	// of entries the previous sweep left, so a sweep scans at most twice as
	// many entries as calls since the last one: O(1) amortized per call.
	sweepEvery = 1024
)

// Limiter tracks request counts and sign-in failures per key. Create it with
// New.
type Limiter struct {
	now      func() time.Time
	base     time.Time // times are stored as nanoseconds since base
	seed     maphash.Seed
	shards   []shard
	mask     uint64
	perShard int
}

// shard is one independently locked part of the store.
type shard struct {
	mu    sync.Mutex
	reqs  map[string]entry // Allow state
	fails map[string]entry // Fail state
	// ops counts Allow and Fail calls since the last sweep; the next
	// periodic sweep runs when it reaches sweepAt.
	ops, sweepAt int
	// noneExpireBefore is a lower bound on every entry's expiry: before
	// that time a sweep cannot free anything, so a full shard refuses new
	// keys without scanning. math.MaxInt64 when the shard is empty.
	noneExpireBefore int64
	_                [64]byte // keep neighbouring shards off one cache line
}

// entry is the state of one key. For Allow, start is the time of the last
// allowed request; for Fail, the start of the failure window. Times are
// nanoseconds since Limiter.base.
type entry struct {
	start   int64
	expires int64 // start + window: after this the entry carries no state
	count   int
	max     int // the rule's Max: count ≥ max means the entry blocks
}

// New returns a Limiter that reads the time from now (time.Now when nil; tests
// inject a fake clock) and holds at most maxKeys entries (DefaultMaxKeys when
// maxKeys < 1).
func New(now func() time.Time, maxKeys int) *Limiter {
	if now == nil {
		now = time.Now
	}
	if maxKeys < 1 {
		maxKeys = DefaultMaxKeys
	}
	n := 1
	for n < maxShards && maxKeys/(2*n) >= minPerShard {
		n *= 2
	}
	l := &Limiter{
		now:      now,
		base:     now(),
		seed:     maphash.MakeSeed(),
		shards:   make([]shard, n),
		mask:     uint64(n - 1),
		perShard: maxKeys / n,
	}
	for i := range l.shards {
		l.shards[i].reqs = make(map[string]entry)
		l.shards[i].fails = make(map[string]entry)
		l.shards[i].noneExpireBefore = math.MaxInt64
		l.shards[i].sweepAt = sweepEvery
	}
	return l
}

// Allow records a request for key under rule and reports whether it may
// proceed; when it may not, retryAfter is a whole number of seconds (at least
// one) after which it would. The same key must always be used with the same
// rule; Better Auth's key is "<ip>|<path>", with the rule chosen by path. An
// invalid rule (see Rule.Validate) denies every request.
func (l *Limiter) Allow(rule Rule, key string) (ok bool, retryAfter time.Duration) {
	if rule.Validate() != nil {
		return false, time.Second
	}
	now := l.clock()
	w := int64(rule.Window)
	key = boundKey(key)
	s := l.shard(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tick(now)

	e, found := s.reqs[key]
	if found && now-e.start < w {
		if e.count >= rule.Max {
			return false, ceilSeconds(min(e.start+w-now, w))
		}
		e.count++
	} else {
		if !found {
			s.admit(now, l.perShard)
		}
		e.count = 1
	}
	e.start, e.expires, e.max = now, now+w, rule.Max
	s.reqs[key] = e
	s.noneExpireBefore = min(s.noneExpireBefore, e.expires)
	return true, 0
}

// Fail records a failed sign-in for the account key under rule and reports
// whether the account is now blocked and for how long (whole seconds). The
// failure window starts at the first failure and does not move; failures
// beyond rule.Max in one window are not counted further. An invalid rule
// reports blocked.
func (l *Limiter) Fail(rule Rule, key string) (blocked bool, retryAfter time.Duration) {
	if rule.Validate() != nil {
		return true, time.Second
	}
	now := l.clock()
	w := int64(rule.Window)
	key = boundKey(key)
	s := l.shard(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tick(now)

	e, found := s.fails[key]
	if found && now-e.start < w {
		if e.count < rule.Max {
			e.count++
		}
	} else {
		if !found {
			s.admit(now, l.perShard)
		}
		e = entry{start: now, expires: now + w, count: 1, max: rule.Max}
		s.noneExpireBefore = min(s.noneExpireBefore, e.expires)
	}
	s.fails[key] = e
	if e.count >= rule.Max {
		return true, ceilSeconds(min(e.start+w-now, w))
	}
	return false, 0
}

// Blocked reports whether the account key has reached rule.Max failures in
// its current window, and if so how long until the window ends (whole
// seconds). Check it before verifying a password, and skip the verification
// when blocked so a locked account costs no hashing. It changes nothing; an
// untracked key is not blocked. An invalid rule reports blocked.
func (l *Limiter) Blocked(rule Rule, key string) (blocked bool, retryAfter time.Duration) {
	if rule.Validate() != nil {
		return true, time.Second
	}
	now := l.clock()
	w := int64(rule.Window)
	key = boundKey(key)
	s := l.shard(key)
	s.mu.Lock()
	e, found := s.fails[key]
	s.mu.Unlock()
	if !found || now-e.start >= w || e.count < rule.Max {
		return false, 0
	}
	return true, ceilSeconds(min(e.start+w-now, w))
}

// Reset forgets the failures recorded for the account key, e.g. after a
// successful sign-in. It does not touch request counts kept by Allow.
func (l *Limiter) Reset(key string) {
	key = boundKey(key)
	s := l.shard(key)
	s.mu.Lock()
	delete(s.fails, key)
	s.mu.Unlock()
}

// Len returns the number of entries currently held, expired ones not yet
// swept included. It is meant for metrics and tests.
func (l *Limiter) Len() int {
	n := 0
	for i := range l.shards {
		s := &l.shards[i]
		s.mu.Lock()
		n += len(s.reqs) + len(s.fails)
		s.mu.Unlock()
	}
	return n
}

// clock returns the current time as nanoseconds since l.base. With time.Now
// both readings carry a monotonic clock, so wall-clock jumps do not matter.
func (l *Limiter) clock() int64 { return int64(l.now().Sub(l.base)) }

func (l *Limiter) shard(key string) *shard {
	if l.mask == 0 {
		return &l.shards[0]
	}
	return &l.shards[maphash.String(l.seed, key)&l.mask]
}

// tick counts a call and sweeps the shard once enough calls have passed since
// the last sweep. Called with s.mu held.
func (s *shard) tick(now int64) {
	s.ops++
	if s.ops < s.sweepAt {
		return
	}
	if now < s.noneExpireBefore {
		s.ops = 0 // nothing can have expired yet
		return
	}
	s.sweep(now)
}

// admit makes room for one new key: when the shard is full it sweeps, if
// anything may have expired, and otherwise evicts an idle entry. Called
// with s.mu held.
func (s *shard) admit(now int64, capacity int) {
	if len(s.reqs)+len(s.fails) < capacity {
		return
	}
	if now >= s.noneExpireBefore {
		s.sweep(now)
		if len(s.reqs)+len(s.fails) < capacity {
			return
		}
	}
	s.evict()
}

// evict removes one entry of a full shard: of up to evictSample taken at
// random (Go's map order), from the request counts while there are any,
// the one that blocks nothing and was used least recently, else the one
// used least recently. Called with s.mu held.
func (s *shard) evict() {
	m := s.reqs
	if len(m) == 0 {
		m = s.fails
	}
	var victim string
	var best entry
	n := 0
	for k, e := range m {
		if n == 0 || better(e, best) {
			victim, best = k, e
		}
		if n++; n == evictSample {
			break
		}
	}
	delete(m, victim)
}

// better reports whether a is a better entry to evict than b.
func better(a, b entry) bool {
	aBlocks, bBlocks := a.count >= a.max, b.count >= b.max
	if aBlocks != bBlocks {
		return !aBlocks
	}
	return a.start < b.start
}

// sweep deletes expired entries and recomputes noneExpireBefore. Called with
// s.mu held.
func (s *shard) sweep(now int64) {
	next := int64(math.MaxInt64)
	for _, m := range [2]map[string]entry{s.reqs, s.fails} {
		for k, e := range m {
			if e.expires <= now {
				delete(m, k)
			} else {
				next = min(next, e.expires)
			}
		}
	}
	s.noneExpireBefore = next
	s.ops = 0
	s.sweepAt = max(sweepEvery, len(s.reqs)+len(s.fails))
}

// ceilSeconds rounds a number of nanoseconds up to whole seconds, clamped to
// [1s, MaxWindow].
func ceilSeconds(ns int64) time.Duration {
	const sec = int64(time.Second)
	switch {
	case ns <= sec:
		return time.Second
	case ns >= int64(MaxWindow):
		return MaxWindow
	}
	return time.Duration((ns + sec - 1) / sec * sec)
}
