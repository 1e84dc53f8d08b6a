package ratelimit

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeClock is a settable clock for tests.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *fakeClock {
	return &fakeClock{t: time.Date(2026, 11, 26, 23, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// at returns the duration for a number of seconds, e.g. at(18.7).
func at(sec float64) time.Duration { return time.Duration(sec * float64(time.Second)) }

type step struct {
	t         time.Duration // since the start
	ok        bool
	retryWant time.Duration
}

func runSteps(t *testing.T, l *Limiter, c *fakeClock, rule Rule, key string, steps []step) {
	t.Helper()
	var elapsed time.Duration
	for _, s := range steps {
		c.Advance(s.t - elapsed)
		elapsed = s.t
		ok, retry := l.Allow(rule, key)
		if ok != s.ok || retry != s.retryWant {
			t.Errorf("t=%v: Allow = %v, %v; want %v, %v", s.t, ok, retry, s.ok, s.retryWant)
		}
	}
}

// TestWireSequence reproduces the sequence observed against Better Auth
// (wire reference §8): 3/10s, allowed at t=0, 4, 8 s; t=12 s → 429 with
// x-retry-after 6; t=18.7 s → allowed.
func TestWireSequence(t *testing.T) {
	c := newClock()
	l := New(c.Now, 100)
	rule := Rule{Max: 3, Window: 10 * time.Second}
	runSteps(t, l, c, rule, "1.2.3.4|/sign-in/email", []step{
		{at(0), true, 0},
		{at(4), true, 0},
		{at(8), true, 0},
		{at(12), false, 6 * time.Second},
		{at(18.7), true, 0},
	})
}

func TestWindowSemantics(t *testing.T) {
	rule := Rule{Max: 3, Window: 10 * time.Second}
	tests := []struct {
		name  string
		steps []step
	}{
		{"burst then immediate retry", []step{
			// Better Auth answered x-retry-after: 10 for an immediate 4th attempt.
			{at(0), true, 0}, {at(0.01), true, 0}, {at(0.02), true, 0},
			{at(0.03), false, 10 * time.Second},
		}},
		{"denied requests do not extend the window", []step{
			{at(0), true, 0}, {at(1), true, 0}, {at(2), true, 0},
			{at(3), false, 9 * time.Second},
			{at(6), false, 6 * time.Second},
			{at(11.5), false, 1 * time.Second}, // 0.5 s left rounds up
			{at(12), true, 0},                  // exactly lastAllowed+window: reset
		}},
		{"allowed requests slide the window", []step{
			// Gaps under the window keep the count growing.
			{at(0), true, 0}, {at(9), true, 0}, {at(18), true, 0},
			{at(27), false, 1 * time.Second},
			{at(28), true, 0},
		}},
		{"reset restarts the count", []step{
			{at(0), true, 0}, {at(1), true, 0}, {at(2), true, 0},
			{at(12), true, 0}, {at(13), true, 0}, {at(14), true, 0},
			{at(15), false, 9 * time.Second},
		}},
		{"fractional retry rounds up", []step{
			{at(0), true, 0}, {at(0), true, 0}, {at(0.9), true, 0},
			{at(1.0), false, 10 * time.Second}, // 9.9 s left
			{at(5.95), false, 5 * time.Second}, // 4.95 s left
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClock()
			runSteps(t, New(c.Now, 100), c, rule, "k", tt.steps)
		})
	}
}

func TestGenericRule(t *testing.T) {
	// Better Auth's generic rule: get-session #101 within 10 s → 429.
	c := newClock()
	l := New(c.Now, 100)
	rule := Rule{Max: 100, Window: 10 * time.Second}
	for i := 1; i <= 100; i++ {
		if ok, _ := l.Allow(rule, "ip|/get-session"); !ok {
			t.Fatalf("request %d denied", i)
		}
	}
	if ok, retry := l.Allow(rule, "ip|/get-session"); ok || retry != 10*time.Second {
		t.Fatalf("request 101 = %v, %v; want denied, 10s", ok, retry)
	}
	// Another path has its own bucket.
	if ok, _ := l.Allow(rule, "ip|/jwks"); !ok {
		t.Fatal("/jwks denied")
	}
}

func TestKeysIndependent(t *testing.T) {
	c := newClock()
	l := New(c.Now, 1000)
	rule := DefaultRule()
	keys := []string{"1.1.1.1|/sign-in/email", "2.2.2.2|/sign-in/email", "1.1.1.1|/sign-up/email", "no-trusted-ip|/sign-in/email"}
	for i, k := range keys {
		for n := 0; n < 3; n++ {
			if ok, _ := l.Allow(rule, k); !ok {
				t.Fatalf("%s: request %d denied", k, n+1)
			}
		}
		if ok, _ := l.Allow(rule, k); ok {
			t.Fatalf("%s: 4th request allowed", k)
		}
		// Exhausting k left the later keys untouched.
		for _, other := range keys[i+1:] {
			l.mustFresh(t, other)
		}
		c.Advance(time.Second)
	}
}

// mustFresh fails unless key has no request state.
func (l *Limiter) mustFresh(t *testing.T, key string) {
	t.Helper()
	s := l.shard(key)
	s.mu.Lock()
	_, found := s.reqs[key]
	s.mu.Unlock()
	if found {
		t.Fatalf("%s has state", key)
	}
}

func TestInvalidRuleDenies(t *testing.T) {
	l := New(nil, 10)
	for _, r := range []Rule{{}, {Max: 0, Window: time.Second}, {Max: 3, Window: 0}, {Max: 3, Window: -time.Second}, {Max: 3, Window: 25 * time.Hour}} {
		if ok, retry := l.Allow(r, "k"); ok || retry <= 0 {
			t.Errorf("Allow(%+v) = %v, %v; want denied", r, ok, retry)
		}
		if b, _ := l.Fail(r, "k"); !b {
			t.Errorf("Fail(%+v) not blocked", r)
		}
		if b, _ := l.Blocked(r, "k"); !b {
			t.Errorf("Blocked(%+v) not blocked", r)
		}
	}
	if n := l.Len(); n != 0 {
		t.Errorf("invalid rules stored %d entries", n)
	}
}

// TestMemoryBound checks that a full store admits every new key by
// evicting an idle one, never grows past maxKeys, and keeps a key that
// blocks over idle ones: a flood of new keys cannot lock out the clients
// that come after it, nor free a blocked client.
func TestMemoryBound(t *testing.T) {
	for _, maxKeys := range []int{1, 64, 1000, 5000} {
		t.Run(strconv.Itoa(maxKeys), func(t *testing.T) {
			c := newClock()
			l := New(c.Now, maxKeys)
			rule := Rule{Max: 5, Window: 10 * time.Second}
			blocked := "blocked-client"
			for range rule.Max {
				l.Allow(rule, blocked)
			}
			for i := 0; i < 3*maxKeys+100; i++ {
				if ok, retry := l.Allow(rule, fmt.Sprintf("key-%d", i)); !ok {
					t.Fatalf("new key %d refused (retry %v) on a full store", i, retry)
				}
				if n := l.Len(); n > maxKeys {
					t.Fatalf("after %d keys: Len = %d > %d", i+1, n, maxKeys)
				}
			}
			if maxKeys > 1 {
				if ok, _ := l.Allow(rule, blocked); ok {
					t.Error("the flood freed a blocked client")
				}
			}
		})
	}
}

// TestKeysAreBounded checks that a long key takes at most MaxKeyBytes in
// the store and still counts as itself, apart from keys sharing its prefix.
func TestKeysAreBounded(t *testing.T) {
	l := New(newClock().Now, 100)
	rule := Rule{Max: 1, Window: time.Minute}
	long := strings.Repeat("/a", 15_000)
	if ok, _ := l.Allow(rule, long); !ok {
		t.Fatal("first request of a long key denied")
	}
	if ok, _ := l.Allow(rule, long); ok {
		t.Fatal("a long key is not counted as itself")
	}
	if ok, _ := l.Allow(rule, long+"b"); !ok {
		t.Fatal("another long key with the same prefix shares its count")
	}
	for i := range l.shards {
		for k := range l.shards[i].reqs {
			if len(k) > MaxKeyBytes {
				t.Errorf("a key of %d bytes is stored", len(k))
			}
		}
	}
}

// TestPeriodicSweep checks that expired entries are dropped without the
// store ever filling up.
func TestPeriodicSweep(t *testing.T) {
	c := newClock()
	l := New(c.Now, 1_000_000)
	rule := Rule{Max: 1, Window: time.Second}
	const calls = 300_000
	for i := 0; i < calls; i++ {
		l.Allow(rule, "k"+strconv.Itoa(i))
		c.Advance(time.Millisecond)
	}
	// Entries live one second, i.e. 1000 calls, and each shard sweeps every
	// max(1024, shard size) of its calls, so no shard can hold more than
	// 1024 entries at the end. Without sweeping Len would be 300,000.
	if n, bound := l.Len(), len(l.shards)*sweepEvery; n > bound {
		t.Fatalf("Len = %d > %d: expired entries are not swept", n, bound)
	}
}

func TestLockout(t *testing.T) {
	c := newClock()
	l := New(c.Now, 100)
	rule := Rule{Max: 10, Window: 15 * time.Minute}
	const acct = "user:5OS9QW0pdp3j5A541nSfFNDi0nlYAlb2"

	if b, _ := l.Blocked(rule, acct); b {
		t.Fatal("untracked account blocked")
	}
	if l.Len() != 0 {
		t.Fatal("Blocked created an entry")
	}
	// Nine failures over 9 minutes: not blocked.
	for i := 1; i < 10; i++ {
		if b, _ := l.Fail(rule, acct); b {
			t.Fatalf("blocked after %d failures", i)
		}
		c.Advance(time.Minute)
	}
	// The tenth, at t=9m, blocks for the rest of the window (6 minutes).
	if b, retry := l.Fail(rule, acct); !b || retry != 6*time.Minute {
		t.Fatalf("10th failure = %v, %v; want blocked, 6m", b, retry)
	}
	c.Advance(5*time.Minute + 30*time.Second)
	if b, retry := l.Blocked(rule, acct); !b || retry != 30*time.Second {
		t.Fatalf("Blocked at 14m30s = %v, %v; want true, 30s", b, retry)
	}
	// More failures while blocked do not extend the block.
	if b, retry := l.Fail(rule, acct); !b || retry != 30*time.Second {
		t.Fatalf("Fail while blocked = %v, %v; want true, 30s", b, retry)
	}
	c.Advance(30 * time.Second)
	if b, _ := l.Blocked(rule, acct); b {
		t.Fatal("still blocked after the window")
	}
	// A new window starts with the next failure.
	if b, _ := l.Fail(rule, acct); b {
		t.Fatal("first failure of a new window blocked")
	}

	// Other accounts are unaffected, and Reset clears only the failures.
	if b, _ := l.Blocked(rule, "user:other"); b {
		t.Fatal("other account blocked")
	}
	if ok, _ := l.Allow(DefaultRule(), acct); !ok {
		t.Fatal("Allow denied")
	}
	l.Reset(acct)
	for i := 1; i < 10; i++ {
		if b, _ := l.Fail(rule, acct); b {
			t.Fatalf("blocked after Reset and %d failures", i)
		}
	}
	l.mustTrackedRequest(t, acct)
}

// mustTrackedRequest fails unless key has request state.
func (l *Limiter) mustTrackedRequest(t *testing.T, key string) {
	t.Helper()
	s := l.shard(key)
	s.mu.Lock()
	_, found := s.reqs[key]
	s.mu.Unlock()
	if !found {
		t.Fatalf("Reset removed the request state of %s", key)
	}
}

func TestLockoutFixedWindow(t *testing.T) {
	rule := Rule{Max: 3, Window: 10 * time.Minute}

	// Failures at 0, 4 and 8 min fall in the window [0, 10m): the third
	// blocks for the remaining 2 minutes; at 12 min a new window starts.
	c := newClock()
	l := New(c.Now, 100)
	for i, want := range []bool{false, false, true, false} {
		b, retry := l.Fail(rule, "a")
		if b != want {
			t.Fatalf("failure %d at %v: blocked = %v, want %v", i+1, time.Duration(i)*4*time.Minute, b, want)
		}
		if b && retry != 2*time.Minute {
			t.Fatalf("retry = %v, want 2m", retry)
		}
		c.Advance(4 * time.Minute)
	}

	// One failure every 6 minutes never puts 3 in one window, so it never
	// blocks (a sliding window anchored at the last failure would).
	c = newClock()
	l = New(c.Now, 100)
	for i := 0; i < 20; i++ {
		if b, _ := l.Fail(rule, "b"); b {
			t.Fatalf("failure %d at %v blocked", i+1, time.Duration(i)*6*time.Minute)
		}
		c.Advance(6 * time.Minute)
	}
}

// TestLockoutOnFullStore checks that a full store still records failures,
// evicting an idle request count rather than a lockout.
func TestLockoutOnFullStore(t *testing.T) {
	c := newClock()
	l := New(c.Now, 2)
	rule := Rule{Max: 2, Window: time.Minute}
	l.Allow(DefaultRule(), "x")
	l.Fail(rule, "a")
	if b, _ := l.Fail(rule, "b"); b {
		t.Fatal("a first failure blocked the account")
	}
	if b, _ := l.Fail(rule, "a"); !b {
		t.Fatal("a tracked account's failures were forgotten")
	}
	if b, _ := l.Fail(rule, "b"); !b {
		t.Fatal("the new account's failure was not recorded")
	}
}

func TestConcurrent(t *testing.T) {
	l := New(nil, 10_000)
	rule := Rule{Max: 500, Window: time.Hour}
	var allowed atomic.Int64
	var wg sync.WaitGroup
	for g := 0; g < 16; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				if ok, _ := l.Allow(rule, "shared"); ok {
					allowed.Add(1)
				}
				l.Allow(rule, "g"+strconv.Itoa(g)+"-"+strconv.Itoa(i%50))
				l.Fail(Rule{Max: 5, Window: time.Minute}, "acct"+strconv.Itoa(i%7))
				l.Blocked(Rule{Max: 5, Window: time.Minute}, "acct"+strconv.Itoa(i%7))
				if i%10 == 0 {
					l.Reset("acct" + strconv.Itoa(i%7))
				}
			}
		}()
	}
	wg.Wait()
	if got := allowed.Load(); got != int64(rule.Max) {
		t.Fatalf("allowed %d of 3200 requests on one key, want exactly %d", got, rule.Max)
	}
	if n := l.Len(); n > 1+16*50+7 {
		t.Fatalf("Len = %d", n)
	}
}

