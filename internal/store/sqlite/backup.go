package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// BackupInfo describes a finished backup.
type BackupInfo struct {
	Path  string
	Bytes int64
}

// Backup writes a consistent copy of the database to path while the store
// stays in use. The copy is made by VACUUM INTO inside one read transaction,
// so it is the database as of one instant, whatever writers do meanwhile,
// and it is compact (no WAL, no free pages). It goes to a temporary file
// next to path that is checked (PRAGMA integrity_check), synced and only
// then renamed into place, so path never holds a partial backup. An
// existing path is not overwritten.
func (s *Store) Backup(ctx context.Context, path string) (BackupInfo, error) {
	if path == "" || strings.ContainsAny(path, "?#") {
		return BackupInfo{}, fmt.Errorf("sqlite: backup: need a plain file path, got %q", path)
	}
	if _, err := os.Lstat(path); err == nil {
		return BackupInfo{}, fmt.Errorf("sqlite: backup: %s already exists", path)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return BackupInfo{}, fmt.Errorf("sqlite: backup: %w", err)
	}
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return BackupInfo{}, fmt.Errorf("sqlite: backup: %w", err)
	}
	tmpPath := tmp.Name()
	tmp.Close()
	// VACUUM INTO wants a file that does not exist or is empty; keep the
	// name reserved by the empty file and remove it on any failure.
	done := false
	defer func() {
		if !done {
			os.Remove(tmpPath)
		}
	}()

	// A connection of its own: the read pool is query_only, which VACUUM
	// INTO refuses, and the write connection would hold up every writer.
	src, err := sql.Open("sqlite", dsn(s.path, false))
	if err != nil {
		return BackupInfo{}, fmt.Errorf("sqlite: backup: %w", err)
	}
	defer src.Close()
	if _, err := src.ExecContext(ctx, "VACUUM INTO ?", tmpPath); err != nil {
		return BackupInfo{}, fmt.Errorf("sqlite: backup: %w", err)
	}
	if err := checkIntegrity(ctx, tmpPath); err != nil {
		return BackupInfo{}, fmt.Errorf("sqlite: backup: %w", err)
	}
	if err := syncFile(tmpPath); err != nil {
		return BackupInfo{}, fmt.Errorf("sqlite: backup: %w", err)
	}
	// os.Link fails if path appeared meanwhile, where a rename would
	// silently replace it.
	if err := os.Link(tmpPath, path); err != nil {
		return BackupInfo{}, fmt.Errorf("sqlite: backup: %w", err)
	}
	os.Remove(tmpPath)
	done = true
	if err := syncFile(dir); err != nil {
		return BackupInfo{}, fmt.Errorf("sqlite: backup: %w", err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		return BackupInfo{}, fmt.Errorf("sqlite: backup: %w", err)
	}
	return BackupInfo{Path: path, Bytes: fi.Size()}, nil
}

// checkIntegrity opens the database file at path read-only and runs SQLite's
// full integrity check on it.
func checkIntegrity(ctx context.Context, path string) error {
	db, err := sql.Open("sqlite", path+"?mode=ro&_pragma=query_only(ON)")
	if err != nil {
		return err
	}
	defer db.Close()
	rows, err := db.QueryContext(ctx, "PRAGMA integrity_check")
	if err != nil {
		return fmt.Errorf("integrity check: %w", err)
	}
	defer rows.Close()
	var problems []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			return fmt.Errorf("integrity check: %w", err)
		}
		if line != "ok" {
			problems = append(problems, line)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("integrity check: %w", err)
	}
	if len(problems) > 0 {
		return fmt.Errorf("integrity check of the copy failed: %s", strings.Join(problems, "; "))
	}
	return nil
}

func syncFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}
