package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/lectern/lectern/internal/store/sqlite"
)

// runBackup is "lectern backup PATH": a consistent copy of the SQLite
// database, taken while Lectern keeps serving. PostgreSQL has its own tools
// for this (pg_dump, or base backups with WAL archiving); the command says
// so instead of half-doing their job.
func runBackup(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, path, err := parseWithPath("backup", args, getenv, stderr)
	if err != nil {
		return err
	}
	if cfg.DatabaseURL != "" {
		return errors.New("backup: the database is PostgreSQL; back it up with pg_dump (see docs/deploy.md, \"Backups\")")
	}
	db := filepath.Join(cfg.DataDir, "lectern.db")
	if _, err := os.Stat(db); errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("backup: no database at %s (set --data-dir or LECTERN_DATA_DIR)", db)
	}
	// Opened without migrating: a backup must not change the database it
	// copies, even when this binary is newer than the one serving it.
	st, err := sqlite.Open(ctx, db)
	if err != nil {
		return err
	}
	defer st.Close()
	start := time.Now()
	info, err := st.Backup(ctx, path)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "backed up %s to %s (%d bytes, %s)\n", db, info.Path, info.Bytes, time.Since(start).Round(time.Millisecond))
	return nil
}
