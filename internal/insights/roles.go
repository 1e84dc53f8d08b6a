// Package insights shows a book's owners what its readers ask: how much,
// what the book does not answer, where readers ask from and which answers
// they rate down. Owners see the questions, never who asked them.
package insights

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/lectern/lectern/internal/fault"
	"github.com/lectern/lectern/internal/store"
)

// RoleOwner is the role of a book's owners and editors, granted by the
// operator (lectern admin grant); readers have the role "user".
const RoleOwner = "owner"

// roleReader is every other user's role.
const roleReader = "user"

// Users is the storage Roles needs.
type Users interface {
	UserByID(ctx context.Context, id string) (store.User, error)
	UserByEmail(ctx context.Context, email string) (store.User, error)
	UpdateUser(ctx context.Context, u store.User) error
	UsersByRole(ctx context.Context, role string) ([]store.User, error)
}

// Roles decides who the book's owners are: the users granted RoleOwner,
// and those whose email the operator lists (LECTERN_ADMIN_EMAILS). It
// reads the user at every check, so a grant or a revocation takes effect
// on the next request, whatever tokens are in flight.
type Roles struct {
	users  Users
	emails []string // lower-cased
	now    func() time.Time
}

// NewRoles returns the roles of users, with the owners listed by email.
func NewRoles(users Users, emails []string, now func() time.Time) *Roles {
	if now == nil {
		now = time.Now
	}
	lower := make([]string, len(emails))
	for i, e := range emails {
		lower[i] = strings.ToLower(strings.TrimSpace(e))
	}
	return &Roles{users: users, emails: lower, now: now}
}

// IsOwner reports whether the user may see the insights. A user who no
// longer exists is not an owner.
func (r *Roles) IsOwner(ctx context.Context, userID string) (bool, error) {
	u, err := r.users.UserByID(ctx, userID)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read the user's role: %w", err)
	}
	return u.Role == RoleOwner || slices.Contains(r.emails, strings.ToLower(u.Email)), nil
}

// ErrNoAccount is returned for an email no account has.
var ErrNoAccount = fault.Sentinel(fault.NotFound, "no account has this email; the owner signs up first")

// Grant makes the account with this email an owner.
func (r *Roles) Grant(ctx context.Context, email string) (store.User, error) {
	return r.set(ctx, email, RoleOwner)
}

// Revoke makes the account with this email a reader again. An owner
// listed in LECTERN_ADMIN_EMAILS stays one until the setting changes.
func (r *Roles) Revoke(ctx context.Context, email string) (store.User, error) {
	return r.set(ctx, email, roleReader)
}

func (r *Roles) set(ctx context.Context, email, role string) (store.User, error) {
	u, err := r.users.UserByEmail(ctx, strings.ToLower(strings.TrimSpace(email)))
	if errors.Is(err, store.ErrNotFound) {
		return store.User{}, ErrNoAccount
	}
	if err != nil {
		return store.User{}, fmt.Errorf("find the account: %w", err)
	}
	if u.Role == role {
		return u, nil
	}
	u.Role, u.UpdatedAt = role, r.now()
	if err := r.users.UpdateUser(ctx, u); err != nil {
		return store.User{}, fmt.Errorf("set the role: %w", err)
	}
	return u, nil
}

// Owner is one of the book's owners, and why they are one.
type Owner struct {
	Email   string
	Name    string // "" for a listed email without an account yet
	Granted bool   // granted with lectern admin grant
	Listed  bool   // listed in LECTERN_ADMIN_EMAILS
}

// Owners lists the book's owners by email.
func (r *Roles) Owners(ctx context.Context) ([]Owner, error) {
	granted, err := r.users.UsersByRole(ctx, RoleOwner)
	if err != nil {
		return nil, fmt.Errorf("list the owners: %w", err)
	}
	var out []Owner
	for _, u := range granted {
		out = append(out, Owner{Email: u.Email, Name: u.Name, Granted: true, Listed: slices.Contains(r.emails, u.Email)})
	}
	for _, e := range r.emails {
		if slices.ContainsFunc(out, func(o Owner) bool { return o.Email == e }) {
			continue
		}
		o := Owner{Email: e, Listed: true}
		if u, err := r.users.UserByEmail(ctx, e); err == nil {
			o.Name = u.Name
		} else if !errors.Is(err, store.ErrNotFound) {
			return nil, fmt.Errorf("list the owners: %w", err)
		}
		out = append(out, o)
	}
	slices.SortFunc(out, func(a, b Owner) int { return strings.Compare(a.Email, b.Email) })
	return out, nil
}
