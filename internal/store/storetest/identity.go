package storetest

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lectern/lectern/internal/randid"
	"github.com/lectern/lectern/internal/store"
)

func userTests() []test {
	return []test{
		{"CreateUser stores the user and its account", func(t *testing.T, s store.Store) {
			now := base()
			u, a := newUser(now)
			u.Image = ptr("https://example.test/ada.png")
			noErr(t, "CreateUser", s.CreateUser(t.Context(), u, a))

			got, err := s.UserByID(t.Context(), u.ID)
			noErr(t, "UserByID", err)
			checkUser(t, got, u)

			got, err = s.UserByEmail(t.Context(), u.Email)
			noErr(t, "UserByEmail", err)
			checkUser(t, got, u)

			acct, err := s.CredentialAccount(t.Context(), u.ID)
			noErr(t, "CredentialAccount", err)
			checkAccount(t, acct, a)
		}},
		{"UsersByRole lists the users of one role, by email", func(t *testing.T, s store.Store) {
			now := base()
			var owners []string
			for i := range 3 {
				u := createUser(t, s, now)
				if i != 1 {
					u.Role = "owner"
					noErr(t, "UpdateUser", s.UpdateUser(t.Context(), u))
					owners = append(owners, u.Email)
				}
			}
			got, err := s.UsersByRole(t.Context(), "owner")
			noErr(t, "UsersByRole", err)
			var emails []string
			for _, u := range got {
				emails = append(emails, u.Email)
			}
			slices.Sort(owners)
			if !slices.Equal(emails, owners) {
				t.Errorf("owners %q, want %q", emails, owners)
			}
			if none, err := s.UsersByRole(t.Context(), "nobody"); err != nil || len(none) != 0 {
				t.Errorf("UsersByRole of an unused role: %v, %v", none, err)
			}
		}},
		{"CreateUser keeps a missing image nil", func(t *testing.T, s store.Store) {
			u := createUser(t, s, base())
			got, err := s.UserByID(t.Context(), u.ID)
			noErr(t, "UserByID", err)
			if got.Image != nil {
				t.Errorf("Image = %q, want nil", *got.Image)
			}
		}},
		{"CreateUser with a duplicate email returns ErrConflict and writes nothing", func(t *testing.T, s store.Store) {
			now := base()
			first := createUser(t, s, now)
			u, a := newUser(now.Add(time.Minute))
			u.Email = first.Email
			wantErr(t, "CreateUser", s.CreateUser(t.Context(), u, a), store.ErrConflict)

			_, err := s.UserByID(t.Context(), u.ID)
			wantErr(t, "UserByID of the rejected user", err, store.ErrNotFound)
			_, err = s.CredentialAccount(t.Context(), u.ID)
			wantErr(t, "CredentialAccount of the rejected user", err, store.ErrNotFound)
			got, err := s.UserByEmail(t.Context(), first.Email)
			noErr(t, "UserByEmail", err)
			checkUser(t, got, first)
		}},
		{"CreateUser whose account conflicts rolls back the user", func(t *testing.T, s store.Store) {
			now := base()
			first := createUser(t, s, now)
			u, a := newUser(now)
			a.AccountID = first.ID // same (provider_id, account_id) as first's account
			wantErr(t, "CreateUser", s.CreateUser(t.Context(), u, a), store.ErrConflict)

			_, err := s.UserByID(t.Context(), u.ID)
			wantErr(t, "UserByID of the rejected user", err, store.ErrNotFound)
			_, err = s.UserByEmail(t.Context(), u.Email)
			wantErr(t, "UserByEmail of the rejected user", err, store.ErrNotFound)
		}},
		{"UpdateUser writes name, image, verification, role and update time only", func(t *testing.T, s store.Store) {
			now := base()
			u := createUser(t, s, now)

			changed := u
			changed.Name = "Ada Lovelace"
			changed.Image = ptr("https://example.test/new.png")
			changed.EmailVerified = true
			changed.Role = "admin"
			changed.UpdatedAt = now.Add(time.Hour)
			changed.Email = "someone.else@example.test" // must be ignored
			changed.CreatedAt = now.Add(time.Hour)      // must be ignored
			noErr(t, "UpdateUser", s.UpdateUser(t.Context(), changed))

			want := changed
			want.Email, want.CreatedAt = u.Email, u.CreatedAt
			got, err := s.UserByID(t.Context(), u.ID)
			noErr(t, "UserByID", err)
			checkUser(t, got, want)

			changed.Image = nil
			noErr(t, "UpdateUser clearing the image", s.UpdateUser(t.Context(), changed))
			got, err = s.UserByID(t.Context(), u.ID)
			noErr(t, "UserByID", err)
			if got.Image != nil {
				t.Errorf("Image = %q after clearing it, want nil", *got.Image)
			}
		}},
		{"DeleteUser removes the user with its accounts and sessions", func(t *testing.T, s store.Store) {
			now := base()
			u := createUser(t, s, now)
			x := createSession(t, s, u.ID, now, time.Hour)
			other := createUser(t, s, now)
			kept := createSession(t, s, other.ID, now, time.Hour)

			noErr(t, "DeleteUser", s.DeleteUser(t.Context(), u.ID))

			_, err := s.UserByID(t.Context(), u.ID)
			wantErr(t, "UserByID", err, store.ErrNotFound)
			_, err = s.CredentialAccount(t.Context(), u.ID)
			wantErr(t, "CredentialAccount", err, store.ErrNotFound)
			_, err = s.SessionByTokenHash(t.Context(), x.TokenHash)
			wantErr(t, "SessionByTokenHash", err, store.ErrNotFound)

			_, err = s.UserByID(t.Context(), other.ID)
			noErr(t, "UserByID of another user", err)
			_, err = s.SessionByTokenHash(t.Context(), kept.TokenHash)
			noErr(t, "SessionByTokenHash of another user's session", err)
		}},
	}
}

