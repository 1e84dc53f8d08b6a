package postgres

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"strings"

	"github.com/jackc/pgx/v5"
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

// validMigrationName reports whether name has the shape NNNN_description.sql,
// with a lower-case description of letters, digits and underscores.
func validMigrationName(name string) bool {
	desc, ok := strings.CutSuffix(name, ".sql")
	if !ok || len(desc) < 6 || desc[4] != '_' {
		return false
	}
	for i, c := range desc {
		switch {
		case i < 4 && '0' <= c && c <= '9':
		case i >= 4 && ('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '_'):
		default:
			return false
		}
	}
	return true
}

// migration is one schema change: its version (the file name without .sql)
// and its SQL.
type migration struct {
	version string
	sql     string
}

// loadMigrations reads the embedded migrations in order, rejecting badly
// named files and two files sharing a number.
func loadMigrations() ([]migration, error) {
	entries, err := fs.ReadDir(migrationFiles, "migrations")
	if err != nil {
		return nil, err
	}
	var out []migration
	seen := map[string]string{}
	for _, e := range entries { // ReadDir sorts by name
		name := e.Name()
		if !validMigrationName(name) {
			return nil, fmt.Errorf("migration file %q is not named NNNN_description.sql", name)
		}
		if prev, ok := seen[name[:4]]; ok {
			return nil, fmt.Errorf("migrations %q and %q share a number", prev, name)
		}
		seen[name[:4]] = name
		body, err := fs.ReadFile(migrationFiles, path.Join("migrations", name))
		if err != nil {
			return nil, err
		}
		out = append(out, migration{version: strings.TrimSuffix(name, ".sql"), sql: string(body)})
	}
	return out, nil
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
	for _, m := range migrations {
		ok, err := s.apply(ctx, m)
		if err != nil {
			return applied, fmt.Errorf("postgres: migrate %s: %w", m.version, err)
		}
		if ok {
			applied = append(applied, m.version)
		}
	}
	return applied, nil
}

// apply runs m unless it is already recorded, reporting whether it ran.
func (s *Store) apply(ctx context.Context, m migration) (ran bool, err error) {
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
			`SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE version = $1)`, m.version).Scan(&done); err != nil {
			return err
		}
		if done {
			return nil
		}
		// Without arguments pgx uses the simple protocol, which accepts a
		// script of several statements.
		if _, err := tx.Exec(ctx, m.sql); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version) VALUES ($1)`, m.version); err != nil {
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
