package sqlite

import (
	"context"
	"embed"
	"fmt"
	"time"

	"github.com/lectern/lectern/internal/store"
)

// migrationFiles holds the schema migrations, applied in file-name order.
// Each is named NNNN_description.sql and runs inside one transaction, so it
// must not contain BEGIN/COMMIT or PRAGMA foreign_keys (a no-op inside a
// transaction); a migration that rebuilds a table should use
// PRAGMA defer_foreign_keys = ON instead.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

// loadMigrations reads the embedded migrations in order.
func loadMigrations() ([]store.Migration, error) {
	return store.LoadMigrations(migrationFiles, "migrations")
}

// Migrate brings the schema up to date and returns the versions it applied
// (none when already current). Each migration runs in its own IMMEDIATE
// transaction that re-checks schema_migrations after taking the write lock, so
// processes starting at once apply each migration exactly once.
func (s *Store) Migrate(ctx context.Context) (applied []string, err error) {
	migrations, err := loadMigrations()
	if err != nil {
		return nil, fmt.Errorf("sqlite: migrate: %w", err)
	}
	if _, err := s.write.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    TEXT    NOT NULL PRIMARY KEY,
		applied_at INTEGER NOT NULL
	) STRICT`); err != nil {
		return nil, fmt.Errorf("sqlite: migrate: create schema_migrations: %w", err)
	}
	return store.Migrate(ctx, "sqlite", migrations, s.apply)
}

// apply runs m unless it is already recorded, reporting whether it ran.
func (s *Store) apply(ctx context.Context, m store.Migration) (bool, error) {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return false, err
	}
	defer tx.Rollback()

	var done bool
	if err := tx.QueryRowContext(ctx,
		`SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE version = ?)`, m.Version).Scan(&done); err != nil {
		return false, err
	}
	if done {
		return false, nil
	}
	if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
		return false, err
	}
	if _, err := tx.ExecContext(ctx,
		`INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`,
		m.Version, toDB(time.Now())); err != nil {
		return false, err
	}
	return true, tx.Commit()
}
