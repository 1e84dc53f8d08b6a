package account_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lectern/lectern/internal/account"
	"github.com/lectern/lectern/internal/fault"
	"github.com/lectern/lectern/internal/keys"
	"github.com/lectern/lectern/internal/password"
	"github.com/lectern/lectern/internal/store"
	"github.com/lectern/lectern/internal/store/testdb"
)

// mailbox keeps the mail the service sends.
type mailbox struct {
	mu    sync.Mutex
	mails []string
}

func (m *mailbox) Send(_ context.Context, to, subject, body string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.mails = append(m.mails, to+"\n"+body)
	return nil
}

func (m *mailbox) last() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.mails) == 0 {
		return ""
	}
	return m.mails[len(m.mails)-1]
}

// newService is the account service on a real store, with links that are
// just their tokens so that a test can read them from the mail.
func newService(t *testing.T) (*account.Service, *mailbox) {
	return newServiceOver(t, func(st account.Store) account.Store { return st })
}

// newServiceOver is newService with the store wrapped by wrap.
func newServiceOver(t *testing.T, wrap func(account.Store) account.Store) (*account.Service, *mailbox) {
	t.Helper()
	st := testdb.Engines()[0].Open(t)
	kr, err := keys.New(context.Background(), st, keys.Options{Alg: "EdDSA", Secret: []byte(strings.Repeat("k", 32))})
	if err != nil {
		t.Fatal(err)
	}
	hasher, err := password.NewHasher(password.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, 4)
	if err != nil {
		t.Fatal(err)
	}
	mail := &mailbox{}
	svc := account.New(account.Options{
		LimitsOn:   true,
		ResetLink:  func(token, _ string) string { return "reset-token=" + token },
		VerifyLink: func(token, _ string) string { return "verify-token=" + token },
	}, wrap(st), kr, hasher, mail)
	t.Cleanup(svc.Wait)
	return svc, mail
}

// tokenIn reads the token after prefix in a mail.
func tokenIn(t *testing.T, mail, prefix string) string {
	t.Helper()
	_, after, ok := strings.Cut(mail, prefix)
	if !ok {
		t.Fatalf("no %q in the mail:\n%s", prefix, mail)
	}
	return strings.Fields(after)[0]
}

// The service is used here without HTTP: its rules hold whatever wire
// calls it.
func TestAccountRules(t *testing.T) {
	ctx := context.Background()
	svc, mail := newService(t)
	const pw = "correct horse battery staple"
	cur, err := svc.SignUp(ctx, account.SignUp{Name: "Ada", Email: " Ada@Example.com ", Password: pw})
	if err != nil {
		t.Fatal(err)
	}
	if cur.User.Email != "ada@example.com" || cur.Token == "" {
		t.Fatalf("signed up as %+v", cur)
	}

	t.Run("the same address cannot sign up twice", func(t *testing.T) {
		_, err := svc.SignUp(ctx, account.SignUp{Name: "Ada", Email: "ada@example.com", Password: pw})
		if !errors.Is(err, account.ErrUserExists) {
			t.Errorf("second sign-up: %v", err)
		}
	})
	t.Run("a rule broken names its field", func(t *testing.T) {
		_, err := svc.SignUp(ctx, account.SignUp{Name: "B", Email: "not an address", Password: pw})
		var fe *account.FieldError
		if !errors.As(err, &fe) || fe.Field != "email" || fault.KindOf(err) != fault.Invalid {
			t.Errorf("bad email: %v", err)
		}
	})
	t.Run("the session found by its token is the user's", func(t *testing.T) {
		got, err := svc.Session(ctx, cur.Token)
		if err != nil || got.User.ID != cur.User.ID {
			t.Errorf("Session: %+v, %v", got.User, err)
		}
		if _, err := svc.Session(ctx, "not-a-token"); !errors.Is(err, account.ErrNoSession) {
			t.Errorf("an unknown token: %v", err)
		}
	})
	t.Run("a reset token works once and signs the user out everywhere", func(t *testing.T) {
		if err := svc.RequestPasswordReset(ctx, "ada@example.com", ""); err != nil {
			t.Fatal(err)
		}
		svc.Wait()
		token := tokenIn(t, mail.last(), "reset-token=")
		if err := svc.ResetPassword(ctx, token, "a new password of mine"); err != nil {
			t.Fatal(err)
		}
		if err := svc.ResetPassword(ctx, token, "yet another password"); !errors.Is(err, account.ErrInvalidToken) {
			t.Errorf("the token used again: %v", err)
		}
		if _, err := svc.Session(ctx, cur.Token); !errors.Is(err, account.ErrNoSession) {
			t.Errorf("the old session survived the reset: %v", err)
		}
		if _, err := svc.SignIn(ctx, "ada@example.com", "a new password of mine", false, account.Client{}); err != nil {
			t.Errorf("the new password: %v", err)
		}
	})
	t.Run("wrong passwords lock the account, even against the right one", func(t *testing.T) {
		for range 10 {
			if _, err := svc.SignIn(ctx, "ada@example.com", "wrong password", false, account.Client{}); !errors.Is(err, account.ErrInvalidCredentials) {
				t.Fatalf("a wrong password: %v", err)
			}
		}
		_, err := svc.SignIn(ctx, "ada@example.com", "a new password of mine", false, account.Client{})
		if f, ok := fault.As(err); !ok || f.Kind != fault.Limited || f.RetryAfter <= 0 {
			t.Errorf("after ten wrong passwords: %v", err)
		}
	})
}

