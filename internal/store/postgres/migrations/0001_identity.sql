-- 0001_identity: users, their sign-in accounts, sessions, single-use
-- verifications and JWT signing keys.
--
-- Conventions for every PostgreSQL migration: ids are text, times timestamptz,
-- flags boolean, binary values bytea.

CREATE TABLE users (
    id             text        PRIMARY KEY,
    name           text        NOT NULL,
    email          text        NOT NULL UNIQUE,
    email_verified boolean     NOT NULL DEFAULT false,
    image          text,
    role           text        NOT NULL DEFAULT 'user',
    created_at     timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL
);

CREATE TABLE accounts (
    id            text        PRIMARY KEY,
    account_id    text        NOT NULL,
    provider_id   text        NOT NULL,
    user_id       text        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    password_hash text        NOT NULL DEFAULT '',
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL,
    UNIQUE (provider_id, account_id)
);

CREATE INDEX accounts_user_id_idx ON accounts (user_id);

CREATE TABLE sessions (
    id            text        PRIMARY KEY,
    token_hash    bytea       NOT NULL UNIQUE,
    user_id       text        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    expires_at    timestamptz NOT NULL,
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL,
    ip_address    text        NOT NULL DEFAULT '',
    user_agent    text        NOT NULL DEFAULT '',
    dont_remember boolean     NOT NULL DEFAULT false
);

CREATE INDEX sessions_user_id_idx ON sessions (user_id);
CREATE INDEX sessions_expires_at_idx ON sessions (expires_at);

CREATE TABLE verifications (
    id         text        PRIMARY KEY,
    identifier text        NOT NULL UNIQUE,
    value      text        NOT NULL,
    expires_at timestamptz NOT NULL,
    created_at timestamptz NOT NULL
);

CREATE INDEX verifications_value_idx ON verifications (value);
CREATE INDEX verifications_expires_at_idx ON verifications (expires_at);

CREATE TABLE signing_keys (
    id          text        PRIMARY KEY,
    alg         text        NOT NULL,
    public_jwk  bytea       NOT NULL,
    private_key bytea       NOT NULL,
    created_at  timestamptz NOT NULL,
    retired_at  timestamptz
);
