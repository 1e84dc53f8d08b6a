package identity_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lectern/lectern/internal/ratelimit"
	"github.com/lectern/lectern/internal/store/postgres"
)

// TestSharedLimits runs two identity servers on one PostgreSQL database, as
// two replicas behind a load balancer: with the shared counts, a client
// that alternates between them is limited as by one; without them, each
// counts alone; when the shared counts fail, each replica still limits on
// its own and says so.
func TestSharedLimits(t *testing.T) {
	var pg *postgres.Store
	for _, e := range engines() {
		if e.Name == "postgres" {
			pg, _ = e.Open(t).(*postgres.Store)
		}
	}
	if pg == nil {
		t.Fatal("the shared limits need the PostgreSQL engine")
	}
	// replicas returns two servers on pg, with counts shared or not, and a
	// client of each that signs in from one address.
	replicas := func(t *testing.T, counts ratelimit.Counts, onErr func(error)) [2]*client {
		var cs [2]*client
		for i := range cs {
			e := newEnv(t, pg, envOptions{rateLimit: true, shared: counts, onSharedError: onErr})
			cs[i] = e.client()
			cs[i].header.Set("X-Forwarded-For", "198.51.100.7")
		}
		return cs
	}
	email := uniqueEmail()
	replicas(t, nil, nil)[0].signUp(email)
	wrong := map[string]any{"email": email, "password": "not the password"}

	t.Run("the sign-in limit holds across replicas", func(t *testing.T) {
		cs := replicas(t, pg.Limits(), nil)
		for i := range 3 {
			if r := cs[i%2].do("POST", "/api/auth/sign-in/email", wrong, "X-Forwarded-For", "198.51.100.1"); r.status != 401 {
				t.Fatalf("attempt %d: %d %s", i+1, r.status, r.body)
			}
		}
		if r := cs[1].do("POST", "/api/auth/sign-in/email", wrong, "X-Forwarded-For", "198.51.100.1"); r.status != 429 {
			t.Errorf("the 4th attempt, on the other replica: %d %s; want 429", r.status, r.body)
		}
	})

	t.Run("each replica counts alone without them", func(t *testing.T) {
		cs := replicas(t, nil, nil)
		for i := range 4 {
			if r := cs[i%2].do("POST", "/api/auth/sign-in/email", wrong, "X-Forwarded-For", "198.51.100.2"); r.status != 401 {
				t.Fatalf("attempt %d: %d %s; want 401, each replica having seen two", i+1, r.status, r.body)
			}
		}
	})

	t.Run("the lockout holds across replicas", func(t *testing.T) {
		email := uniqueEmail()
		cs := replicas(t, pg.Limits(), nil)
		cs[0].signUp(email)
		wrong := map[string]any{"email": email, "password": "not the password"}
		// Ten wrong passwords from one address lock the account there,
		// half of them on each replica.
		for i := range 10 {
			r := cs[i%2].do("POST", "/api/auth/sign-in/email", wrong, "X-Forwarded-For", "203.0.113.9")
			if r.status != 401 && r.status != 429 {
				t.Fatalf("attempt %d: %d %s", i+1, r.status, r.body)
			}
			if i%3 == 2 {
				for _, c := range cs {
					c.e.clock.Add(10 * time.Second) // past the per-address request limit
				}
			}
		}
		for _, c := range cs {
			c.e.clock.Add(10 * time.Second)
		}
		right := map[string]any{"email": email, "password": pw}
		if r := cs[1].do("POST", "/api/auth/sign-in/email", right, "X-Forwarded-For", "203.0.113.9"); r.status != 429 {
			t.Errorf("the right password after ten wrong ones, on the other replica: %d %s; want 429 (locked)", r.status, r.body)
		}
	})

	t.Run("unreachable shared counts: each replica limits alone, and says so", func(t *testing.T) {
		var fallbacks atomic.Int32
		cs := replicas(t, unreachable{}, func(error) { fallbacks.Add(1) })
		for i := range 3 {
			if r := cs[0].do("POST", "/api/auth/sign-in/email", wrong, "X-Forwarded-For", "198.51.100.3"); r.status != 401 {
				t.Fatalf("attempt %d: %d %s", i+1, r.status, r.body)
			}
		}
		if r := cs[0].do("POST", "/api/auth/sign-in/email", wrong, "X-Forwarded-For", "198.51.100.3"); r.status != 429 {
			t.Errorf("the 4th attempt on one replica with the shared counts down: %d; want 429 from its own counts", r.status)
		}
		if fallbacks.Load() == 0 {
			t.Error("no fallback was reported")
		}
	})
}

// unreachable is shared counts whose database cannot be reached.
type unreachable struct{}

var errUnreachable = errors.New("postgres: connect: connection refused")

func (unreachable) Allow(context.Context, string, ratelimit.Rule, time.Time) (bool, time.Duration, error) {
	return false, 0, errUnreachable
}
func (unreachable) Fail(context.Context, string, ratelimit.Rule, time.Time) (bool, time.Duration, error) {
	return false, 0, errUnreachable
}
func (unreachable) Blocked(context.Context, string, ratelimit.Rule, time.Time) (bool, time.Duration, error) {
	return false, 0, errUnreachable
}
func (unreachable) Reset(context.Context, string) error { return errUnreachable }
