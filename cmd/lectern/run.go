package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/lectern/lectern/internal/config"
	"github.com/lectern/lectern/internal/jsconfig"
	"github.com/lectern/lectern/internal/keys"
	"github.com/lectern/lectern/internal/store"
	"github.com/lectern/lectern/internal/store/postgres"
	"github.com/lectern/lectern/internal/store/sqlite"
)

const usage = `Lectern: a self-hosted reading companion.

Usage:
  lectern serve [flags]          the reader, identity service and API on one port
  lectern auth [flags]           the identity service alone
  lectern api [flags]            the API alone, verifying tokens against --jwks-url
  lectern web [flags]            the reader alone, its pages calling --api-url and --auth-url
  lectern ingest [--strict] PATH [flags]
                                 read a book (folder or .epub) into the database, listing
                                 its broken links; --strict refuses a book with any
  lectern eval [-v] [--json] [--book PATH] QA.jsonl… [--book PATH QA.jsonl…]…
                                 measure search and answers on evaluation sets, one table for several books
  lectern migrate [flags]        apply database migrations and exit
  lectern backup PATH [flags]    copy the SQLite database to PATH while it is in use
  lectern loadtest [flags]       drive a running Lectern with virtual readers and report latencies
  lectern keys rotate [flags]    make a new JWT signing key; older keys stay published until their tokens expire
  lectern keys list [flags]      list signing keys
  lectern admin grant EMAIL      make an account an owner of the book, who sees its insights
  lectern admin revoke EMAIL     make an owner a reader again
  lectern admin list             list the book's owners

Run "lectern help <command>" (or "lectern <command> -h") for the settings a
command reads; every flag can also be set through the environment variable
of the same name (--base-url is LECTERN_BASE_URL).
`

// run is the whole program; main only calls it, so tests can too.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if getenv(jsconfig.ChildEnv) == "1" {
		return jsconfig.Child(args, stdout) // the script sandbox: see scriptSandbox
	}
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errors.New("no command given")
	}
	err := dispatch(ctx, args[0], args[1:], getenv, stdout, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	return err
}

func dispatch(ctx context.Context, cmd string, rest []string, getenv func(string) string, stdout, stderr io.Writer) error {
	switch cmd {
	case "serve", "auth", "api", "web":
		return runServe(ctx, cmd, rest, getenv, stderr)
	case "migrate":
		return runMigrate(ctx, rest, getenv, stdout, stderr)
	case "ingest":
		return runIngest(ctx, rest, getenv, stdout, stderr, isTerminal(stderr))
	case "eval":
		return runEval(ctx, rest, getenv, stdout, stderr)
	case "backup":
		return runBackup(ctx, rest, getenv, stdout, stderr)
	case "loadtest":
		return runLoadtest(ctx, rest, getenv, stdout, stderr)
	case "keys":
		if len(rest) == 0 || (rest[0] != "rotate" && rest[0] != "list") {
			return errors.New(`keys: want "keys rotate" or "keys list"`)
		}
		return runKeys(ctx, rest[0], rest[1:], getenv, stdout, stderr)
	case "admin":
		if len(rest) == 0 || !slices.Contains([]string{"grant", "revoke", "list"}, rest[0]) {
			return errors.New(`admin: want "admin grant EMAIL", "admin revoke EMAIL" or "admin list"`)
		}
		return runAdmin(ctx, rest[0], rest[1:], getenv, stdout, stderr)
	case "help", "-h", "--help":
		if len(rest) > 0 && rest[0] != "help" && !strings.HasPrefix(rest[0], "-") {
			return dispatch(ctx, rest[0], append(rest[1:], "-h"), getenv, stdout, stdout)
		}
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", cmd)
}

// settingsOf returns the groups of settings that a command reads; its -h
// lists those and no others.
func settingsOf(cmd string) config.Group {
	switch cmd {
	case "serve":
		return config.All &^ config.JWKS
	case "auth":
		return config.Database | config.Listen | config.Accounts | config.Signing | config.Claims
	case "api":
		return config.Database | config.Listen | config.Claims | config.JWKS | config.Chat | config.Book | config.Model | config.Embeddings | config.Insights
	case "web":
		return config.Database | config.Listen | config.Book | config.Embeddings | config.Pages | config.Insights
	case "ingest":
		return config.Database | config.Book | config.Embeddings
	case "eval":
		return config.Database | config.Book | config.Model | config.Embeddings
	case "keys rotate", "keys list":
		return config.Database | config.Signing
	case "admin grant", "admin revoke", "admin list":
		return config.Database | config.Insights
	}
	return config.Database // migrate, backup
}

// parseConfig parses the command's flags and environment.
func parseConfig(name string, args []string, getenv func(string) string, stderr io.Writer) (*config.Config, error) {
	cfg, rest, err := config.Parse("lectern "+name, settingsOf(name), args, getenv, stderr)
	if err != nil {
		return nil, err
	}
	if len(rest) > 0 {
		return nil, fmt.Errorf("%s: unexpected arguments %q", name, rest)
	}
	return cfg, nil
}

func newLogger(cfg *config.Config, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// migrator is what both store engines offer besides store.Store.
type migrator interface {
	store.Store
	Migrate(ctx context.Context) ([]string, error)
}

// sharedLimits returns the counts every replica shares: the database's
// when the limits are shared (PostgreSQL, LECTERN_SHARED_LIMITS=on), nil
// when each process keeps its own.
func sharedLimits(cfg *config.Config, st store.Store) *postgres.Limits {
	if pg, ok := st.(*postgres.Store); ok && cfg.SharedLimits {
		return pg.Limits()
	}
	return nil
}

// sweepLimits deletes the shared counts that no longer carry state, and
// the answer places whose replica died, every minute until ctx ends.
func sweepLimits(ctx context.Context, l *postgres.Limits, log *slog.Logger) {
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if _, err := l.DeleteExpired(ctx, time.Now()); err != nil && ctx.Err() == nil {
			log.Warn("sweep expired shared limits", "err", err)
		}
	}
}

// openStore opens the configured database (PostgreSQL when a URL is set,
// SQLite in the data directory otherwise) and applies pending migrations.
func openStore(ctx context.Context, cfg *config.Config, log *slog.Logger) (store.Store, error) {
	var st migrator
	if cfg.DatabaseURL != "" {
		pg, err := postgres.Open(ctx, cfg.DatabaseURL)
		if err != nil {
			return nil, err
		}
		st = pg
	} else {
		if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
			return nil, fmt.Errorf("create data directory: %w", err)
		}
		lite, err := sqlite.Open(ctx, filepath.Join(cfg.DataDir, "lectern.db"))
		if err != nil {
			return nil, err
		}
		st = lite
	}
	applied, err := st.Migrate(ctx)
	if err != nil {
		st.Close()
		return nil, fmt.Errorf("migrate: %w", err)
	}
	for _, m := range applied {
		log.Info("applied migration", "version", m)
	}
	return st, nil
}

