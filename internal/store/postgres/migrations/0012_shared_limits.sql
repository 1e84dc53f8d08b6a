-- 0012_shared_limits: the counts every replica shares, so that replicas
-- behind a load balancer enforce one limit between them (ratelimit.Shared).
--
-- Unlogged: written on every sign-in and question, never worth a WAL
-- record; after a crash the table comes back empty, which forgets some
-- counts a little early, as a restart of one process always did.

-- A rate-limit or lockout count: "r|…" keys follow Better Auth's request
-- window, "f|…" keys the sign-in failures' fixed window. Times are
-- microseconds since the Unix epoch, the callers' clocks.
CREATE UNLOGGED TABLE rate_limits (
    key        text   PRIMARY KEY,
    start_us   bigint NOT NULL, -- the last allowed request, or the first failure
    count      integer NOT NULL,
    expires_us bigint NOT NULL  -- after this the row carries no state
);

CREATE INDEX rate_limits_expires_idx ON rate_limits (expires_us);

-- The places for answers being written, across replicas, for the bound on
-- concurrent answers (LECTERN_MAX_ANSWERS): place numbers 0 to the bound
-- minus one, so that the primary key itself keeps the count within it. A
-- replica that dies leaves its places to expire.
CREATE UNLOGGED TABLE answer_slots (
    slot       integer PRIMARY KEY,
    id         text    NOT NULL UNIQUE, -- the answer holding it
    expires_us bigint  NOT NULL
);
