package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/lectern/lectern/internal/store"
)

// defaultRole is given to users created without one.
const defaultRole = "user"

// credentialProvider is the provider id of email-and-password accounts.
const credentialProvider = "credential"

const userColumns = `id, name, email, email_verified, image, role, created_at, updated_at`

func scanUser(row pgx.Row) (store.User, error) {
	var u store.User
	if err := row.Scan(&u.ID, &u.Name, &u.Email, &u.EmailVerified, &u.Image, &u.Role, &u.CreatedAt, &u.UpdatedAt); err != nil {
		return store.User{}, err
	}
	u.CreatedAt, u.UpdatedAt = u.CreatedAt.UTC(), u.UpdatedAt.UTC()
	return u, nil
}

// CreateUser inserts u and its account a in one transaction. A duplicate email
// (or account) yields store.ErrConflict and writes nothing. An empty Role is
// stored as "user"; an empty a.UserID is taken to mean u.ID.
func (s *Store) CreateUser(ctx context.Context, u store.User, a store.Account) error {
	if a.UserID == "" {
		a.UserID = u.ID
	}
	if a.UserID != u.ID {
		return fmt.Errorf("postgres: create user: account belongs to user %q, not %q", a.UserID, u.ID)
	}
	if u.Role == "" {
		u.Role = defaultRole
	}
	op := "create user"
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx,
			`INSERT INTO users (`+userColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
			u.ID, u.Name, u.Email, u.EmailVerified, u.Image, u.Role, u.CreatedAt, u.UpdatedAt); err != nil {
			return err
		}
		op = "create user: account"
		_, err := tx.Exec(ctx,
			`INSERT INTO accounts (id, account_id, provider_id, user_id, password_hash, created_at, updated_at)
			 VALUES ($1, $2, $3, $4, $5, $6, $7)`,
			a.ID, a.AccountID, a.ProviderID, a.UserID, a.PasswordHash, a.CreatedAt, a.UpdatedAt)
		return err
	})
	if err != nil {
		return wrap(op, err)
	}
	return nil
}

// UserByID returns the user with this id, or store.ErrNotFound.
func (s *Store) UserByID(ctx context.Context, id string) (store.User, error) {
	u, err := scanUser(s.pool.QueryRow(ctx, `SELECT `+userColumns+` FROM users WHERE id = $1`, id))
	if err != nil {
		return store.User{}, wrap("user by id", err)
	}
	return u, nil
}

// UserByEmail returns the user with exactly this email, or store.ErrNotFound.
func (s *Store) UserByEmail(ctx context.Context, email string) (store.User, error) {
	u, err := scanUser(s.pool.QueryRow(ctx, `SELECT `+userColumns+` FROM users WHERE email = $1`, email))
	if err != nil {
		return store.User{}, wrap("user by email", err)
	}
	return u, nil
}

// UsersByRole returns the users with this role, by email.
func (s *Store) UsersByRole(ctx context.Context, role string) ([]store.User, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+userColumns+` FROM users WHERE role = $1 ORDER BY email`, role)
	if err != nil {
		return nil, wrap("users by role", err)
	}
	defer rows.Close()
	var out []store.User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, wrap("users by role", err)
		}
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap("users by role", err)
	}
	return out, nil
}

// UpdateUser writes Name, Image, EmailVerified, Role and UpdatedAt of u.ID;
// store.ErrNotFound if there is no such user.
func (s *Store) UpdateUser(ctx context.Context, u store.User) error {
	tag, err := s.pool.Exec(ctx,
		`UPDATE users SET name = $1, image = $2, email_verified = $3, role = $4, updated_at = $5 WHERE id = $6`,
		u.Name, u.Image, u.EmailVerified, u.Role, u.UpdatedAt, u.ID)
	if err != nil {
		return wrap("update user", err)
	}
	return mustAffect("update user", tag)
}

// DeleteUser removes the user and, by cascade, its accounts, sessions,
// conversations, messages, feedback and usage; store.ErrNotFound if there is
// no such user.
func (s *Store) DeleteUser(ctx context.Context, id string) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `WITH gone AS (DELETE FROM users WHERE id = $1 RETURNING id)
			INSERT INTO deleted_users (id) SELECT id FROM gone ON CONFLICT (id) DO NOTHING`, id)
		if err != nil {
			return wrap("delete user", err)
		}
		if err := mustAffect("delete user", tag); err != nil {
			return err
		}
		// After the cascades, which took the reader's entries out of the
		// insights by this number (migration 0013).
		if _, err := tx.Exec(ctx, `DELETE FROM insights_readers WHERE user_id = $1`, id); err != nil {
			return wrap("delete user: reader number", err)
		}
		return nil
	})
}

