package insights

import (
	"errors"
	"testing"
	"time"

	"github.com/lectern/lectern/internal/randid"
	"github.com/lectern/lectern/internal/store"
	"github.com/lectern/lectern/internal/store/testdb"
)

// signUp stores a reader with this email.
func signUp(t *testing.T, st store.Store, email string) store.User {
	t.Helper()
	now := time.Now()
	u := store.User{ID: randid.New(), Name: "Reader " + email, Email: email, CreatedAt: now, UpdatedAt: now}
	a := store.Account{ID: randid.New(), AccountID: u.ID, ProviderID: "credential", PasswordHash: "x", CreatedAt: now, UpdatedAt: now}
	if err := st.CreateUser(t.Context(), u, a); err != nil {
		t.Fatal(err)
	}
	return u
}

func TestRoles(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, st store.Store) {
		ada := signUp(t, st, "ada@example.com")
		bo := signUp(t, st, "bo@example.com")
		cy := signUp(t, st, "cy@example.com")
		roles := NewRoles(st, []string{"Cy@Example.com", "dee@example.com"}, nil)
		isOwner := func(u store.User) bool {
			t.Helper()
			ok, err := roles.IsOwner(t.Context(), u.ID)
			if err != nil {
				t.Fatal(err)
			}
			return ok
		}
		if isOwner(ada) || isOwner(bo) {
			t.Fatal("a reader is an owner before any grant")
		}
		if !isOwner(cy) {
			t.Error("an account whose email the operator lists is not an owner")
		}
		if _, err := roles.Grant(t.Context(), "ADA@example.com "); err != nil {
			t.Fatal(err)
		}
		if !isOwner(ada) {
			t.Error("a granted account is not an owner at the next check")
		}
		if _, err := roles.Grant(t.Context(), "nobody@example.com"); !errors.Is(err, ErrNoAccount) {
			t.Errorf("granting an email without an account: %v, want ErrNoAccount", err)
		}

		owners, err := roles.Owners(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		want := []Owner{
			{Email: "ada@example.com", Name: ada.Name, Granted: true},
			{Email: "cy@example.com", Name: cy.Name, Listed: true},
			{Email: "dee@example.com", Listed: true},
		}
		if len(owners) != len(want) {
			t.Fatalf("owners %+v, want %+v", owners, want)
		}
		for i := range want {
			if owners[i] != want[i] {
				t.Errorf("owner %d: %+v, want %+v", i, owners[i], want[i])
			}
		}

		if _, err := roles.Revoke(t.Context(), "ada@example.com"); err != nil {
			t.Fatal(err)
		}
		if isOwner(ada) {
			t.Error("a revoked owner is still one at the next check")
		}
		if err := st.DeleteUser(t.Context(), cy.ID); err != nil {
			t.Fatal(err)
		}
		if isOwner(cy) {
			t.Error("a deleted account is an owner")
		}
	})
}
