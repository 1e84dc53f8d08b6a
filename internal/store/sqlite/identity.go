package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/lectern/lectern/internal/store"
)

// scanner is what *sql.Row and *sql.Rows have in common.
type scanner interface {
	Scan(dest ...any) error
}

// defaultRole is given to users created without one.
const defaultRole = "user"

// credentialProvider is the provider id of email-and-password accounts.
const credentialProvider = "credential"

const userColumns = `id, name, email, email_verified, image, role, created_at, updated_at`

func scanUser(row scanner) (store.User, error) {
	var u store.User
	var created, updated int64
	if err := row.Scan(&u.ID, &u.Name, &u.Email, &u.EmailVerified, &u.Image, &u.Role, &created, &updated); err != nil {
		return store.User{}, err
	}
	u.CreatedAt, u.UpdatedAt = fromDB(created), fromDB(updated)
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
		return fmt.Errorf("sqlite: create user: account belongs to user %q, not %q", a.UserID, u.ID)
	}
	if u.Role == "" {
		u.Role = defaultRole
	}
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return wrap("create user", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx,
		`INSERT INTO users (`+userColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		u.ID, u.Name, u.Email, u.EmailVerified, u.Image, u.Role, toDB(u.CreatedAt), toDB(u.UpdatedAt)); err != nil {
		return wrap("create user", err)
	}
	if _, err := tx.ExecContext(ctx,
		`INSERT INTO accounts (id, account_id, provider_id, user_id, password_hash, created_at, updated_at)
		 VALUES (?, ?, ?, ?, ?, ?, ?)`,
		a.ID, a.AccountID, a.ProviderID, a.UserID, a.PasswordHash, toDB(a.CreatedAt), toDB(a.UpdatedAt)); err != nil {
		return wrap("create user: account", err)
	}
	if err := tx.Commit(); err != nil {
		return wrap("create user", err)
	}
	return nil
}

// UserByID returns the user with this id, or store.ErrNotFound.
func (s *Store) UserByID(ctx context.Context, id string) (store.User, error) {
	u, err := scanUser(s.read.QueryRowContext(ctx,
		`SELECT `+userColumns+` FROM users WHERE id = ?`, id))
	if err != nil {
		return store.User{}, wrap("user by id", err)
	}
	return u, nil
}

// UserByEmail returns the user with exactly this email, or store.ErrNotFound.
func (s *Store) UserByEmail(ctx context.Context, email string) (store.User, error) {
	u, err := scanUser(s.read.QueryRowContext(ctx,
		`SELECT `+userColumns+` FROM users WHERE email = ?`, email))
	if err != nil {
		return store.User{}, wrap("user by email", err)
	}
	return u, nil
}

// UsersByRole returns the users with this role, by email.
func (s *Store) UsersByRole(ctx context.Context, role string) ([]store.User, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT `+userColumns+` FROM users WHERE role = ? ORDER BY email`, role)
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
	res, err := s.write.ExecContext(ctx,
		`UPDATE users SET name = ?, image = ?, email_verified = ?, role = ?, updated_at = ? WHERE id = ?`,
		u.Name, u.Image, u.EmailVerified, u.Role, toDB(u.UpdatedAt), u.ID)
	if err != nil {
		return wrap("update user", err)
	}
	return mustAffect("update user", res)
}

// DeleteUser removes the user and, by cascade, its accounts, sessions,
// conversations, messages, feedback and usage; store.ErrNotFound if there is
// no such user.
func (s *Store) DeleteUser(ctx context.Context, id string) error {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return wrap("delete user", err)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `DELETE FROM users WHERE id = ?`, id)
	if err != nil {
		return wrap("delete user", err)
	}
	if err := mustAffect("delete user", res); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO deleted_users (id, deleted_at) VALUES (?, ?) ON CONFLICT (id) DO NOTHING`,
		id, toDB(time.Now())); err != nil {
		return wrap("delete user: tombstone", err)
	}
	// After the cascades, which took the reader's entries out of the
	// insights by this number (migration 0013).
	if _, err := tx.ExecContext(ctx, `DELETE FROM insights_readers WHERE user_id = ?`, id); err != nil {
		return wrap("delete user: reader number", err)
	}
	if err := tx.Commit(); err != nil {
		return wrap("delete user", err)
	}
	return nil
}

// CredentialAccount returns the user's "credential" account, or
// store.ErrNotFound.
func (s *Store) CredentialAccount(ctx context.Context, userID string) (store.Account, error) {
	var a store.Account
	var created, updated int64
	err := s.read.QueryRowContext(ctx,
		`SELECT id, account_id, provider_id, user_id, password_hash, created_at, updated_at
		 FROM accounts WHERE user_id = ? AND provider_id = ?
		 ORDER BY created_at, id LIMIT 1`, userID, credentialProvider).
		Scan(&a.ID, &a.AccountID, &a.ProviderID, &a.UserID, &a.PasswordHash, &created, &updated)
	if err != nil {
		return store.Account{}, wrap("credential account", err)
	}
	a.CreatedAt, a.UpdatedAt = fromDB(created), fromDB(updated)
	return a, nil
}

