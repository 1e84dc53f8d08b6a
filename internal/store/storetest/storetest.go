// Package storetest is the conformance suite every store.Store engine must
// pass, so that PostgreSQL and SQLite deployments behave the same.
//
// An engine's test calls Run with a function that opens a fresh store:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) store.Store {
//			s := openAndMigrate(t)
//			return s
//		})
//	}
package storetest

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lectern/lectern/internal/randid"
	"github.com/lectern/lectern/internal/store"
)

// test is one conformance check; its name reads as a sentence.
type test struct {
	name string
	run  func(t *testing.T, s store.Store)
}

// Run runs the conformance suite. open must return a new, migrated, empty
// store each time it is called; Run calls it once per subtest, runs the
// subtests in parallel, and closes each store when its subtest ends.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	var tests []test
	tests = append(tests, userTests()...)
	tests = append(tests, accountTests()...)
	tests = append(tests, sessionTests()...)
	tests = append(tests, verificationTests()...)
	tests = append(tests, signingKeyTests()...)
	tests = append(tests, timeTests()...)
	tests = append(tests, notFoundTests()...)
	tests = append(tests, syncUserTests()...)
	tests = append(tests, footprintTests()...)
	tests = append(tests, conversationTests()...)
	tests = append(tests, messageTests()...)
	tests = append(tests, feedbackTests()...)
	tests = append(tests, usageTests()...)
	tests = append(tests, bookTests()...)
	tests = append(tests, insightsTests()...)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := open(t)
			t.Cleanup(func() {
				if err := s.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
			tc.run(t, s)
		})
	}
}

// base is the suite's clock reading: deliberately neither UTC nor a whole
// millisecond, so engines that keep the zone or lose sub-second precision are
// caught.
func base() time.Time {
	return time.Date(2025, time.March, 14, 15, 9, 26, 535_897_932, time.FixedZone("IST", 5*3600+1800))
}

// newUser returns a user with a unique id and email and its credential
// account, both created at now.
func newUser(now time.Time) (store.User, store.Account) {
	id := randid.New()
	u := store.User{
		ID:        id,
		Name:      "Ada " + id[:6],
		Email:     strings.ToLower(id) + "@example.test",
		Role:      "user",
		CreatedAt: now,
		UpdatedAt: now,
	}
	a := store.Account{
		ID:           randid.New(),
		AccountID:    id,
		ProviderID:   "credential",
		UserID:       id,
		PasswordHash: "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2g",
		CreatedAt:    now,
		UpdatedAt:    now,
	}
	return u, a
}

// createUser stores a new user with its account and returns the user.
func createUser(t testing.TB, s store.Store, now time.Time) store.User {
	t.Helper()
	u, a := newUser(now)
	if err := s.CreateUser(t.Context(), u, a); err != nil {
		t.Fatalf("CreateUser: %v", err)
	}
	return u
}

// newSession returns a session of userID created at created and expiring
// ttl later, with a random token hash.
func newSession(userID string, created time.Time, ttl time.Duration) store.Session {
	hash := sha256.Sum256([]byte(randid.New()))
	return store.Session{
		ID:        randid.New(),
		TokenHash: hash[:],
		UserID:    userID,
		ExpiresAt: created.Add(ttl),
		CreatedAt: created,
		UpdatedAt: created,
		IPAddress: "203.0.113.7",
		UserAgent: "storetest/1.0",
	}
}

// createSession stores a new session (see newSession) and returns it.
func createSession(t *testing.T, s store.Store, userID string, created time.Time, ttl time.Duration) store.Session {
	t.Helper()
	x := newSession(userID, created, ttl)
	if err := s.CreateSession(t.Context(), x); err != nil {
		t.Fatalf("CreateSession: %v", err)
	}
	return x
}

// newVerification returns a verification of value expiring at expires.
func newVerification(identifier, value string, created, expires time.Time) store.Verification {
	return store.Verification{
		ID:         randid.New(),
		Identifier: identifier,
		Value:      value,
		ExpiresAt:  expires,
		CreatedAt:  created,
	}
}

// newKey returns a signing key created at created, retired at retired (nil
// for a current key).
func newKey(created time.Time, retired *time.Time) store.SigningKey {
	id := randid.New()
	return store.SigningKey{
		ID:         id,
		Alg:        "EdDSA",
		PublicJWK:  []byte(`{"kty":"OKP","crv":"Ed25519","x":"` + id + `"}`),
		PrivateKey: []byte("sealed\x00\xff" + id),
		CreatedAt:  created,
		RetiredAt:  retired,
	}
}

// ptr returns a pointer to v.
func ptr[T any](v T) *T { return &v }

// wantErr fails the test unless err matches target.
func wantErr(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("%s: got error %v, want %v", what, err, target)
	}
}

