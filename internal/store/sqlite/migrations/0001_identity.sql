-- 0001_identity: users, their sign-in accounts, sessions, single-use
-- verifications and JWT signing keys.
--
-- Conventions for every SQLite migration:
--   * times are INTEGER microseconds since the Unix epoch (UTC), so they sort
--     numerically and match PostgreSQL's timestamptz precision;
--   * booleans are INTEGER 0/1;
--   * binary values are BLOB;
--   * tables are STRICT, so a value of the wrong type is an error.

CREATE TABLE users (
    id             TEXT    NOT NULL PRIMARY KEY,
    name           TEXT    NOT NULL,
    email          TEXT    NOT NULL UNIQUE,
    email_verified INTEGER NOT NULL DEFAULT 0 CHECK (email_verified IN (0, 1)),
    image          TEXT,
    role           TEXT    NOT NULL DEFAULT 'user',
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL
) STRICT;

CREATE TABLE accounts (
    id            TEXT    NOT NULL PRIMARY KEY,
    account_id    TEXT    NOT NULL,
    provider_id   TEXT    NOT NULL,
    user_id       TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    password_hash TEXT    NOT NULL DEFAULT '',
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    UNIQUE (provider_id, account_id)
) STRICT;

CREATE INDEX accounts_user_id_idx ON accounts (user_id);

CREATE TABLE sessions (
    id            TEXT    NOT NULL PRIMARY KEY,
    token_hash    BLOB    NOT NULL UNIQUE,
    user_id       TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    expires_at    INTEGER NOT NULL,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    ip_address    TEXT    NOT NULL DEFAULT '',
    user_agent    TEXT    NOT NULL DEFAULT '',
    dont_remember INTEGER NOT NULL DEFAULT 0 CHECK (dont_remember IN (0, 1))
) STRICT;

CREATE INDEX sessions_user_id_idx ON sessions (user_id);
CREATE INDEX sessions_expires_at_idx ON sessions (expires_at);

CREATE TABLE verifications (
    id         TEXT    NOT NULL PRIMARY KEY,
    identifier TEXT    NOT NULL UNIQUE,
    value      TEXT    NOT NULL,
    expires_at INTEGER NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;

CREATE INDEX verifications_value_idx ON verifications (value);
CREATE INDEX verifications_expires_at_idx ON verifications (expires_at);

CREATE TABLE signing_keys (
    id          TEXT    NOT NULL PRIMARY KEY,
    alg         TEXT    NOT NULL,
    public_jwk  BLOB    NOT NULL,
    private_key BLOB    NOT NULL,
    created_at  INTEGER NOT NULL,
    retired_at  INTEGER
) STRICT;
