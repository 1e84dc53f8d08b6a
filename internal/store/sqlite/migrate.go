package sqlite

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"strings"
	"time"
)

// migrationFiles holds the schema migrations, applied in file-name order.
// Each is named NNNN_description.sql and runs inside one transaction, so it
// must not contain BEGIN/COMMIT or PRAGMA foreign_keys (a no-op inside a
// transaction); a migration that rebuilds a table should use
// PRAGMA defer_foreign_keys = ON instead.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

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
	for _, m := range migrations {
		ok, err := s.apply(ctx, m)
		if err != nil {
			return applied, fmt.Errorf("sqlite: migrate %s: %w", m.version, err)
		}
		if ok {
			applied = append(applied, m.version)
		}
	}
	return applied, nil
}

// apply runs m unless it is already recorded, reporting whether it ran.
func (s *Store) apply(ctx context.Context, m migration) (bool, error) {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return false, err
	}
	defer tx.Rollback()

	var done bool
	if err := tx.QueryRowContext(ctx,
		`SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE version = ?)`, m.version).Scan(&done); err != nil {
		return false, err
	}
	if done {
		return false, nil
	}
	if _, err := tx.ExecContext(ctx, m.sql); err != nil {
		return false, err
	}
	if _, err := tx.ExecContext(ctx,
		`INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`,
		m.version, toDB(time.Now())); err != nil {
		return false, err
	}
	return true, tx.Commit()
}