func accountTests() []test {
	return []test{
		{"SetPassword replaces the credential password hash", func(t *testing.T, s store.Store) {
			now := base()
			u, a := newUser(now)
			noErr(t, "CreateUser", s.CreateUser(t.Context(), u, a))

			later := now.Add(time.Hour)
			noErr(t, "SetPassword", s.SetPassword(t.Context(), u.ID, "salt:key", later))

			want := a
			want.PasswordHash, want.UpdatedAt = "salt:key", later
			got, err := s.CredentialAccount(t.Context(), u.ID)
			noErr(t, "CredentialAccount", err)
			checkAccount(t, got, want)
		}},
	}
}

func sessionTests() []test {
	return []test{
		{"CreateSession stores a session that SessionByTokenHash finds", func(t *testing.T, s store.Store) {
			now := base()
			u := createUser(t, s, now)
			x := newSession(u.ID, now, 24*time.Hour)
			x.DontRemember = true
			x.IPAddress = "2001:db8::1"
			x.UserAgent = "Mozilla/5.0 (X11; Linux x86_64) \"quoted\" ünïcode"
			noErr(t, "CreateSession", s.CreateSession(t.Context(), x))

			got, err := s.SessionByTokenHash(t.Context(), x.TokenHash)
			noErr(t, "SessionByTokenHash", err)
			checkSession(t, got, x)
		}},
		{"SessionByTokenHash returns expired sessions too", func(t *testing.T, s store.Store) {
			now := base()
			u := createUser(t, s, now)
			x := createSession(t, s, u.ID, now.Add(-2*time.Hour), time.Hour)
			got, err := s.SessionByTokenHash(t.Context(), x.TokenHash)
			noErr(t, "SessionByTokenHash", err)
			checkSession(t, got, x)
		}},
		{"CreateSession with a duplicate token hash returns ErrConflict", func(t *testing.T, s store.Store) {
			now := base()
			u := createUser(t, s, now)
			first := createSession(t, s, u.ID, now, time.Hour)
			dup := newSession(u.ID, now, time.Hour)
			dup.TokenHash = first.TokenHash
			wantErr(t, "CreateSession", s.CreateSession(t.Context(), dup), store.ErrConflict)
		}},
		{"ExtendSession moves the expiry and update time", func(t *testing.T, s store.Store) {
			now := base()
			u := createUser(t, s, now)
			x := createSession(t, s, u.ID, now, time.Hour)

			later := now.Add(30 * time.Minute)
			want := x
			want.ExpiresAt, want.UpdatedAt = later.Add(24*time.Hour), later
			noErr(t, "ExtendSession", s.ExtendSession(t.Context(), x.ID, want.ExpiresAt, later))

			got, err := s.SessionByTokenHash(t.Context(), x.TokenHash)
			noErr(t, "SessionByTokenHash", err)
			checkSession(t, got, want)
		}},
		{"ListSessions returns unexpired sessions newest first", func(t *testing.T, s store.Store) {
			now := base()
			u := createUser(t, s, now)
			other := createUser(t, s, now)
			oldest := createSession(t, s, u.ID, now.Add(-3*time.Hour), 5*time.Hour)
			middle := createSession(t, s, u.ID, now.Add(-2*time.Hour), 5*time.Hour)
			newest := createSession(t, s, u.ID, now.Add(-time.Hour), 5*time.Hour)
			createSession(t, s, u.ID, now.Add(-2*time.Hour), time.Hour)     // expired an hour ago
			createSession(t, s, u.ID, now.Add(-time.Hour), time.Hour)       // expires exactly now
			createSession(t, s, other.ID, now.Add(-time.Hour), 5*time.Hour) // someone else's

			got, err := s.ListSessions(t.Context(), u.ID, now)
			noErr(t, "ListSessions", err)
			checkIDs(t, "ListSessions", sessionIDs(got), []string{newest.ID, middle.ID, oldest.ID})
			if len(got) == 3 {
				checkSession(t, got[0], newest)
			}
		}},
		{"ListSessions of a user without sessions is empty", func(t *testing.T, s store.Store) {
			u := createUser(t, s, base())
			got, err := s.ListSessions(t.Context(), u.ID, base())
			noErr(t, "ListSessions", err)
			if len(got) != 0 {
				t.Errorf("ListSessions = %v, want none", sessionIDs(got))
			}
		}},
		{"DeleteSession removes the user's own session", func(t *testing.T, s store.Store) {
			now := base()
			u := createUser(t, s, now)
			x := createSession(t, s, u.ID, now, time.Hour)
			kept := createSession(t, s, u.ID, now, time.Hour)
			noErr(t, "DeleteSession", s.DeleteSession(t.Context(), u.ID, x.ID))

			_, err := s.SessionByTokenHash(t.Context(), x.TokenHash)
			wantErr(t, "SessionByTokenHash of the deleted session", err, store.ErrNotFound)
			_, err = s.SessionByTokenHash(t.Context(), kept.TokenHash)
			noErr(t, "SessionByTokenHash of the other session", err)
		}},
		{"DeleteSession of another user's session returns ErrNotFound and keeps it", func(t *testing.T, s store.Store) {
			now := base()
			owner := createUser(t, s, now)
			intruder := createUser(t, s, now)
			x := createSession(t, s, owner.ID, now, time.Hour)

			wantErr(t, "DeleteSession", s.DeleteSession(t.Context(), intruder.ID, x.ID), store.ErrNotFound)
			got, err := s.SessionByTokenHash(t.Context(), x.TokenHash)
			noErr(t, "SessionByTokenHash", err)
			checkSession(t, got, x)
		}},
		{"DeleteSessions removes the user's other sessions and keeps the excepted one", func(t *testing.T, s store.Store) {
			now := base()
			u := createUser(t, s, now)
			other := createUser(t, s, now)
			createSession(t, s, u.ID, now, time.Hour)
			current := createSession(t, s, u.ID, now, time.Hour)
			createSession(t, s, u.ID, now, time.Hour)
			theirs := createSession(t, s, other.ID, now, time.Hour)

			noErr(t, "DeleteSessions", s.DeleteSessions(t.Context(), u.ID, current.ID))
			got, err := s.ListSessions(t.Context(), u.ID, now)
			noErr(t, "ListSessions", err)
			checkIDs(t, "ListSessions", sessionIDs(got), []string{current.ID})
			_, err = s.SessionByTokenHash(t.Context(), theirs.TokenHash)
			noErr(t, "SessionByTokenHash of another user's session", err)
		}},
		{"DeleteSessions without an exception removes all of the user's sessions", func(t *testing.T, s store.Store) {
			now := base()
			u := createUser(t, s, now)
			other := createUser(t, s, now)
			createSession(t, s, u.ID, now, time.Hour)
			createSession(t, s, u.ID, now, time.Hour)
			theirs := createSession(t, s, other.ID, now, time.Hour)

			noErr(t, "DeleteSessions", s.DeleteSessions(t.Context(), u.ID, ""))
			got, err := s.ListSessions(t.Context(), u.ID, now)
			noErr(t, "ListSessions", err)
			checkIDs(t, "ListSessions", sessionIDs(got), nil)
			_, err = s.SessionByTokenHash(t.Context(), theirs.TokenHash)
			noErr(t, "SessionByTokenHash of another user's session", err)
		}},
		{"DeleteExpiredSessions removes only expired sessions and counts them", func(t *testing.T, s store.Store) {
			now := base()
			u := createUser(t, s, now)
			other := createUser(t, s, now)
			live := createSession(t, s, u.ID, now, time.Minute)
			expired := []store.Session{
				createSession(t, s, u.ID, now.Add(-2*time.Hour), time.Hour),
				createSession(t, s, u.ID, now.Add(-time.Hour), time.Hour), // expires exactly now
				createSession(t, s, other.ID, now.Add(-48*time.Hour), time.Hour),
			}

			n, err := s.DeleteExpiredSessions(t.Context(), now)
			noErr(t, "DeleteExpiredSessions", err)
			check(t, "DeleteExpiredSessions count", n, int64(len(expired)))
			for _, x := range expired {
				_, err := s.SessionByTokenHash(t.Context(), x.TokenHash)
				wantErr(t, "SessionByTokenHash of an expired session", err, store.ErrNotFound)
			}
			_, err = s.SessionByTokenHash(t.Context(), live.TokenHash)
			noErr(t, "SessionByTokenHash of the live session", err)
		}},
		{"CreateSession from 20 goroutines at once succeeds", func(t *testing.T, s store.Store) {
			now := base()
			u := createUser(t, s, now)
			const n = 20
			errs := parallel(n, func(i int) error {
				return s.CreateSession(t.Context(), newSession(u.ID, now.Add(time.Duration(i)*time.Second), time.Hour))
			})
			for i, err := range errs {
				if err != nil {
					t.Errorf("CreateSession %d: %v", i, err)
				}
			}
			got, err := s.ListSessions(t.Context(), u.ID, now)
			noErr(t, "ListSessions", err)
			check(t, "number of sessions", len(got), n)
		}},
	}
}