// SetPassword replaces the credential account's password hash;
// store.ErrNotFound if the user has no credential account.
func (s *Store) SetPassword(ctx context.Context, userID, hash string, now time.Time) error {
	res, err := s.write.ExecContext(ctx,
		`UPDATE accounts SET password_hash = ?, updated_at = ? WHERE user_id = ? AND provider_id = ?`,
		hash, toDB(now), userID, credentialProvider)
	if err != nil {
		return wrap("set password", err)
	}
	return mustAffect("set password", res)
}

const sessionColumns = `id, token_hash, user_id, expires_at, created_at, updated_at, ip_address, user_agent, dont_remember`

func scanSession(row scanner) (store.Session, error) {
	var x store.Session
	var expires, created, updated int64
	if err := row.Scan(&x.ID, &x.TokenHash, &x.UserID, &expires, &created, &updated,
		&x.IPAddress, &x.UserAgent, &x.DontRemember); err != nil {
		return store.Session{}, err
	}
	x.ExpiresAt, x.CreatedAt, x.UpdatedAt = fromDB(expires), fromDB(created), fromDB(updated)
	return x, nil
}

// CreateSession inserts a session; a duplicate id or token hash yields
// store.ErrConflict.
func (s *Store) CreateSession(ctx context.Context, x store.Session) error {
	if _, err := s.write.ExecContext(ctx,
		`INSERT INTO sessions (`+sessionColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		x.ID, x.TokenHash, x.UserID, toDB(x.ExpiresAt), toDB(x.CreatedAt), toDB(x.UpdatedAt),
		x.IPAddress, x.UserAgent, x.DontRemember); err != nil {
		return wrap("create session", err)
	}
	return nil
}

// SessionByTokenHash returns the session whatever its expiry, or
// store.ErrNotFound.
func (s *Store) SessionByTokenHash(ctx context.Context, hash []byte) (store.Session, error) {
	x, err := scanSession(s.read.QueryRowContext(ctx,
		`SELECT `+sessionColumns+` FROM sessions WHERE token_hash = ?`, hash))
	if err != nil {
		return store.Session{}, wrap("session by token hash", err)
	}
	return x, nil
}

// ExtendSession moves a session's expiry; store.ErrNotFound if it is gone.
func (s *Store) ExtendSession(ctx context.Context, id string, expiresAt, now time.Time) error {
	res, err := s.write.ExecContext(ctx,
		`UPDATE sessions SET expires_at = ?, updated_at = ? WHERE id = ?`,
		toDB(expiresAt), toDB(now), id)
	if err != nil {
		return wrap("extend session", err)
	}
	return mustAffect("extend session", res)
}

// ListSessions returns the user's sessions that expire after now, newest
// first.
func (s *Store) ListSessions(ctx context.Context, userID string, now time.Time) ([]store.Session, error) {
	rows, err := s.read.QueryContext(ctx,
		`SELECT `+sessionColumns+` FROM sessions
		 WHERE user_id = ? AND expires_at > ?
		 ORDER BY created_at DESC, id DESC`, userID, toDB(now))
	if err != nil {
		return nil, wrap("list sessions", err)
	}
	defer rows.Close()
	var out []store.Session
	for rows.Next() {
		x, err := scanSession(rows)
		if err != nil {
			return nil, wrap("list sessions", err)
		}
		out = append(out, x)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap("list sessions", err)
	}
	return out, nil
}

// DeleteSession removes session id of userID; store.ErrNotFound if there is no
// such session or it belongs to someone else.
func (s *Store) DeleteSession(ctx context.Context, userID, id string) error {
	res, err := s.write.ExecContext(ctx,
		`DELETE FROM sessions WHERE id = ? AND user_id = ?`, id, userID)
	if err != nil {
		return wrap("delete session", err)
	}
	return mustAffect("delete session", res)
}

// DeleteSessions removes all of userID's sessions except exceptID (which may
// be "" to remove them all).
func (s *Store) DeleteSessions(ctx context.Context, userID, exceptID string) error {
	if _, err := s.write.ExecContext(ctx,
		`DELETE FROM sessions WHERE user_id = ? AND id <> ?`, userID, exceptID); err != nil {
		return wrap("delete sessions", err)
	}
	return nil
}