func TestShardLayout(t *testing.T) {
	tests := []struct{ maxKeys, shards int }{
		{1, 1}, {100, 1}, {511, 1}, {512, 2}, {DefaultMaxKeys, 64}, {0, 64}, {-5, 64},
	}
	for _, tt := range tests {
		l := New(nil, tt.maxKeys)
		if len(l.shards) != tt.shards {
			t.Errorf("New(%d): %d shards, want %d", tt.maxKeys, len(l.shards), tt.shards)
		}
		want := tt.maxKeys
		if want < 1 {
			want = DefaultMaxKeys
		}
		if total := l.perShard * len(l.shards); total > want || l.perShard < 1 {
			t.Errorf("New(%d): capacity %d×%d", tt.maxKeys, l.perShard, len(l.shards))
		}
	}
}

func TestParseRule(t *testing.T) {
	tests := []struct {
		in   string
		want Rule
		err  bool
	}{
		{"3/10s", Rule{3, 10 * time.Second}, false},
		{"100/1m", Rule{100, time.Minute}, false},
		{"10/15m", Rule{10, 15 * time.Minute}, false},
		{"5/1h30m", Rule{5, 90 * time.Minute}, false},
		{"1/500ms", Rule{1, 500 * time.Millisecond}, false},
		{" 3/10s ", Rule{3, 10 * time.Second}, false},
		{"3/24h", Rule{3, 24 * time.Hour}, false},
		{"0/10s", Rule{}, true},
		{"x", Rule{}, true},
		{"3/0s", Rule{}, true},
		{"", Rule{}, true},
		{"/10s", Rule{}, true},
		{"3/", Rule{}, true},
		{"3/10", Rule{}, true},
		{"-1/10s", Rule{}, true},
		{"+3/10s", Rule{}, true},
		{"3.5/10s", Rule{}, true},
		{"3/-10s", Rule{}, true},
		{"3/10s/5", Rule{}, true},
		{"3 /10s", Rule{}, true},
		{"3/25h", Rule{}, true},
		{"99999999999999999999/10s", Rule{}, true},
		{"2000000000/10s", Rule{}, true},
		{"off", Rule{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseRule(tt.in)
			if tt.err {
				if err == nil || !errors.Is(err, ErrInvalidRule) {
					t.Fatalf("ParseRule(%q) = %v, %v; want ErrInvalidRule", tt.in, got, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseRule(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
			}
			back, err := ParseRule(got.String())
			if err != nil || back != got {
				t.Fatalf("round trip via %q = %v, %v", got.String(), back, err)
			}
		})
	}
}

func TestParseSetting(t *testing.T) {
	tests := []struct {
		in      string
		want    Rule
		enabled bool
		err     bool
	}{
		{"", Rule{3, 10 * time.Second}, true, false},
		{"  ", Rule{3, 10 * time.Second}, true, false},
		{"off", Rule{}, false, false},
		{"OFF", Rule{}, false, false},
		{"100/1m", Rule{100, time.Minute}, true, false},
		{"0/10s", Rule{}, false, true},
		{"on", Rule{}, false, true},
	}
	for _, tt := range tests {
		got, enabled, err := ParseSetting(tt.in)
		if (err != nil) != tt.err || got != tt.want || enabled != tt.enabled {
			t.Errorf("ParseSetting(%q) = %v, %v, %v; want %v, %v, err=%v", tt.in, got, enabled, err, tt.want, tt.enabled, tt.err)
		}
	}
}

func TestRuleString(t *testing.T) {
	if s := DefaultRule().String(); s != "3/10s" {
		t.Errorf("DefaultRule().String() = %q", s)
	}
}