func verificationTests() []test {
	return []test{
		{"DeleteExpiredVerifications removes only expired verifications", func(t *testing.T, s store.Store) {
			now := base()
			old := newVerification("verify:"+randid.New(), randid.New(), now.Add(-2*time.Hour), now.Add(-time.Hour))
			live := newVerification("verify:"+randid.New(), randid.New(), now, now.Add(time.Hour))
			noErr(t, "CreateVerification", s.CreateVerification(t.Context(), old))
			noErr(t, "CreateVerification", s.CreateVerification(t.Context(), live))
			n, err := s.DeleteExpiredVerifications(t.Context(), now)
			noErr(t, "DeleteExpiredVerifications", err)
			check(t, "deleted", n, int64(1))
			_, err = s.ConsumeVerification(t.Context(), live.Identifier, now)
			noErr(t, "ConsumeVerification of the live one", err)
		}},
		{"ConsumeVerification returns the verification only once", func(t *testing.T, s store.Store) {
			now := base()
			v := newVerification("reset:"+randid.New(), randid.New(), now, now.Add(10*time.Minute))
			noErr(t, "CreateVerification", s.CreateVerification(t.Context(), v))

			got, err := s.ConsumeVerification(t.Context(), v.Identifier, now.Add(time.Minute))
			noErr(t, "first ConsumeVerification", err)
			checkVerification(t, got, v)

			_, err = s.ConsumeVerification(t.Context(), v.Identifier, now.Add(time.Minute))
			wantErr(t, "second ConsumeVerification", err, store.ErrNotFound)
		}},
		{"ConsumeVerification rejects what it cannot use", func(t *testing.T, s store.Store) {
			now := base()
			cases := []struct {
				name    string
				expires time.Time // zero: do not create it
			}{
				{"an unknown identifier", time.Time{}},
				{"a verification that expired an hour ago", now.Add(-time.Hour)},
				{"a verification that expires exactly now", now},
			}
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					id := "verify:" + randid.New()
					if !c.expires.IsZero() {
						v := newVerification(id, randid.New(), c.expires.Add(-time.Hour), c.expires)
						noErr(t, "CreateVerification", s.CreateVerification(t.Context(), v))
					}
					_, err := s.ConsumeVerification(t.Context(), id, now)
					wantErr(t, "ConsumeVerification", err, store.ErrNotFound)
					if !c.expires.IsZero() {
						// Deleted even though it was refused: an earlier clock
						// that would have accepted it finds nothing.
						_, err := s.ConsumeVerification(t.Context(), id, c.expires.Add(-time.Minute))
						wantErr(t, "ConsumeVerification after the refusal", err, store.ErrNotFound)
					}
				})
			}
		}},
		{"ConsumeVerification by concurrent callers lets exactly one win", func(t *testing.T, s store.Store) {
			now := base()
			v := newVerification("reset:"+randid.New(), randid.New(), now, now.Add(time.Hour))
			noErr(t, "CreateVerification", s.CreateVerification(t.Context(), v))

			errs := parallel(10, func(int) error {
				_, err := s.ConsumeVerification(t.Context(), v.Identifier, now)
				return err
			})
			wins := 0
			for _, err := range errs {
				switch {
				case err == nil:
					wins++
				case !errors.Is(err, store.ErrNotFound):
					t.Errorf("ConsumeVerification: %v, want nil or ErrNotFound", err)
				}
			}
			check(t, "successful consumers", wins, 1)
		}},
		{"CreateVerification with a duplicate identifier returns ErrConflict", func(t *testing.T, s store.Store) {
			now := base()
			v := newVerification("reset:"+randid.New(), "a", now, now.Add(time.Hour))
			noErr(t, "CreateVerification", s.CreateVerification(t.Context(), v))
			dup := newVerification(v.Identifier, "b", now, now.Add(time.Hour))
			wantErr(t, "CreateVerification", s.CreateVerification(t.Context(), dup), store.ErrConflict)
		}},
		{"DeleteVerifications removes exactly those with the prefix and value", func(t *testing.T, s store.Store) {
			now := base()
			mine, theirs := randid.New(), randid.New()
			type row struct {
				identifier, value string
				deleted           bool
			}
			rows := []row{
				{"reset:" + randid.New(), mine, true},
				{"reset:" + randid.New(), mine, true},
				{"reset:" + randid.New(), theirs, false}, // another value
				{"verify:" + randid.New(), mine, false},  // another prefix
				{"RESET:" + randid.New(), mine, false},   // prefixes are case-sensitive
				{"resetX" + randid.New(), mine, false},   // '_' is no wildcard
				{"re%set:" + randid.New(), mine, true},   // '%' matches itself
			}
			for _, r := range rows {
				v := newVerification(r.identifier, r.value, now, now.Add(time.Hour))
				noErr(t, "CreateVerification", s.CreateVerification(t.Context(), v))
			}

			noErr(t, "DeleteVerifications with LIKE wildcards", s.DeleteVerifications(t.Context(), "re%", mine))
			noErr(t, "DeleteVerifications with LIKE wildcards", s.DeleteVerifications(t.Context(), "reset_", mine))
			noErr(t, "DeleteVerifications", s.DeleteVerifications(t.Context(), "reset:", mine))

			for _, r := range rows {
				_, err := s.ConsumeVerification(t.Context(), r.identifier, now)
				if r.deleted {
					wantErr(t, "ConsumeVerification of deleted "+r.identifier, err, store.ErrNotFound)
				} else {
					noErr(t, "ConsumeVerification of kept "+r.identifier, err)
				}
			}
		}},
	}
}