// noErr fails the test if err is not nil.
func noErr(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// checkTime reports a stored time that is not in UTC or differs from want at
// millisecond precision.
func checkTime(t *testing.T, field string, got, want time.Time) {
	t.Helper()
	if got.Location() != time.UTC {
		t.Errorf("%s = %v: location %v, want UTC", field, got, got.Location())
	}
	if !got.Truncate(time.Millisecond).Equal(want.Truncate(time.Millisecond)) {
		t.Errorf("%s = %v, want %v", field, got, want.UTC())
	}
}

// checkOptionalTime is checkTime for nullable times.
func checkOptionalTime(t *testing.T, field string, got, want *time.Time) {
	t.Helper()
	switch {
	case got == nil && want == nil:
	case got == nil || want == nil:
		t.Errorf("%s = %v, want %v", field, got, want)
	default:
		checkTime(t, field, *got, *want)
	}
}

// check reports a field that differs.
func check[T comparable](t *testing.T, field string, got, want T) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %#v, want %#v", field, got, want)
	}
}

func checkUser(t *testing.T, got, want store.User) {
	t.Helper()
	check(t, "User.ID", got.ID, want.ID)
	check(t, "User.Name", got.Name, want.Name)
	check(t, "User.Email", got.Email, want.Email)
	check(t, "User.EmailVerified", got.EmailVerified, want.EmailVerified)
	switch {
	case got.Image == nil && want.Image == nil:
	case got.Image == nil || want.Image == nil:
		t.Errorf("User.Image = %v, want %v", got.Image, want.Image)
	default:
		check(t, "*User.Image", *got.Image, *want.Image)
	}
	check(t, "User.Role", got.Role, want.Role)
	checkTime(t, "User.CreatedAt", got.CreatedAt, want.CreatedAt)
	checkTime(t, "User.UpdatedAt", got.UpdatedAt, want.UpdatedAt)
}

func checkAccount(t *testing.T, got, want store.Account) {
	t.Helper()
	check(t, "Account.ID", got.ID, want.ID)
	check(t, "Account.AccountID", got.AccountID, want.AccountID)
	check(t, "Account.ProviderID", got.ProviderID, want.ProviderID)
	check(t, "Account.UserID", got.UserID, want.UserID)
	check(t, "Account.PasswordHash", got.PasswordHash, want.PasswordHash)
	checkTime(t, "Account.CreatedAt", got.CreatedAt, want.CreatedAt)
	checkTime(t, "Account.UpdatedAt", got.UpdatedAt, want.UpdatedAt)
}

func checkSession(t *testing.T, got, want store.Session) {
	t.Helper()
	check(t, "Session.ID", got.ID, want.ID)
	check(t, "Session.TokenHash", string(got.TokenHash), string(want.TokenHash))
	check(t, "Session.UserID", got.UserID, want.UserID)
	checkTime(t, "Session.ExpiresAt", got.ExpiresAt, want.ExpiresAt)
	checkTime(t, "Session.CreatedAt", got.CreatedAt, want.CreatedAt)
	checkTime(t, "Session.UpdatedAt", got.UpdatedAt, want.UpdatedAt)
	check(t, "Session.IPAddress", got.IPAddress, want.IPAddress)
	check(t, "Session.UserAgent", got.UserAgent, want.UserAgent)
	check(t, "Session.DontRemember", got.DontRemember, want.DontRemember)
}

func checkVerification(t *testing.T, got, want store.Verification) {
	t.Helper()
	check(t, "Verification.ID", got.ID, want.ID)
	check(t, "Verification.Identifier", got.Identifier, want.Identifier)
	check(t, "Verification.Value", got.Value, want.Value)
	checkTime(t, "Verification.ExpiresAt", got.ExpiresAt, want.ExpiresAt)
	checkTime(t, "Verification.CreatedAt", got.CreatedAt, want.CreatedAt)
}

func checkKey(t *testing.T, got, want store.SigningKey) {
	t.Helper()
	check(t, "SigningKey.ID", got.ID, want.ID)
	check(t, "SigningKey.Alg", got.Alg, want.Alg)
	check(t, "SigningKey.PublicJWK", string(got.PublicJWK), string(want.PublicJWK))
	check(t, "SigningKey.PrivateKey", string(got.PrivateKey), string(want.PrivateKey))
	checkTime(t, "SigningKey.CreatedAt", got.CreatedAt, want.CreatedAt)
	checkOptionalTime(t, "SigningKey.RetiredAt", got.RetiredAt, want.RetiredAt)
}

// sessionIDs returns the ids of ss, in order.
func sessionIDs(ss []store.Session) []string {
	ids := make([]string, len(ss))
	for i, x := range ss {
		ids[i] = x.ID
	}
	return ids
}

// keyIDs returns the ids of ks, in order.
func keyIDs(ks []store.SigningKey) []string {
	ids := make([]string, len(ks))
	for i, k := range ks {
		ids[i] = k.ID
	}
	return ids
}

// checkIDs reports a list of ids that differs from want.
func checkIDs(t *testing.T, what string, got, want []string) {
	t.Helper()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

// parallel runs f(0) … f(n-1) in goroutines released at the same moment and
// returns their errors.
func parallel(n int, f func(i int) error) []error {
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = f(i)
		})
	}
	close(start)
	wg.Wait()
	return errs
}