func runMigrate(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, err := parseConfig("migrate", args, getenv, stderr)
	if err != nil {
		return err
	}
	log := newLogger(cfg, stderr)
	st, err := openStore(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer st.Close()
	fmt.Fprintln(stdout, "database is up to date")
	return nil
}

// secret returns LECTERN_SECRET or, in development only, a secret generated
// once into the data directory, with a loud warning.
func secret(cfg *config.Config, log *slog.Logger) ([]byte, error) {
	if cfg.Secret != "" {
		if len(cfg.Secret) < config.MinSecretLen {
			log.Warn("LECTERN_SECRET is shorter than recommended", "min_length", config.MinSecretLen)
		}
		return []byte(cfg.Secret), nil
	}
	if cfg.Production() {
		return nil, errors.New("LECTERN_SECRET is required in production")
	}
	path := filepath.Join(cfg.DataDir, "secret")
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		raw := make([]byte, 48)
		rand.Read(raw)
		b = []byte(base64.RawURLEncoding.EncodeToString(raw))
		if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
			return nil, fmt.Errorf("create data directory: %w", err)
		}
		if err := os.WriteFile(path, b, 0o600); err != nil {
			return nil, fmt.Errorf("write generated secret: %w", err)
		}
	} else if err != nil {
		return nil, fmt.Errorf("read generated secret: %w", err)
	}
	log.Warn("LECTERN_SECRET is not set: using a generated development secret. "+
		"Set LECTERN_SECRET (and LECTERN_ENV=production) before real use; sessions and signing keys depend on it.",
		"file", path)
	return []byte(strings.TrimSpace(string(b))), nil
}

func newKeyring(ctx context.Context, cfg *config.Config, st store.Store, sec []byte) (*keys.Keyring, error) {
	return keys.New(ctx, st, keys.Options{Alg: cfg.JWTAlg, Secret: sec, TokenTTL: 15 * time.Minute, RefreshEvery: time.Minute})
}

func runKeys(ctx context.Context, sub string, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, err := parseConfig("keys "+sub, args, getenv, stderr)
	if err != nil {
		return err
	}
	log := newLogger(cfg, stderr)
	st, err := openStore(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer st.Close()
	sec, err := secret(cfg, log)
	if err != nil {
		return err
	}
	kr, err := newKeyring(ctx, cfg, st, sec)
	if err != nil {
		return err
	}
	if sub == "rotate" {
		k, err := kr.Rotate(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "new signing key %s (%s); previous keys stay in the JWKS until their tokens expire\n", k.ID, k.Alg)
		return nil
	}
	list, err := kr.List(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "KID\tALG\tCREATED\tRETIRED\tPUBLISHED")
	for _, k := range list {
		retired := "-"
		if k.RetiredAt != nil {
			retired = k.RetiredAt.UTC().Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%v\n", k.ID, k.Alg, k.CreatedAt.UTC().Format(time.RFC3339), retired, k.Published)
	}
	return tw.Flush()
}

// isTerminal reports whether w is a character device (a terminal), where a
// progress bar can redraw its line.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
