package identity_test

import (
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/lectern/lectern/internal/identity"
)

// events records what the identity service reports to its metrics hooks.
type events struct {
	mu      sync.Mutex
	limited []string
	failed  []string
}

func (e *events) take() (limited, failed []string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	limited, failed = e.limited, e.failed
	e.limited, e.failed = nil, nil
	return limited, failed
}

func TestRefusalsAreReportedWithTheirScope(t *testing.T) {
	ev := &events{}
	e := newEnv(t, engines()[0].Open(t), envOptions{
		rateLimit:       true,
		onRateLimited:   func(s string) { ev.mu.Lock(); ev.limited = append(ev.limited, s); ev.mu.Unlock() },
		onSignInFailure: func(r string) { ev.mu.Lock(); ev.failed = append(ev.failed, r); ev.mu.Unlock() },
	})
	email := uniqueEmail()
	e.client().signUp(email)
	ip := 0
	fromNewIP := func() *client {
		ip++
		c := e.client()
		c.header.Set("X-Forwarded-For", "198.51.100."+itoa(ip))
		return c
	}
	ev.take()

	for _, tc := range []struct {
		name        string
		act         func() response
		wantStatus  int
		wantLimited []string
		wantFailed  []string
	}{
		{"a wrong password is a failed sign-in", func() response { return fromNewIP().signIn(email, "wrong password") },
			401, nil, []string{identity.SignInInvalidCredentials}},
		{"an unknown address is the same failed sign-in", func() response { return fromNewIP().signIn(uniqueEmail(), "any password") },
			401, nil, []string{identity.SignInInvalidCredentials}},
		{"a good sign-in reports nothing", func() response { return fromNewIP().signIn(email, pw) }, 200, nil, nil},
		{"the fourth sign-in from one IP is limited per IP", func() response {
			c := fromNewIP()
			for range 3 {
				c.signIn(email, pw)
			}
			ev.take()
			return c.signIn(email, pw)
		}, 429, []string{identity.ScopeIP}, nil},
		{"an account that failed too often from everywhere is locked out", func() response {
			e.clock.Add(time.Hour)
			victim := uniqueEmail()
			e.client().signUp(victim)
			for range 50 {
				fromNewIP().signIn(victim, "a wrong guess")
			}
			ev.take()
			return fromNewIP().signIn(victim, pw)
		}, 429, []string{identity.ScopeSignInLockout}, nil},
		{"reset mail to one address is limited per address", func() response {
			for range 3 {
				fromNewIP().do("POST", "/api/auth/request-password-reset", map[string]any{"email": email})
			}
			ev.take()
			return fromNewIP().do("POST", "/api/auth/request-password-reset", map[string]any{"email": email})
		}, 429, []string{identity.ScopePasswordReset}, nil},
		{"verification mail to one address is limited per address", func() response {
			for range 3 {
				fromNewIP().do("POST", "/api/auth/send-verification-email", map[string]any{"email": email})
			}
			ev.take()
			return fromNewIP().do("POST", "/api/auth/send-verification-email", map[string]any{"email": email})
		}, 429, []string{identity.ScopeVerificationEmail}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.act()
			if r.status != tc.wantStatus {
				t.Fatalf("status %d %s, want %d", r.status, r.body, tc.wantStatus)
			}
			limited, failed := ev.take()
			if !slices.Equal(limited, tc.wantLimited) || !slices.Equal(failed, tc.wantFailed) {
				t.Errorf("reported rate-limited %v and sign-in failures %v, want %v and %v", limited, failed, tc.wantLimited, tc.wantFailed)
			}
		})
	}
}
