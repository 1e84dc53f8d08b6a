package postgres

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lectern/lectern/internal/ratelimit"
	"github.com/lectern/lectern/internal/store/pgtest"
)

// TestLimits holds the shared counts to the in-process limiter's
// semantics, and to one count when many callers hit a key at once.
func TestLimits(t *testing.T) {
	s := open(t, pgtest.NewDatabase(t))
	if _, err := s.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	l := s.Limits()
	t0 := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	rule := ratelimit.Rule{Max: 3, Window: 10 * time.Second}

	t.Run("Better Auth's window: allowed at 0, 4 and 8 s, refused at 12 s for 6 s, allowed at 18 s", func(t *testing.T) {
		for _, step := range []struct {
			at    time.Duration
			ok    bool
			retry time.Duration
		}{{0, true, 0}, {4 * time.Second, true, 0}, {8 * time.Second, true, 0}, {12 * time.Second, false, 6 * time.Second}, {18 * time.Second, true, 0}} {
			ok, retry, err := l.Allow(t.Context(), "r|a", rule, t0.Add(step.at))
			if err != nil || ok != step.ok || retry != step.retry {
				t.Errorf("at %v: %v, %v, %v; want %v, %v", step.at, ok, retry, err, step.ok, step.retry)
			}
		}
	})

	t.Run("failures block for the rest of the window from the first, and reset", func(t *testing.T) {
		fail := ratelimit.Rule{Max: 2, Window: time.Minute}
		for i, want := range []bool{false, true, true} {
			blocked, _, err := l.Fail(t.Context(), "f|b", fail, t0.Add(time.Duration(i)*10*time.Second))
			if err != nil || blocked != want {
				t.Errorf("failure %d: blocked %v, %v; want %v", i+1, blocked, err, want)
			}
		}
		if blocked, retry, err := l.Blocked(t.Context(), "f|b", fail, t0.Add(30*time.Second)); err != nil || !blocked || retry != 30*time.Second {
			t.Errorf("Blocked at 30 s: %v, %v, %v; want blocked for 30 s", blocked, retry, err)
		}
		if blocked, _, err := l.Blocked(t.Context(), "f|b", fail, t0.Add(time.Minute)); err != nil || blocked {
			t.Errorf("Blocked once the window ended: %v, %v", blocked, err)
		}
		l.Fail(t.Context(), "f|c", fail, t0)
		l.Fail(t.Context(), "f|c", fail, t0)
		if err := l.Reset(t.Context(), "f|c"); err != nil {
			t.Fatal(err)
		}
		if blocked, _, err := l.Blocked(t.Context(), "f|c", fail, t0); err != nil || blocked {
			t.Errorf("Blocked after Reset: %v, %v", blocked, err)
		}
	})

	t.Run("many callers at once are each counted", func(t *testing.T) {
		var allowed atomic.Int32
		var wg sync.WaitGroup
		for range 20 {
			wg.Go(func() {
				ok, _, err := l.Allow(t.Context(), "r|burst", ratelimit.Rule{Max: 5, Window: time.Minute}, t0)
				if err != nil {
					t.Error(err)
				}
				if ok {
					allowed.Add(1)
				}
			})
		}
		wg.Wait()
		if n := allowed.Load(); n != 5 {
			t.Errorf("%d of 20 allowed at once, want 5", n)
		}
	})

	t.Run("answer slots: at most max at once, given back, and freed when their replica is gone", func(t *testing.T) {
		var taken atomic.Int32
		var wg sync.WaitGroup
		for i := range 10 {
			wg.Go(func() {
				ok, err := l.AcquireSlot(t.Context(), fmt.Sprint("s", i), 3, t0, t0.Add(time.Minute))
				if err != nil {
					t.Error(err)
				}
				if ok {
					taken.Add(1)
				}
			})
		}
		wg.Wait()
		if n := taken.Load(); n != 3 {
			t.Fatalf("%d of 10 slots taken at once, want 3", n)
		}
		var ids []string
		rows, _ := s.pool.Query(t.Context(), `SELECT id FROM answer_slots`)
		for rows.Next() {
			var id string
			rows.Scan(&id)
			ids = append(ids, id)
		}
		if err := l.ReleaseSlot(t.Context(), ids[0]); err != nil {
			t.Fatal(err)
		}
		if ok, err := l.AcquireSlot(t.Context(), "after-release", 3, t0, t0.Add(time.Minute)); err != nil || !ok {
			t.Errorf("a released slot is not free: %v, %v", ok, err)
		}
		if ok, _ := l.AcquireSlot(t.Context(), "full", 3, t0, t0.Add(time.Minute)); ok {
			t.Error("a fourth slot was taken")
		}
		if ok, err := l.AcquireSlot(t.Context(), "later", 3, t0.Add(2*time.Minute), t0.Add(3*time.Minute)); err != nil || !ok {
			t.Errorf("slots past their expiry still count: %v, %v", ok, err)
		}
		if n, err := l.DeleteExpired(t.Context(), t0.Add(2*time.Minute)); err != nil || n < 3 {
			t.Errorf("DeleteExpired = %d, %v; want the expired slots and counts gone", n, err)
		}
	})
}