// CredentialAccount returns the user's "credential" account, or
// store.ErrNotFound.
func (s *Store) CredentialAccount(ctx context.Context, userID string) (store.Account, error) {
	var a store.Account
	err := s.pool.QueryRow(ctx,
		`SELECT id, account_id, provider_id, user_id, password_hash, created_at, updated_at
		 FROM accounts WHERE user_id = $1 AND provider_id = $2
		 ORDER BY created_at, id LIMIT 1`, userID, credentialProvider).
		Scan(&a.ID, &a.AccountID, &a.ProviderID, &a.UserID, &a.PasswordHash, &a.CreatedAt, &a.UpdatedAt)
	if err != nil {
		return store.Account{}, wrap("credential account", err)
	}
	a.CreatedAt, a.UpdatedAt = a.CreatedAt.UTC(), a.UpdatedAt.UTC()
	return a, nil
}

// SetPassword replaces the credential account's password hash;
// store.ErrNotFound if the user has no credential account.
func (s *Store) SetPassword(ctx context.Context, userID, hash string, now time.Time) error {
	tag, err := s.pool.Exec(ctx,
		`UPDATE accounts SET password_hash = $1, updated_at = $2 WHERE user_id = $3 AND provider_id = $4`,
		hash, now, userID, credentialProvider)
	if err != nil {
		return wrap("set password", err)
	}
	return mustAffect("set password", tag)
}

const sessionColumns = `id, token_hash, user_id, expires_at, created_at, updated_at, ip_address, user_agent, dont_remember`

func scanSession(row pgx.Row) (store.Session, error) {
	var x store.Session
	if err := row.Scan(&x.ID, &x.TokenHash, &x.UserID, &x.ExpiresAt, &x.CreatedAt, &x.UpdatedAt,
		&x.IPAddress, &x.UserAgent, &x.DontRemember); err != nil {
		return store.Session{}, err
	}
	x.ExpiresAt, x.CreatedAt, x.UpdatedAt = x.ExpiresAt.UTC(), x.CreatedAt.UTC(), x.UpdatedAt.UTC()
	return x, nil
}

// CreateSession inserts a session; a duplicate id or token hash yields
// store.ErrConflict.
func (s *Store) CreateSession(ctx context.Context, x store.Session) error {
	if _, err := s.pool.Exec(ctx,
		`INSERT INTO sessions (`+sessionColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		x.ID, x.TokenHash, x.UserID, x.ExpiresAt, x.CreatedAt, x.UpdatedAt,
		x.IPAddress, x.UserAgent, x.DontRemember); err != nil {
		return wrap("create session", err)
	}
	return nil
}

// SessionByTokenHash returns the session whatever its expiry, or
// store.ErrNotFound.
func (s *Store) SessionByTokenHash(ctx context.Context, hash []byte) (store.Session, error) {
	x, err := scanSession(s.pool.QueryRow(ctx,
		`SELECT `+sessionColumns+` FROM sessions WHERE token_hash = $1`, hash))
	if err != nil {
		return store.Session{}, wrap("session by token hash", err)
	}
	return x, nil
}

// ExtendSession moves a session's expiry; store.ErrNotFound if it is gone.
func (s *Store) ExtendSession(ctx context.Context, id string, expiresAt, now time.Time) error {
	tag, err := s.pool.Exec(ctx,
		`UPDATE sessions SET expires_at = $1, updated_at = $2 WHERE id = $3`, expiresAt, now, id)
	if err != nil {
		return wrap("extend session", err)
	}
	return mustAffect("extend session", tag)
}

// ListSessions returns the user's sessions that expire after now, newest
// first.
func (s *Store) ListSessions(ctx context.Context, userID string, now time.Time) ([]store.Session, error) {
	rows, err := s.pool.Query(ctx,
		`SELECT `+sessionColumns+` FROM sessions
		 WHERE user_id = $1 AND expires_at > $2
		 ORDER BY created_at DESC, id DESC`, userID, now)
	if err != nil {
		return nil, wrap("list sessions", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.Session, error) {
		return scanSession(row)
	})
	if err != nil {
		return nil, wrap("list sessions", err)
	}
	return out, nil
}

// DeleteSession removes session id of userID; store.ErrNotFound if there is no
// such session or it belongs to someone else.
func (s *Store) DeleteSession(ctx context.Context, userID, id string) error {
	tag, err := s.pool.Exec(ctx, `DELETE FROM sessions WHERE id = $1 AND user_id = $2`, id, userID)
	if err != nil {
		return wrap("delete session", err)
	}
	return mustAffect("delete session", tag)
}

// DeleteSessions removes all of userID's sessions except exceptID (which may
// be "" to remove them all).
func (s *Store) DeleteSessions(ctx context.Context, userID, exceptID string) error {
	if _, err := s.pool.Exec(ctx,
		`DELETE FROM sessions WHERE user_id = $1 AND id <> $2`, userID, exceptID); err != nil {
		return wrap("delete sessions", err)
	}
	return nil
}

