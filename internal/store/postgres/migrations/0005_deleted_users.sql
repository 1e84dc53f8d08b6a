-- 0005_deleted_users: the ids of deleted accounts. A token issued before the
-- deletion is still validly signed until it expires; the API refuses it by
-- this list instead of copying its user back (store.ErrDeleted), so a
-- deleted account never comes back nor takes a later account's email.

CREATE TABLE deleted_users (
    id         text        PRIMARY KEY,
    deleted_at timestamptz NOT NULL DEFAULT now()
);