// DeleteExpiredSessions removes sessions that have expired by now (those
// ListSessions no longer shows) and returns how many it removed.
func (s *Store) DeleteExpiredSessions(ctx context.Context, now time.Time) (int64, error) {
	res, err := s.write.ExecContext(ctx, `DELETE FROM sessions WHERE expires_at <= ?`, toDB(now))
	if err != nil {
		return 0, wrap("delete expired sessions", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, wrap("delete expired sessions", err)
	}
	return n, nil
}

// DeleteExpiredVerifications removes verifications that have expired by now.
func (s *Store) DeleteExpiredVerifications(ctx context.Context, now time.Time) (int64, error) {
	res, err := s.write.ExecContext(ctx, `DELETE FROM verifications WHERE expires_at <= ?`, toDB(now))
	if err != nil {
		return 0, wrap("delete expired verifications", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, wrap("delete expired verifications", err)
	}
	return n, nil
}

// CreateVerification inserts v; a duplicate identifier yields
// store.ErrConflict.
func (s *Store) CreateVerification(ctx context.Context, v store.Verification) error {
	if _, err := s.write.ExecContext(ctx,
		`INSERT INTO verifications (id, identifier, value, expires_at, created_at) VALUES (?, ?, ?, ?, ?)`,
		v.ID, v.Identifier, v.Value, toDB(v.ExpiresAt), toDB(v.CreatedAt)); err != nil {
		return wrap("create verification", err)
	}
	return nil
}

// ConsumeVerification deletes the verification with this identifier in one
// statement and returns it if it expires after now. An expired one is deleted
// too but yields store.ErrNotFound, as does an identifier already consumed.
func (s *Store) ConsumeVerification(ctx context.Context, identifier string, now time.Time) (store.Verification, error) {
	var v store.Verification
	var expires, created int64
	var live bool
	err := s.write.QueryRowContext(ctx,
		`DELETE FROM verifications WHERE identifier = ?
		 RETURNING id, identifier, value, expires_at, created_at, expires_at > ?`,
		identifier, toDB(now)).
		Scan(&v.ID, &v.Identifier, &v.Value, &expires, &created, &live)
	if err != nil {
		return store.Verification{}, wrap("consume verification", err)
	}
	if !live {
		return store.Verification{}, fmt.Errorf("sqlite: consume verification: expired: %w", store.ErrNotFound)
	}
	v.ExpiresAt, v.CreatedAt = fromDB(expires), fromDB(created)
	return v, nil
}

// DeleteVerifications removes every verification whose value is value and
// whose identifier starts with prefix (compared byte for byte, no wildcards).
func (s *Store) DeleteVerifications(ctx context.Context, prefix, value string) error {
	if _, err := s.write.ExecContext(ctx,
		`DELETE FROM verifications WHERE value = ? AND substr(identifier, 1, length(?)) = ?`,
		value, prefix, prefix); err != nil {
		return wrap("delete verifications", err)
	}
	return nil
}

// InsertSigningKey stores k; a duplicate id yields store.ErrConflict.
func (s *Store) InsertSigningKey(ctx context.Context, k store.SigningKey) error {
	if _, err := s.write.ExecContext(ctx,
		`INSERT INTO signing_keys (id, alg, public_jwk, private_key, created_at, retired_at)
		 VALUES (?, ?, ?, ?, ?, ?)`,
		k.ID, k.Alg, k.PublicJWK, k.PrivateKey, toDB(k.CreatedAt), toDBNull(k.RetiredAt)); err != nil {
		return wrap("insert signing key", err)
	}
	return nil
}

// SigningKeys returns every stored key, newest first.
func (s *Store) SigningKeys(ctx context.Context) ([]store.SigningKey, error) {
	rows, err := s.read.QueryContext(ctx,
		`SELECT id, alg, public_jwk, private_key, created_at, retired_at
		 FROM signing_keys ORDER BY created_at DESC, id DESC`)
	if err != nil {
		return nil, wrap("signing keys", err)
	}
	defer rows.Close()
	var out []store.SigningKey
	for rows.Next() {
		var k store.SigningKey
		var created int64
		var retired sql.NullInt64
		if err := rows.Scan(&k.ID, &k.Alg, &k.PublicJWK, &k.PrivateKey, &created, &retired); err != nil {
			return nil, wrap("signing keys", err)
		}
		k.CreatedAt, k.RetiredAt = fromDB(created), fromDBNull(retired)
		out = append(out, k)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap("signing keys", err)
	}
	return out, nil
}

// RetireSigningKeys marks every unretired key other than keepID as retired at
// at; keys already retired keep their earlier time.
func (s *Store) RetireSigningKeys(ctx context.Context, keepID string, at time.Time) error {
	if _, err := s.write.ExecContext(ctx,
		`UPDATE signing_keys SET retired_at = ? WHERE retired_at IS NULL AND id <> ?`,
		toDB(at), keepID); err != nil {
		return wrap("retire signing keys", err)
	}
	return nil
}

// DeleteSigningKeysRetiredBefore removes keys retired strictly before t and
// returns how many it removed. Current (unretired) keys are never removed.
func (s *Store) DeleteSigningKeysRetiredBefore(ctx context.Context, t time.Time) (int64, error) {
	res, err := s.write.ExecContext(ctx,
		`DELETE FROM signing_keys WHERE retired_at IS NOT NULL AND retired_at < ?`, toDB(t))
	if err != nil {
		return 0, wrap("delete retired signing keys", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, wrap("delete retired signing keys", err)
	}
	return n, nil
}