// DeleteExpiredSessions removes sessions that have expired by now (those
// ListSessions no longer shows) and returns how many it removed.
func (s *Store) DeleteExpiredSessions(ctx context.Context, now time.Time) (int64, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM sessions WHERE expires_at <= $1`, now)
	if err != nil {
		return 0, wrap("delete expired sessions", err)
	}
	return tag.RowsAffected(), nil
}

// DeleteExpiredVerifications removes verifications that have expired by now.
func (s *Store) DeleteExpiredVerifications(ctx context.Context, now time.Time) (int64, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM verifications WHERE expires_at <= $1`, now)
	if err != nil {
		return 0, wrap("delete expired verifications", err)
	}
	return tag.RowsAffected(), nil
}

// CreateVerification inserts v; a duplicate identifier yields
// store.ErrConflict.
func (s *Store) CreateVerification(ctx context.Context, v store.Verification) error {
	if _, err := s.pool.Exec(ctx,
		`INSERT INTO verifications (id, identifier, value, expires_at, created_at) VALUES ($1, $2, $3, $4, $5)`,
		v.ID, v.Identifier, v.Value, v.ExpiresAt, v.CreatedAt); err != nil {
		return wrap("create verification", err)
	}
	return nil
}

// ConsumeVerification deletes the verification with this identifier in one
// statement and returns it if it expires after now. An expired one is deleted
// too but yields store.ErrNotFound, as does an identifier already consumed.
func (s *Store) ConsumeVerification(ctx context.Context, identifier string, now time.Time) (store.Verification, error) {
	var v store.Verification
	var live bool
	err := s.pool.QueryRow(ctx,
		`DELETE FROM verifications WHERE identifier = $1
		 RETURNING id, identifier, value, expires_at, created_at, expires_at > $2`,
		identifier, now).
		Scan(&v.ID, &v.Identifier, &v.Value, &v.ExpiresAt, &v.CreatedAt, &live)
	if err != nil {
		return store.Verification{}, wrap("consume verification", err)
	}
	if !live {
		return store.Verification{}, fmt.Errorf("postgres: consume verification: expired: %w", store.ErrNotFound)
	}
	v.ExpiresAt, v.CreatedAt = v.ExpiresAt.UTC(), v.CreatedAt.UTC()
	return v, nil
}

// DeleteVerifications removes every verification whose value is value and
// whose identifier starts with prefix (compared exactly, no wildcards).
func (s *Store) DeleteVerifications(ctx context.Context, prefix, value string) error {
	if _, err := s.pool.Exec(ctx,
		`DELETE FROM verifications WHERE value = $1 AND starts_with(identifier, $2)`,
		value, prefix); err != nil {
		return wrap("delete verifications", err)
	}
	return nil
}

// InsertSigningKey stores k; a duplicate id yields store.ErrConflict.
func (s *Store) InsertSigningKey(ctx context.Context, k store.SigningKey) error {
	if _, err := s.pool.Exec(ctx,
		`INSERT INTO signing_keys (id, alg, public_jwk, private_key, created_at, retired_at)
		 VALUES ($1, $2, $3, $4, $5, $6)`,
		k.ID, k.Alg, k.PublicJWK, k.PrivateKey, k.CreatedAt, k.RetiredAt); err != nil {
		return wrap("insert signing key", err)
	}
	return nil
}

// SigningKeys returns every stored key, newest first.
func (s *Store) SigningKeys(ctx context.Context) ([]store.SigningKey, error) {
	rows, err := s.pool.Query(ctx,
		`SELECT id, alg, public_jwk, private_key, created_at, retired_at
		 FROM signing_keys ORDER BY created_at DESC, id DESC`)
	if err != nil {
		return nil, wrap("signing keys", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.SigningKey, error) {
		var k store.SigningKey
		if err := row.Scan(&k.ID, &k.Alg, &k.PublicJWK, &k.PrivateKey, &k.CreatedAt, &k.RetiredAt); err != nil {
			return store.SigningKey{}, err
		}
		k.CreatedAt, k.RetiredAt = k.CreatedAt.UTC(), utc(k.RetiredAt)
		return k, nil
	})
	if err != nil {
		return nil, wrap("signing keys", err)
	}
	return out, nil
}

// RetireSigningKeys marks every unretired key other than keepID as retired at
// at; keys already retired keep their earlier time.
func (s *Store) RetireSigningKeys(ctx context.Context, keepID string, at time.Time) error {
	if _, err := s.pool.Exec(ctx,
		`UPDATE signing_keys SET retired_at = $1 WHERE retired_at IS NULL AND id <> $2`,
		at, keepID); err != nil {
		return wrap("retire signing keys", err)
	}
	return nil
}

// DeleteSigningKeysRetiredBefore removes keys retired strictly before t and
// returns how many it removed. Current (unretired) keys are never removed.
func (s *Store) DeleteSigningKeysRetiredBefore(ctx context.Context, t time.Time) (int64, error) {
	tag, err := s.pool.Exec(ctx,
		`DELETE FROM signing_keys WHERE retired_at IS NOT NULL AND retired_at < $1`, t)
	if err != nil {
		return 0, wrap("delete retired signing keys", err)
	}
	return tag.RowsAffected(), nil
}