func signingKeyTests() []test {
	return []test{
		{"SigningKeys is empty before any key is inserted", func(t *testing.T, s store.Store) {
			got, err := s.SigningKeys(t.Context())
			noErr(t, "SigningKeys", err)
			checkIDs(t, "SigningKeys", keyIDs(got), nil)
		}},
		{"SigningKeys lists inserted keys newest first", func(t *testing.T, s store.Store) {
			now := base()
			oldest := newKey(now.Add(-48*time.Hour), ptr(now.Add(-24*time.Hour)))
			newest := newKey(now, nil)
			middle := newKey(now.Add(-24*time.Hour), ptr(now))
			middle.Alg = "RS256"
			for _, k := range []store.SigningKey{oldest, newest, middle} {
				noErr(t, "InsertSigningKey", s.InsertSigningKey(t.Context(), k))
			}
			got, err := s.SigningKeys(t.Context())
			noErr(t, "SigningKeys", err)
			want := []store.SigningKey{newest, middle, oldest}
			checkIDs(t, "SigningKeys", keyIDs(got), keyIDs(want))
			if len(got) == len(want) {
				for i := range got {
					checkKey(t, got[i], want[i])
				}
			}
		}},
		{"InsertSigningKey with a duplicate id returns ErrConflict", func(t *testing.T, s store.Store) {
			k := newKey(base(), nil)
			noErr(t, "InsertSigningKey", s.InsertSigningKey(t.Context(), k))
			wantErr(t, "InsertSigningKey", s.InsertSigningKey(t.Context(), k), store.ErrConflict)
		}},
		{"RetireSigningKeys retires every other key and keeps earlier retirement times", func(t *testing.T, s store.Store) {
			now := base()
			earlier := now.Add(-time.Hour)
			retired := newKey(now.Add(-3*time.Hour), ptr(earlier))
			previous := newKey(now.Add(-2*time.Hour), nil)
			current := newKey(now.Add(-time.Minute), nil)
			for _, k := range []store.SigningKey{retired, previous, current} {
				noErr(t, "InsertSigningKey", s.InsertSigningKey(t.Context(), k))
			}

			noErr(t, "RetireSigningKeys", s.RetireSigningKeys(t.Context(), current.ID, now))

			previous.RetiredAt = ptr(now)
			want := []store.SigningKey{current, previous, retired}
			got, err := s.SigningKeys(t.Context())
			noErr(t, "SigningKeys", err)
			checkIDs(t, "SigningKeys", keyIDs(got), keyIDs(want))
			if len(got) == len(want) {
				for i := range got {
					checkKey(t, got[i], want[i])
				}
			}
		}},
		{"DeleteSigningKeysRetiredBefore removes only keys retired before the cutoff", func(t *testing.T, s store.Store) {
			now := base()
			cutoff := now.Add(-30 * time.Minute)
			long := newKey(now.Add(-4*time.Hour), ptr(now.Add(-2*time.Hour)))
			recent := newKey(now.Add(-3*time.Hour), ptr(now.Add(-time.Hour)))
			atCutoff := newKey(now.Add(-2*time.Hour), ptr(cutoff))
			afterCutoff := newKey(now.Add(-time.Hour), ptr(now))
			current := newKey(now.Add(-5*time.Hour), nil) // oldest, but never retired
			for _, k := range []store.SigningKey{long, recent, atCutoff, afterCutoff, current} {
				noErr(t, "InsertSigningKey", s.InsertSigningKey(t.Context(), k))
			}

			n, err := s.DeleteSigningKeysRetiredBefore(t.Context(), cutoff)
			noErr(t, "DeleteSigningKeysRetiredBefore", err)
			check(t, "DeleteSigningKeysRetiredBefore count", n, int64(2))
			got, err := s.SigningKeys(t.Context())
			noErr(t, "SigningKeys", err)
			checkIDs(t, "SigningKeys", keyIDs(got), []string{afterCutoff.ID, atCutoff.ID, current.ID})
		}},
	}
}

