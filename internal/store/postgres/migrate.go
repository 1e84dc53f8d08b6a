package postgres

import (
	"context"
	"embed"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/lectern/lectern/internal/store"
)

// migrationFiles holds the schema migrations, applied in file-name order.
// Each is named NNNN_description.sql and runs inside one transaction, so it
// must not contain BEGIN/COMMIT or statements that refuse to run in one
// (such as CREATE INDEX CONCURRENTLY).
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

// migrationLockKey identifies Lectern's migrations among advisory locks
// ("lectern" in ASCII).
const migrationLockKey int64 = 0x6c656374_65726e

// loadMigrations reads the embedded migrations in order.
func loadMigrations() ([]store.Migration, error) {
	return store.LoadMigrations(migrationFiles, "migrations")
}

// Migrate brings the schema up to date and returns the versions it applied
// (none when already current). Each migration runs in its own transaction
// holding a transaction-scoped advisory lock, and re-checks schema_migrations
// once it holds the lock, so concurrent migrators (say, several replicas
// starting together) apply each migration exactly once.
func (s *Store) Migrate(ctx context.Context) (applied []string, err error) {
	migrations, err := loadMigrations()
	if err != nil {
		return nil, fmt.Errorf("postgres: migrate: %w", err)
	}
	return store.Migrate(ctx, "postgres", migrations, s.apply)
}

// apply runs m unless it is already recorded, reporting whether it ran.
func (s *Store) apply(ctx context.Context, m store.Migration) (ran bool, err error) {
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, migrationLockKey); err != nil {
			return err
		}
		// Created under the lock: concurrent CREATE TABLE IF NOT EXISTS can
		// otherwise fail on the catalog's unique indexes.
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
			version    text        PRIMARY KEY,
			applied_at timestamptz NOT NULL DEFAULT now()
		)`); err != nil {
			return err
		}
		var done bool
		if err := tx.QueryRow(ctx,
			`SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE version = $1)`, m.Version).Scan(&done); err != nil {
			return err
		}
		if done {
			return nil
		}
		// Without arguments pgx uses the simple protocol, which accepts a
		// script of several statements.
		if _, err := tx.Exec(ctx, m.SQL); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version) VALUES ($1)`, m.Version); err != nil {
			return err
		}
		ran = true
		return nil
	})
	if err != nil {
		return false, err
	}
	return ran, nil
}
