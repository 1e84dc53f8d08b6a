package store

import (
	"context"
	"fmt"
	"io/fs"
	"path"
	"strings"
)

// Migration is one schema change of an engine: its version (the file name
// without .sql) and its SQL.
type Migration struct {
	Version string
	SQL     string
}

// LoadMigrations reads the migrations in dir of fsys (an engine's embedded
// files), in file-name order. Each file must be named
// NNNN_description.sql, with a lower-case description of letters, digits
// and underscores, and no two may share a number.
func LoadMigrations(fsys fs.FS, dir string) ([]Migration, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, err
	}
	var out []Migration
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
		body, err := fs.ReadFile(fsys, path.Join(dir, name))
		if err != nil {
			return nil, err
		}
		out = append(out, Migration{Version: strings.TrimSuffix(name, ".sql"), SQL: string(body)})
	}
	return out, nil
}

// validMigrationName reports whether name has the shape NNNN_description.sql.
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

// Migrate applies each of migrations in order with apply, which runs one
// unless it is already recorded and reports whether it ran, and returns
// the versions applied. Errors name the engine and the version.
func Migrate(ctx context.Context, engine string, migrations []Migration, apply func(context.Context, Migration) (bool, error)) ([]string, error) {
	var applied []string
	for _, m := range migrations {
		ran, err := apply(ctx, m)
		if err != nil {
			return applied, fmt.Errorf("%s: migrate %s: %w", engine, m.Version, err)
		}
		if ran {
			applied = append(applied, m.Version)
		}
	}
	return applied, nil
}