// TestOneAddressOneAccount checks that the spellings of one address name
// one account and that addresses hiding invisible characters are refused
// (NFC/NFD forms, zero-width characters, bidi overrides and IDN forms each
// made a separate account).
func TestOneAddressOneAccount(t *testing.T) {
	for _, tc := range []struct{ a, b string }{
		{"Ada@Example.com", " ada@example.COM "},
		{"caf\u00e9@example.com", "cafe\u0301@example.com"},
		{"reader@b\u00fccher.example", "reader@xn--bcher-kva.example"},
	} {
		a, okA := account.NormalizeEmail(tc.a)
		b, okB := account.NormalizeEmail(tc.b)
		if !okA || !okB || a != b {
			t.Errorf("%q → %q (%v), %q → %q (%v): want one address", tc.a, a, okA, tc.b, b, okB)
		}
	}
	for _, bad := range []string{"ada\u200b@example.com", "ada@exa\u200dmple.com", "\u202eada@example.com", "ada@example\u2060.com", "a da@example.com"} {
		if got, ok := account.NormalizeEmail(bad); ok {
			t.Errorf("%q accepted as %q", bad, got)
		}
	}
}

// TestMailCarriesNoUserText checks that a name cannot put words or links
// in Lectern's mail ("Hello %s" used to carry it whole).
func TestMailCarriesNoUserText(t *testing.T) {
	ctx := context.Background()
	svc, mail := newService(t)
	if _, err := svc.SignUp(ctx, account.SignUp{Name: "Eve\n\nYour account is at risk: https://evil.example/login", Email: "eve@example.com", Password: "correct horse battery"}); err != nil {
		t.Fatal(err)
	}
	if err := svc.RequestPasswordReset(ctx, "eve@example.com", ""); err != nil {
		t.Fatal(err)
	}
	svc.Wait()
	if m := mail.last(); m == "" || strings.Contains(m, "evil.example") || strings.Contains(m, "at risk") {
		t.Errorf("the mail:\n%s", m)
	}
}

// slowLookups holds every UserByEmail until released.
type slowLookups struct {
	account.Store
	release chan struct{}
}

func (s *slowLookups) UserByEmail(ctx context.Context, email string) (store.User, error) {
	<-s.release
	return s.Store.UserByEmail(ctx, email)
}

// TestResetAnswersBeforeLookingUp checks that a reset request is answered
// before the address is looked up, so that its timing cannot tell whether
// the address has an account (3.2 ms for a known one, 1.7 for an unknown
// one, before). Its mail still goes out.
func TestResetAnswersBeforeLookingUp(t *testing.T) {
	ctx := context.Background()
	slow := &slowLookups{release: make(chan struct{})}
	close(slow.release) // sign-up looks the address up too
	svc, mail := newServiceOver(t, func(st account.Store) account.Store { slow.Store = st; return slow })
	if _, err := svc.SignUp(ctx, account.SignUp{Name: "Ada", Email: "ada@example.com", Password: "correct horse battery"}); err != nil {
		t.Fatal(err)
	}
	slow.release = make(chan struct{})
	answered := make(chan error, 1)
	go func() { answered <- svc.RequestPasswordReset(ctx, "ada@example.com", "") }()
	select {
	case err := <-answered:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		close(slow.release)
		t.Fatal("the request waited for the address to be looked up")
	}
	close(slow.release)
	svc.Wait()
	tokenIn(t, mail.last(), "reset-token=")
}