func timeTests() []test {
	return []test{
		{"times round-trip at millisecond precision and come back in UTC", func(t *testing.T, s store.Store) {
			// Far from base and from each other: before the Unix epoch, in
			// odd zones, and centuries ahead.
			moonLanding := time.Date(1969, time.July, 20, 16, 17, 40, 123_456_789, time.FixedZone("EDT", -4*3600))
			future := time.Date(2199, time.December, 31, 23, 59, 59, 999_999_999, time.FixedZone("+1345", 13*3600+45*60))

			u, a := newUser(moonLanding)
			u.UpdatedAt, a.UpdatedAt = future, future
			noErr(t, "CreateUser", s.CreateUser(t.Context(), u, a))
			gotUser, err := s.UserByID(t.Context(), u.ID)
			noErr(t, "UserByID", err)
			checkUser(t, gotUser, u)
			gotAcct, err := s.CredentialAccount(t.Context(), u.ID)
			noErr(t, "CredentialAccount", err)
			checkAccount(t, gotAcct, a)

			x := newSession(u.ID, moonLanding, 0)
			x.ExpiresAt, x.UpdatedAt = future, base()
			noErr(t, "CreateSession", s.CreateSession(t.Context(), x))
			gotSession, err := s.SessionByTokenHash(t.Context(), x.TokenHash)
			noErr(t, "SessionByTokenHash", err)
			checkSession(t, gotSession, x)

			v := newVerification("verify:"+randid.New(), u.ID, moonLanding, future)
			noErr(t, "CreateVerification", s.CreateVerification(t.Context(), v))
			gotV, err := s.ConsumeVerification(t.Context(), v.Identifier, base())
			noErr(t, "ConsumeVerification", err)
			checkVerification(t, gotV, v)

			k := newKey(moonLanding, ptr(future))
			noErr(t, "InsertSigningKey", s.InsertSigningKey(t.Context(), k))
			keys, err := s.SigningKeys(t.Context())
			noErr(t, "SigningKeys", err)
			if len(keys) != 1 {
				t.Fatalf("SigningKeys returned %d keys, want 1", len(keys))
			}
			checkKey(t, keys[0], k)
		}},
		{"times sort chronologically across the Unix epoch and time zones", func(t *testing.T, s store.Store) {
			now := base()
			u := createUser(t, s, now)
			created := []time.Time{
				time.Date(1969, time.December, 31, 23, 59, 59, 0, time.UTC),
				time.Date(1970, time.January, 1, 0, 0, 1, 0, time.UTC),
				// Earlier than the next one although its wall clock reads later.
				time.Date(2025, time.March, 14, 12, 0, 0, 0, time.FixedZone("+0900", 9*3600)),
				time.Date(2025, time.March, 14, 10, 0, 0, 0, time.FixedZone("+0100", 3600)),
				time.Date(2025, time.March, 14, 10, 0, 0, 1_000_000, time.FixedZone("+0100", 3600)),
			}
			var want []string
			for _, c := range created {
				x := newSession(u.ID, c, 0)
				x.ExpiresAt = now.Add(time.Hour)
				noErr(t, "CreateSession", s.CreateSession(t.Context(), x))
				want = append([]string{x.ID}, want...)
			}
			got, err := s.ListSessions(t.Context(), u.ID, now)
			noErr(t, "ListSessions", err)
			checkIDs(t, "ListSessions", sessionIDs(got), want)
		}},
	}
}

func notFoundTests() []test {
	return []test{
		{"Ping succeeds on an open store", func(t *testing.T, s store.Store) {
			noErr(t, "Ping", s.Ping(t.Context()))
		}},
		{"operations on missing records return ErrNotFound", func(t *testing.T, s store.Store) {
			now := base()
			// A user without a credential account, so SetPassword has no
			// account to update.
			u, a := newUser(now)
			a.ProviderID, a.AccountID = "github", "12345"
			noErr(t, "CreateUser", s.CreateUser(t.Context(), u, a))
			missing := randid.New()
			cases := []struct {
				name string
				call func() error
			}{
				{"UserByID of an unknown id", func() error {
					_, err := s.UserByID(t.Context(), missing)
					return err
				}},
				{"UserByEmail of an unknown email", func() error {
					_, err := s.UserByEmail(t.Context(), "nobody@example.test")
					return err
				}},
				{"UserByEmail with different case", func() error {
					_, err := s.UserByEmail(t.Context(), strings.ToUpper(u.Email))
					return err
				}},
				{"UpdateUser of an unknown user", func() error {
					v := u
					v.ID = missing
					return s.UpdateUser(t.Context(), v)
				}},
				{"DeleteUser of an unknown user", func() error {
					return s.DeleteUser(t.Context(), missing)
				}},
				{"CredentialAccount of an unknown user", func() error {
					_, err := s.CredentialAccount(t.Context(), missing)
					return err
				}},
				{"CredentialAccount of a user without one", func() error {
					_, err := s.CredentialAccount(t.Context(), u.ID)
					return err
				}},
				{"SetPassword of a user without a credential account", func() error {
					return s.SetPassword(t.Context(), u.ID, "hash", now)
				}},
				{"SessionByTokenHash of an unknown hash", func() error {
					_, err := s.SessionByTokenHash(t.Context(), []byte("no such hash"))
					return err
				}},
				{"ExtendSession of an unknown session", func() error {
					return s.ExtendSession(t.Context(), missing, now.Add(time.Hour), now)
				}},
				{"DeleteSession of an unknown session", func() error {
					return s.DeleteSession(t.Context(), u.ID, missing)
				}},
			}
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					wantErr(t, c.name, c.call(), store.ErrNotFound)
				})
			}
		}},
	}
}
