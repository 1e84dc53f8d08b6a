// Command insights seeds a Lectern database with a large, realistic history
// of readers' questions and times the book owners' insights on it: the
// volume by day, the questions the book did not cover (grouped), the
// answers rated down, the pages asked from and the sections cited, each
// through the code path the server uses.
//
// It opens the database with the store's own Open and Migrate, so the schema
// is the product's, then seeds it with bulk SQL straight into the real
// tables: readers, their conversations, one question and one answer per
// turn spread over the last -days days, the citations the answers' sources
// give (filled by the schema's own trigger) and the readers' ratings. The
// insights' own triggers (migration 0011) are set aside while the messages
// load, and insights_rebuild counts what they would have counted, once. A
// database already seeded with the same parameters is reused, so the timing
// can be repeated; -reseed seeds it again from scratch (on SQLite by
// removing the file, on PostgreSQL by emptying the readers' tables).
//
// Each view is read once to warm up and then -runs times, for the default
// span (the last 30 days) and for the whole seeded span; the command prints
// a markdown table of the median and slowest run, the time the seeding
// took, the database's size and its row counts.
//
//	go run ./bench/insights -engine sqlite -db /tmp/insights.db -questions 1000000 -readers 10000 -days 90
//
//	createdb -h 127.0.0.1 -U postgres lectern_insightsbench
//	go run ./bench/insights -engine postgres -db postgres://postgres@127.0.0.1:5432/lectern_insightsbench \
//		-questions 1000000 -readers 10000 -days 90
//	dropdb -h 127.0.0.1 -U postgres lectern_insightsbench
//
// -cpuprofile writes a CPU profile of the timed reads (not the seeding), for
// go tool pprof.
package main

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"os/signal"
	"runtime/pprof"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	_ "modernc.org/sqlite" // the driver the store uses, for the seeding connection

	"github.com/lectern/lectern/internal/insights"
	"github.com/lectern/lectern/internal/retrieval"
	"github.com/lectern/lectern/internal/store"
	"github.com/lectern/lectern/internal/store/postgres"
	"github.com/lectern/lectern/internal/store/sqlite"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "insights bench:", err)
		os.Exit(1)
	}
}

// config is the command line.
type config struct {
	engine     string
	db         string
	questions  int
	readers    int
	days       int
	runs       int
	writes     int
	seed       uint64
	reseed     bool
	cpuprofile string
}

func parseFlags(args []string, getenv func(string) string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("insights", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.engine, "engine", "sqlite", "the storage engine: sqlite or postgres")
	fs.StringVar(&c.db, "db", "", "the SQLite file, or the PostgreSQL URL (default: $LECTERN_DATABASE_URL for postgres)")
	fs.IntVar(&c.questions, "questions", 1_000_000, "questions to store, each with its answer")
	fs.IntVar(&c.readers, "readers", 10_000, "readers who asked them")
	fs.IntVar(&c.days, "days", 90, "days, ending today, the questions are spread over")
	fs.IntVar(&c.runs, "runs", 5, "timed reads of each view and span, after one warm-up")
	fs.Uint64Var(&c.seed, "seed", 1, "seed of the generated data")
	fs.BoolVar(&c.reseed, "reseed", false, "seed again even if the database holds the same data")
	fs.StringVar(&c.cpuprofile, "cpuprofile", "", "write a CPU profile of the timed reads to this file")
	fs.IntVar(&c.writes, "writes", 0, "then time this many questions and their answers stored, and their conversations deleted")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: insights -engine sqlite|postgres -db PATH|URL [flags]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	switch c.engine {
	case "sqlite":
		if c.db == "" {
			return c, errors.New("-db: the SQLite file is required (keep it outside the repository, e.g. /tmp/insights.db)")
		}
	case "postgres":
		if c.db == "" {
			c.db = getenv("LECTERN_DATABASE_URL")
		}
		if c.db == "" {
			return c, errors.New("-db: the PostgreSQL URL is required")
		}
	default:
		return c, fmt.Errorf("-engine: %q is neither sqlite nor postgres", c.engine)
	}
	switch {
	case c.readers < 1:
		return c, errors.New("-readers must be at least 1")
	case c.questions < c.readers:
		return c, errors.New("-questions must be at least -readers: every reader asks")
	case c.days < 1 || c.days > 366:
		return c, errors.New("-days must be between 1 and 366")
	case c.runs < 1:
		return c, errors.New("-runs must be at least 1")
	case c.writes < 0:
		return c, errors.New("-writes must not be negative")
	}
	return c, nil
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, err := parseFlags(args, getenv, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	progress := func(format string, a ...any) { fmt.Fprintf(stderr, format+"\n", a...) }

	tg, err := open(ctx, cfg)
	if err != nil {
		return err
	}
	defer tg.close()

	marker := fmt.Sprintf("Insights bench owner: %d questions, %d readers, %d days, seed %d",
		cfg.questions, cfg.readers, cfg.days, cfg.seed)
	owner, err := tg.st.UserByEmail(ctx, ownerEmail)
	seeded := err == nil && owner.Name == marker
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("look for the seeded data: %w", err)
	}
	seedTime := time.Duration(0)
	if seeded && !cfg.reseed {
		progress("the database holds the data already, seeded on %s; -reseed seeds it again", owner.CreatedAt.Format(time.DateOnly))
	} else {
		n, err := tg.db.count(ctx, `SELECT count(*) FROM users`)
		if err != nil {
			return err
		}
		if n > 0 {
			if !cfg.reseed {
				return fmt.Errorf("the database holds %d users but not this bench's data: -reseed replaces them", n)
			}
			progress("emptying the readers' tables")
			if err := tg.db.wipe(ctx); err != nil {
				return err
			}
		}
		start := time.Now()
		p := newPlan(cfg, time.Now(), progress)
		progress("planned %d questions of %d readers in %d conversations (%.1f s)",
			len(p.questions), cfg.readers, len(p.convs), time.Since(start).Seconds())
		if err := seed(ctx, tg.db, p, marker, progress); err != nil {
			return err
		}
		seedTime = time.Since(start)
		progress("seeded in %.1f s", seedTime.Seconds())
		if owner, err = tg.st.UserByEmail(ctx, ownerEmail); err != nil {
			return fmt.Errorf("find the owner: %w", err)
		}
	}

	counts, err := countRows(ctx, tg.db)
	if err != nil {
		return err
	}
	size, err := tg.db.size(ctx)
	if err != nil {
		return err
	}

	if cfg.cpuprofile != "" {
		f, err := os.Create(cfg.cpuprofile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
	}
	results, err := timeViews(ctx, cfg, tg.st, owner, progress)
	if cfg.cpuprofile != "" {
		pprof.StopCPUProfile()
	}
	if err != nil {
		return err
	}

	var writes []result
	if cfg.writes > 0 {
		if writes, err = timeWrites(ctx, cfg, tg.st, progress); err != nil {
			return err
		}
	}

	fmt.Fprintf(stdout, "## %s: %d questions, %d readers, %d days\n\n", tg.name, cfg.questions, cfg.readers, cfg.days)
	if seedTime > 0 {
		fmt.Fprintf(stdout, "Seeded in %.1f s. ", seedTime.Seconds())
	} else {
		fmt.Fprintf(stdout, "Seeded earlier (%s). ", owner.CreatedAt.Format(time.DateOnly))
	}
	fmt.Fprintf(stdout, "Database size: %s.\n\n", mib(size))
	fmt.Fprintln(stdout, "| table | rows |")
	fmt.Fprintln(stdout, "|---|---:|")
	for _, c := range counts {
		fmt.Fprintf(stdout, "| %s | %s |\n", c.what, thousands(c.n))
	}
	fmt.Fprintln(stdout)
	fmt.Fprintf(stdout, "Medians and maxima of %d runs after one warm-up:\n\n", cfg.runs)
	fmt.Fprintln(stdout, "| engine | view | span | median ms | max ms | result |")
	fmt.Fprintln(stdout, "|---|---|---|---:|---:|---|")
	for _, r := range results {
		fmt.Fprintf(stdout, "| %s | %s | %s | %.1f | %.1f | %s |\n", tg.name, r.view, r.span, ms(r.median), ms(r.max), r.result)
	}
	if len(writes) > 0 {
		fmt.Fprintf(stdout, "\nWrites, one at a time, %d of each (median, 90th percentile and slowest):\n\n", cfg.writes)
		fmt.Fprintln(stdout, "| engine | write | median ms | p90 ms | max ms |")
		fmt.Fprintln(stdout, "|---|---|---:|---:|---:|")
		for _, r := range writes {
			fmt.Fprintf(stdout, "| %s | %s | %.2f | %.2f | %.2f |\n", tg.name, r.view, ms(r.median), ms(r.p90), ms(r.max))
		}
	}
	return nil
}

// ownerEmail is the seeded owner's, listed in the insights' AdminEmails.
const ownerEmail = "owner@insights-bench.example"

// target is the database under test: the product's store, for the timed
// reads, and a second handle on the same database, for the seeding.
type target struct {
	name string
	st   benchStore
	db   seedDB
}

func (t *target) close() {
	t.db.close()
	t.st.Close()
}

// benchStore is what the bench needs of a store.
type benchStore interface {
	store.Store
	Migrate(ctx context.Context) ([]string, error)
}

// open opens the store with the product's Open and Migrate, and the seeding
// handle beside it.
func open(ctx context.Context, cfg config) (*target, error) {
	switch cfg.engine {
	case "sqlite":
		if cfg.reseed {
			for _, suffix := range []string{"", "-wal", "-shm"} {
				if err := os.Remove(cfg.db + suffix); err != nil && !errors.Is(err, os.ErrNotExist) {
					return nil, err
				}
			}
		}
		st, err := sqlite.Open(ctx, cfg.db)
		if err != nil {
			return nil, err
		}
		if _, err := st.Migrate(ctx); err != nil {
			st.Close()
			return nil, err
		}
		db, err := openSQLite(cfg.db)
		if err != nil {
			st.Close()
			return nil, err
		}
		return &target{name: "SQLite", st: st, db: db}, nil
	default:
		st, err := postgres.Open(ctx, cfg.db)
		if err != nil {
			return nil, err
		}
		if _, err := st.Migrate(ctx); err != nil {
			st.Close()
			return nil, err
		}
		return &target{name: "PostgreSQL", st: st, db: &pgDB{pool: st.Pool()}}, nil
	}
}

// seedDB writes rows in bulk and answers the bench's own questions.
type seedDB interface {
	// insert writes n rows of table, row(i) giving the values of cols
	// (times as time.Time, flags as bool, JSON as []byte, NULL as nil),
	// and reports each batch written to progress.
	insert(ctx context.Context, table string, cols []string, n int, row func(i int) []any, progress func(done int)) error
	count(ctx context.Context, query string) (int64, error)
	// wipe deletes every user and all that belongs to them.
	wipe(ctx context.Context) error
	// bulk runs load, a bulk load of the messages, and brings what the
	// schema derives from them up to date.
	bulk(ctx context.Context, load func() error) error
	// settle brings the database to the state it would be in after a
	// while in service, once the seeding is done.
	settle(ctx context.Context) error
	size(ctx context.Context) (int64, error)
	close() error
}

// sqliteDB seeds an SQLite database through its own connection, with the
// pragmas the store sets, and a larger page cache for the bulk load.
type sqliteDB struct {
	path string
	db   *sql.DB
}

// sqliteBatch is how many rows one SQLite transaction writes.
const sqliteBatch = 50_000

func openSQLite(path string) (*sqliteDB, error) {
	dsn := path + "?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(ON)" +
		"&_pragma=synchronous(NORMAL)&_pragma=cache_size(-262144)&_pragma=temp_store(MEMORY)&_txlock=immediate"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	return &sqliteDB{path: path, db: db}, nil
}

func (s *sqliteDB) insert(ctx context.Context, table string, cols []string, n int, row func(i int) []any, progress func(int)) error {
	q := fmt.Sprintf("INSERT INTO %s (%s) VALUES (?%s)", table, strings.Join(cols, ", "), strings.Repeat(", ?", len(cols)-1))
	for lo := 0; lo < n; lo += sqliteBatch {
		hi := min(n, lo+sqliteBatch)
		if err := s.batch(ctx, q, lo, hi, row); err != nil {
			return fmt.Errorf("insert into %s: %w", table, err)
		}
		progress(hi)
	}
	return nil
}

func (s *sqliteDB) batch(ctx context.Context, q string, lo, hi int, row func(i int) []any) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	stmt, err := tx.PrepareContext(ctx, q)
	if err != nil {
		return err
	}
	defer stmt.Close()
	for i := lo; i < hi; i++ {
		vals := row(i)
		for j, v := range vals {
			switch v := v.(type) {
			case time.Time:
				vals[j] = v.UnixMicro()
			case bool:
				vals[j] = 0
				if v {
					vals[j] = 1
				}
			case []byte:
				vals[j] = string(v) // JSON is TEXT
			}
		}
		if _, err := stmt.ExecContext(ctx, vals...); err != nil {
			return err
		}
	}
	return tx.Commit()
}

func (s *sqliteDB) count(ctx context.Context, query string) (int64, error) {
	var n int64
	err := s.db.QueryRowContext(ctx, query).Scan(&n)
	return n, err
}

func (s *sqliteDB) wipe(ctx context.Context) error {
	return errors.New("sqlite: -reseed removes the file before opening it; this one still holds other users")
}

// bulk runs load with the insights' triggers on messages and citations
// (migration 0011) dropped, which halves its time, then creates them again
// as they were and counts through the view insights_rebuild what they
// would have counted. The citations' own trigger (migration 0010) stays.
func (s *sqliteDB) bulk(ctx context.Context, load func() error) error {
	rows, err := s.db.QueryContext(ctx, `SELECT name, sql FROM sqlite_schema
		WHERE type = 'trigger' AND name LIKE 'insights\_%' ESCAPE '\' AND tbl_name IN ('messages', 'citations') ORDER BY name`)
	if err != nil {
		return err
	}
	var names, defs []string
	for rows.Next() {
		var name, def string
		if err := rows.Scan(&name, &def); err != nil {
			rows.Close()
			return err
		}
		names, defs = append(names, name), append(defs, def)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, name := range names {
		if _, err := s.db.ExecContext(ctx, `DROP TRIGGER `+name); err != nil {
			return err
		}
	}
	loadErr := load()
	for _, def := range defs {
		if _, err := s.db.ExecContext(ctx, def); err != nil {
			return errors.Join(loadErr, err)
		}
	}
	if loadErr != nil || len(defs) == 0 {
		return loadErr
	}
	_, err = s.db.ExecContext(ctx, `INSERT INTO insights_rebuild (requested) VALUES (1)`)
	return err
}

// settle moves the write-ahead log into the database file. SQLite's
// statistics are left as the product leaves them: it never runs ANALYZE.
func (s *sqliteDB) settle(ctx context.Context) error {
	_, err := s.db.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)")
	return err
}

func (s *sqliteDB) size(ctx context.Context) (int64, error) {
	var total int64
	for _, suffix := range []string{"", "-wal"} {
		fi, err := os.Stat(s.path + suffix)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return 0, err
		}
		total += fi.Size()
	}
	return total, nil
}

func (s *sqliteDB) close() error { return s.db.Close() }

// pgDB seeds a PostgreSQL database with COPY, through the store's pool.
type pgDB struct{ pool *pgxpool.Pool }

// pgBatch is how many rows one COPY writes.
const pgBatch = 100_000

func (p *pgDB) insert(ctx context.Context, table string, cols []string, n int, row func(i int) []any, progress func(int)) error {
	for lo := 0; lo < n; lo += pgBatch {
		hi := min(n, lo+pgBatch)
		i := lo
		src := pgx.CopyFromFunc(func() ([]any, error) {
			if i == hi {
				return nil, nil
			}
			i++
			return row(i - 1), nil
		})
		if _, err := p.pool.CopyFrom(ctx, pgx.Identifier{table}, cols, src); err != nil {
			return fmt.Errorf("copy into %s: %w", table, err)
		}
		progress(hi)
	}
	return nil
}

func (p *pgDB) count(ctx context.Context, query string) (int64, error) {
	var n int64
	err := p.pool.QueryRow(ctx, query).Scan(&n)
	return n, err
}

func (p *pgDB) wipe(ctx context.Context) error {
	// The cascade takes accounts, sessions, usage, conversations and,
	// through them, messages, ratings and citations.
	_, err := p.pool.Exec(ctx, `TRUNCATE users, deleted_users CASCADE`)
	return err
}

// bulk runs load with the insights' triggers (migration 0011) disabled,
// then enables them and counts with insights_rebuild what they would have
// counted: they take a statement per answer's citations, which COPY makes
// minutes. The citations' own trigger (migration 0010) stays.
func (p *pgDB) bulk(ctx context.Context, load func() error) error {
	rows, err := p.pool.Query(ctx, `SELECT tgrelid::regclass::text, tgname FROM pg_trigger
		WHERE NOT tgisinternal AND tgname LIKE 'insights\_%' ORDER BY 1, 2`)
	if err != nil {
		return err
	}
	var triggers [][2]string
	for rows.Next() {
		var t [2]string
		if err := rows.Scan(&t[0], &t[1]); err != nil {
			rows.Close()
			return err
		}
		triggers = append(triggers, t)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	toggle := func(verb string) error {
		for _, t := range triggers {
			if _, err := p.pool.Exec(ctx, fmt.Sprintf(`ALTER TABLE %s %s TRIGGER %s`,
				pgx.Identifier{t[0]}.Sanitize(), verb, pgx.Identifier{t[1]}.Sanitize())); err != nil {
				return err
			}
		}
		return nil
	}
	if err := toggle("DISABLE"); err != nil {
		return err
	}
	loadErr := load()
	if err := toggle("ENABLE"); err != nil || loadErr != nil {
		return errors.Join(loadErr, err)
	}
	if len(triggers) > 0 {
		_, err = p.pool.Exec(ctx, `SELECT insights_rebuild()`)
	}
	return err
}

// settle vacuums and analyzes the database, as autovacuum would after a
// bulk of inserts: the planner gets statistics and index-only scans a
// visibility map.
func (p *pgDB) settle(ctx context.Context) error {
	_, err := p.pool.Exec(ctx, `VACUUM (ANALYZE)`)
	return err
}

func (p *pgDB) size(ctx context.Context) (int64, error) {
	return p.count(ctx, `SELECT pg_database_size(current_database())`)
}

func (p *pgDB) close() error { return nil } // the store's pool

// seed writes the plan: readers, conversations, messages in the order they
// were asked and answered (as a server stores them, so rows lie in time
// order), ratings, and last the owner, whose name marks the data complete.
func seed(ctx context.Context, db seedDB, p *plan, marker string, progress func(string, ...any)) error {
	start := time.Now()
	step := func(what string, total int) func(int) {
		return func(done int) {
			progress("  %s %d/%d (%.0f s)", what, done, total, time.Since(start).Seconds())
		}
	}
	if err := db.insert(ctx, "users", []string{"id", "name", "email", "email_verified", "role", "created_at", "updated_at"},
		len(p.readers), func(i int) []any {
			r := p.readers[i]
			return []any{p.id(kindUser, i), fmt.Sprintf("Reader %d", i+1), fmt.Sprintf("reader%d@insights-bench.example", i+1),
				true, "user", micros(r.created), micros(r.created)}
		}, step("users", len(p.readers))); err != nil {
		return err
	}
	if err := db.insert(ctx, "conversations", []string{"id", "user_id", "title", "created_at", "updated_at", "message_count", "bytes"},
		len(p.convs), func(i int) []any {
			c := p.convs[i]
			return []any{p.id(kindConv, i), p.id(kindUser, int(c.reader)), title(p.texts[p.questions[c.first].text]),
				micros(c.created), micros(c.updated), int64(c.messages), c.bytes}
		}, step("conversations", len(p.convs))); err != nil {
		return err
	}
	msgCols := []string{"id", "conversation_id", "user_id", "seq", "role", "content", "sources", "agent_type", "parent_id", "page", "not_covered", "created_at"}
	if err := db.bulk(ctx, func() error {
		return db.insert(ctx, "messages", msgCols, len(p.order), p.messageRow, step("messages", len(p.order)))
	}); err != nil {
		return err
	}
	progress("  counted what the schema derives from the messages (%.0f s)", time.Since(start).Seconds())
	if err := db.insert(ctx, "message_feedback", []string{"message_id", "user_id", "rating", "comment", "created_at", "updated_at"},
		len(p.ratings), func(i int) []any {
			r := p.ratings[i]
			q := &p.questions[r.q]
			return []any{p.id(kindAnswer, int(r.q)), p.id(kindUser, int(q.reader)), r.rating, r.comment, micros(r.at), micros(r.at)}
		}, step("ratings", len(p.ratings))); err != nil {
		return err
	}
	if err := db.insert(ctx, "users", []string{"id", "name", "email", "email_verified", "role", "created_at", "updated_at"},
		1, func(int) []any {
			return []any{p.id(kindOwner, 0), marker, ownerEmail, true, "user", p.now, p.now}
		}, func(int) {}); err != nil {
		return err
	}
	progress("  settling (%.0f s)", time.Since(start).Seconds())
	return db.settle(ctx)
}

// messageRow returns the columns of the i-th message in time order: a
// question, or the answer to one.
func (p *plan) messageRow(i int) []any {
	e := p.order[i]
	q := &p.questions[e.q]
	conv, user := p.id(kindConv, int(q.conv)), p.id(kindUser, int(q.reader))
	if !e.answer {
		return []any{p.id(kindQuestion, int(e.q)), conv, user, int64(q.seq), "user", p.texts[q.text], nil, "", nil,
			p.pages[q.page], false, micros(q.asked)}
	}
	a := p.answer(int(e.q))
	return []any{p.id(kindAnswer, int(e.q)), conv, user, int64(q.seq + 1), "assistant", a.content, a.sources,
		agents[q.agent], p.id(kindQuestion, int(e.q)), "", q.notCovered, micros(q.answered)}
}

// title is a conversation's title: its first question, cut short.
func title(q string) string {
	if r := []rune(q); len(r) > 80 {
		return string(r[:80])
	}
	return q
}

// rowCount is one line of the row counts.
type rowCount struct {
	what string
	n    int64
}

func countRows(ctx context.Context, db seedDB) ([]rowCount, error) {
	queries := []rowCount{
		{what: "users"}, {what: "conversations"}, {what: "messages: questions"}, {what: "messages: answers"},
		{what: "answers not covered"}, {what: "citations"}, {what: "ratings down"}, {what: "ratings up"},
	}
	sqls := []string{
		`SELECT count(*) FROM users`,
		`SELECT count(*) FROM conversations`,
		`SELECT count(*) FROM messages WHERE role = 'user'`,
		`SELECT count(*) FROM messages WHERE role = 'assistant'`,
		`SELECT count(*) FROM messages WHERE role = 'assistant' AND not_covered`,
		`SELECT count(*) FROM citations`,
		`SELECT count(*) FROM message_feedback WHERE rating = 'down'`,
		`SELECT count(*) FROM message_feedback WHERE rating = 'up'`,
	}
	for i := range queries {
		n, err := db.count(ctx, sqls[i])
		if err != nil {
			return nil, fmt.Errorf("count %s: %w", queries[i].what, err)
		}
		queries[i].n = n
	}
	return queries, nil
}

// checkPastSpan checks that the pages and sections of [from, to), whole
// days the store adds up from its counts per day, are those of the
// questions and citations themselves: the same span less its last
// microsecond, which the store reads from the messages.
func checkPastSpan(ctx context.Context, st benchStore, from, to time.Time) error {
	if err := sameBothWays("pages asked from", from, to, func(f, t time.Time) ([]store.PageCount, error) {
		return st.PagesAskedFrom(ctx, f, t, 1, 100)
	}); err != nil {
		return err
	}
	return sameBothWays("sections cited", from, to, func(f, t time.Time) ([]store.SectionCount, error) {
		return st.SectionsCited(ctx, f, t, 1, 100)
	})
}

// sameBothWays reads a view over [from, to) and over the same span less
// its last microsecond, and reports whether they differ.
func sameBothWays[T comparable](what string, from, to time.Time, read func(from, to time.Time) ([]T, error)) error {
	byDays, err := read(from, to)
	if err != nil {
		return err
	}
	byRows, err := read(from, to.Add(-time.Microsecond))
	if err != nil {
		return err
	}
	if !slices.Equal(byDays, byRows) {
		return fmt.Errorf("the %s from %s to %s differ: %v by day, %v from the rows", what, from, to, byDays, byRows)
	}
	return nil
}

// timeWrites stores cfg.writes questions, each in a conversation of its
// own with its answer citing three sections, as the chat service does, and
// then deletes the conversations: each write's time, with the insights'
// triggers, on the pages and sections asked about and cited the most in
// the last 30 days, whose rows of today are the longest. The database is
// left with the rows it had.
func timeWrites(ctx context.Context, cfg config, st benchStore, progress func(string, ...any)) ([]result, error) {
	now := time.Now().UTC()
	from := now.Truncate(24*time.Hour).AddDate(0, 0, -29)
	to := now.Truncate(24*time.Hour).AddDate(0, 0, 1)
	pages, err := st.PagesAskedFrom(ctx, from, to, 1, 10)
	if err != nil {
		return nil, err
	}
	sections, err := st.SectionsCited(ctx, from, to, 1, 10)
	if err != nil {
		return nil, err
	}
	if len(pages) == 0 || len(sections) < 3 {
		return nil, errors.New("timing writes needs the seeded pages and sections")
	}
	id := fmt.Sprintf("%032x", rand.Uint64())
	u := store.User{ID: id, Name: "Writes bench", Email: id + "@insights-bench.example", Role: "user", CreatedAt: now, UpdatedAt: now}
	if _, err := st.SyncUser(ctx, u); err != nil {
		return nil, err
	}
	defer st.DeleteUser(context.WithoutCancel(ctx), u.ID)
	stored := make([]time.Duration, cfg.writes)
	convs := make([]string, cfg.writes)
	for i := range stored {
		at := time.Now()
		c := store.Conversation{ID: fmt.Sprintf("%s-%d", id, i), UserID: u.ID, Title: "Writes bench", CreatedAt: at, UpdatedAt: at}
		q := store.Message{ID: c.ID + "-q", ConversationID: c.ID, UserID: u.ID, Role: store.RoleUser,
			Content: "What does this section say about the bench?", Page: pages[i%len(pages)].Page, CreatedAt: at}
		var srcs []storedSource
		for k := range 3 {
			sc := sections[(i+k)%len(sections)]
			srcs = append(srcs, storedSource{Slug: sc.Slug, Title: sc.Slug, Heading: sc.Heading, URL: sc.URL, Snippet: "s", Score: 0.5})
		}
		js, err := json.Marshal(srcs)
		if err != nil {
			return nil, err
		}
		a := store.Message{ID: c.ID + "-a", ConversationID: c.ID, UserID: u.ID, Role: store.RoleAssistant, Content: "It says this.",
			Sources: js, AgentType: "rag", ParentID: q.ID, CreatedAt: at}
		start := time.Now()
		if _, err := st.StartConversation(ctx, c, q); err != nil {
			return nil, err
		}
		if _, err := st.AppendMessage(ctx, a); err != nil {
			return nil, err
		}
		stored[i], convs[i] = time.Since(start), c.ID
	}
	deleted := make([]time.Duration, cfg.writes)
	for i, c := range convs {
		start := time.Now()
		if err := st.DeleteConversation(ctx, u.ID, c); err != nil {
			return nil, err
		}
		deleted[i] = time.Since(start)
	}
	out := []result{summarize("a question and its answer (3 sources)", stored), summarize("deleting that conversation", deleted)}
	for _, r := range out {
		progress("%s: median %.2f ms, p90 %.2f ms, max %.2f ms", r.view, ms(r.median), ms(r.p90), ms(r.max))
	}
	return out, nil
}

// summarize returns the median, 90th percentile and slowest of took.
func summarize(view string, took []time.Duration) result {
	slices.Sort(took)
	return result{view: view, median: took[len(took)/2], p90: took[len(took)*9/10], max: took[len(took)-1]}
}

// result is one view's timing over one span.
type result struct {
	view, span       string
	median, p90, max time.Duration
	result           string
}

// timeViews reads every view of the insights for the default span and the
// whole seeded span, as the server does: through insights.Service, with
// the owner's id, an English analyzer (the demo book's language) and the
// default settings.
func timeViews(ctx context.Context, cfg config, st benchStore, owner store.User, progress func(string, ...any)) ([]result, error) {
	svc := insights.New(st, insights.Options{AdminEmails: []string{ownerEmail}, Analyze: retrieval.Analyze, MinReaders: 1})
	today := time.Now().UTC().Truncate(24 * time.Hour)
	spans := []struct{ name, from, to string }{
		{"last 30 days (default)", "", ""},
		{fmt.Sprintf("%d days", cfg.days), today.AddDate(0, 0, 1-cfg.days).Format(time.DateOnly), today.Format(time.DateOnly)},
		{"30 days ending 30 days ago", today.AddDate(0, 0, -59).Format(time.DateOnly), today.AddDate(0, 0, -30).Format(time.DateOnly)},
	}
	views := []struct {
		name string
		read func(from, to string) (string, error)
	}{
		{"Volume", func(from, to string) (string, error) {
			_, v, err := svc.Volume(ctx, owner.ID, from, to)
			var qs int64
			for _, d := range v.Days {
				qs += d.Questions
			}
			return fmt.Sprintf("%d days, %d agent-days, %s questions", len(v.Days), len(v.Agents), thousands(qs)), err
		}},
		{"NotCovered", func(from, to string) (string, error) {
			_, gs, err := svc.NotCovered(ctx, owner.ID, from, to)
			n := 0
			for _, g := range gs {
				n += g.Count
			}
			return fmt.Sprintf("%d groups of %s questions", len(gs), thousands(int64(n))), err
		}},
		{"RatedDown", func(from, to string) (string, error) {
			_, rs, err := svc.RatedDown(ctx, owner.ID, from, to)
			return fmt.Sprintf("%d answers", len(rs)), err
		}},
		{"PagesAskedFrom", func(from, to string) (string, error) {
			_, ps, err := svc.PagesAskedFrom(ctx, owner.ID, from, to)
			return fmt.Sprintf("%d pages", len(ps)), err
		}},
		{"SectionsCited", func(from, to string) (string, error) {
			_, cs, err := svc.SectionsCited(ctx, owner.ID, from, to)
			return fmt.Sprintf("%d sections", len(cs)), err
		}},
	}
	if err := checkPastSpan(ctx, st, today.AddDate(0, 0, -59), today.AddDate(0, 0, -29)); err != nil {
		return nil, err
	}
	var out []result
	for _, sp := range spans {
		for _, v := range views {
			what, err := v.read(sp.from, sp.to) // warm-up
			if err != nil {
				return nil, fmt.Errorf("%s, %s: %w", v.name, sp.name, err)
			}
			took := make([]time.Duration, cfg.runs)
			for i := range took {
				start := time.Now()
				if _, err := v.read(sp.from, sp.to); err != nil {
					return nil, fmt.Errorf("%s, %s: %w", v.name, sp.name, err)
				}
				took[i] = time.Since(start)
			}
			slices.Sort(took)
			r := result{view: v.name, span: sp.name, median: took[len(took)/2], max: took[len(took)-1], result: what}
			if len(took)%2 == 0 {
				r.median = (took[len(took)/2-1] + took[len(took)/2]) / 2
			}
			progress("%s, %s: median %.1f ms, max %.1f ms (%s)", v.name, sp.name, ms(r.median), ms(r.max), what)
			out = append(out, r)
		}
	}
	return out, nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func mib(n int64) string { return fmt.Sprintf("%s MiB", thousands(n>>20)) }

// thousands writes n with commas between thousands.
func thousands(n int64) string {
	s := fmt.Sprint(n)
	if n < 0 {
		return "-" + thousands(-n)
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// micros is a stored time: microseconds since the epoch, in UTC.
func micros(us int64) time.Time { return time.UnixMicro(us).UTC() }

// The generated data.

// Kinds of ids, so that each row's id is a function of its kind and index.
const (
	kindUser = iota + 1
	kindConv
	kindQuestion
	kindAnswer
	kindOwner
)

const base62 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// agents are the agents that answer, by the share of answers they give.
var agents = []string{"rag", "summarizer", "triage"}

// reader is one seeded reader.
type reader struct {
	created int64 // microseconds, before their first question
}

// conv is one seeded conversation.
type conv struct {
	reader           int32
	first            int32 // its first question
	messages         int32
	created, updated int64 // microseconds
	bytes            int64
}

// question is one question and its answer.
type question struct {
	asked, answered int64 // microseconds
	reader, conv    int32
	text            int32 // in plan.texts
	seq             int32 // the question's; the answer's is the next
	page            int16 // in plan.pages
	agent           uint8 // in agents
	notCovered      bool
}

// event is one message to store: a question or its answer.
type event struct {
	at     int64
	q      int32
	answer bool
}

// rating is a reader's rating of an answer.
type rating struct {
	q       int32
	rating  string
	comment string
	at      int64
}

// plan is the whole data set, generated from the seed and the time of the
// run: every row's values are a function of them.
type plan struct {
	seed      uint64
	now       time.Time
	texts     []string // question texts
	pages     []string
	chapterOf []int // the chapter of each page
	readers   []reader
	convs     []conv
	questions []question
	order     []event // questions and answers in time order
	ratings   []rating
	sections  []section
}

// section is a heading of the book a source can cite.
type section struct {
	chapter int
	heading string
	anchor  string
}

// id returns the id of the row of this kind and index: 32 base62
// characters, as randid makes them, derived from the seed.
func (p *plan) id(kind, i int) string {
	var b [32]byte
	x := p.seed*0x9e3779b97f4a7c15 ^ uint64(kind)<<48 ^ uint64(i)
	for n := 0; n < len(b); {
		v := splitmix(&x)
		for range 10 {
			b[n] = base62[v%62]
			v /= 62
			n++
			if n == len(b) {
				break
			}
		}
	}
	return string(b[:])
}

func splitmix(x *uint64) uint64 {
	*x += 0x9e3779b97f4a7c15
	z := *x
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

// weighted picks indexes with the probabilities of its weights.
type weighted []float64 // cumulative

func newWeighted(w []float64) weighted {
	c := make(weighted, len(w))
	sum := 0.0
	for i, x := range w {
		sum += x
		c[i] = sum
	}
	return c
}

func (w weighted) pick(r *rand.Rand) int {
	x := r.Float64() * w[len(w)-1]
	i, _ := slices.BinarySearch(w, x)
	return min(i, len(w)-1)
}

// zipf returns n weights falling as 1/(k+1)^s.
func zipf(n int, s float64) []float64 {
	w := make([]float64, n)
	for k := range w {
		w[k] = 1 / math.Pow(float64(k+1), s)
	}
	return w
}

const (
	// notCoveredShare is the share of answers saying the book does not
	// cover the question.
	notCoveredShare = 0.08
	// downShare and upShare are the shares of answers rated down and up.
	downShare = 0.02
	upShare   = 0.03
	// commentShare is the share of ratings down with a comment.
	commentShare = 0.4
)

// newPlan generates the data set of cfg, ending at now.
func newPlan(cfg config, now time.Time, progress func(string, ...any)) *plan {
	now = now.UTC().Truncate(time.Second)
	p := &plan{seed: cfg.seed, now: now}
	r := rand.New(rand.NewPCG(cfg.seed, 1))

	// Texts: questions on the book's topics, and on topics it lacks, each
	// in several templates and wordings.
	var covered, uncovered []int32
	for ti, topics := range [][]string{bookTopics, offTopics} {
		for _, topic := range topics {
			for _, tmpl := range templates {
				for _, pre := range prefixes {
					for _, suf := range suffixes {
						q := fmt.Sprintf(tmpl, topic)
						if pre != "" {
							q = lowerFirst(q)
						}
						q = pre + q + suf
						if ti == 0 {
							covered = append(covered, int32(len(p.texts)))
						} else {
							uncovered = append(uncovered, int32(len(p.texts)))
						}
						p.texts = append(p.texts, q)
					}
				}
			}
		}
	}
	perTopic := len(templates) * len(prefixes) * len(suffixes)
	bookTopic, offTopic := newWeighted(zipf(len(bookTopics), 0.9)), newWeighted(zipf(len(offTopics), 0.9))
	wording := newWeighted(zipf(perTopic, 0.6))
	pickText := func(pool []int32, topics weighted) int32 {
		return pool[topics.pick(r)*perTopic+wording.pick(r)]
	}

	// Pages: 30 chapters of 10 sections, some far more read than others.
	for ch := 1; ch <= 30; ch++ {
		for s := 1; s <= 10; s++ {
			p.pages = append(p.pages, fmt.Sprintf("/docs/chapter-%d/section-%d", ch, s))
		}
	}
	r.Shuffle(len(p.pages), func(i, j int) { p.pages[i], p.pages[j] = p.pages[j], p.pages[i] })
	page := newWeighted(zipf(len(p.pages), 0.8))
	p.chapterOf = make([]int, len(p.pages))
	for i, pg := range p.pages {
		fmt.Sscanf(pg, "/docs/chapter-%d/", &p.chapterOf[i])
	}
	for ch := 1; ch <= 30; ch++ {
		for _, h := range headings[:6+ch%4] {
			p.sections = append(p.sections, section{chapter: ch, heading: h, anchor: anchor(h)})
		}
	}

	// Days: fewer questions at weekends, a slow growth, daily noise; today
	// only up to now.
	today := now.Truncate(24 * time.Hour)
	dayW := make([]float64, cfg.days)
	for d := range dayW {
		day := today.AddDate(0, 0, d-cfg.days+1)
		w := (0.8 + 0.4*float64(d)/float64(cfg.days)) * (0.85 + 0.3*r.Float64())
		if wd := day.Weekday(); wd == time.Saturday || wd == time.Sunday {
			w *= 0.6
		}
		if d == cfg.days-1 {
			w *= float64(now.Sub(today)) / float64(24*time.Hour)
		}
		dayW[d] = w
	}
	days := newWeighted(dayW)
	first := today.AddDate(0, 0, 1-cfg.days)
	latest := now.Add(-2 * time.Minute).UnixMicro()
	askedAt := func() int64 {
		start := first.AddDate(0, 0, days.pick(r)).UnixMicro()
		span := min(int64(24*time.Hour/time.Microsecond), latest-start)
		if span <= 0 { // today, in its first minutes
			return latest
		}
		return start + r.Int64N(span)
	}

	// Readers: how much each asks varies a lot (log-normal); each asks
	// at least once.
	w := make([]float64, cfg.readers)
	sum := 0.0
	for i := range w {
		w[i] = math.Exp(r.NormFloat64() * 0.9)
		sum += w[i]
	}
	asks := make([]int, cfg.readers)
	left := cfg.questions - cfg.readers
	for i := range asks {
		asks[i] = 1 + int(float64(cfg.questions-cfg.readers)*w[i]/sum)
		left -= asks[i] - 1
	}
	for left > 0 {
		asks[r.IntN(cfg.readers)]++
		left--
	}

	p.readers = make([]reader, cfg.readers)
	p.questions = make([]question, 0, cfg.questions)
	const second = int64(time.Second / time.Microsecond)
	times := []int64{}
	for ri, n := range asks {
		times = times[:0]
		for range n {
			times = append(times, askedAt())
		}
		slices.Sort(times)
		p.readers[ri].created = times[0] - r.Int64N(30*24*3600*second)
		// 3 to 10 conversations, cut at random between the sorted questions.
		k := min(n, 3+r.IntN(8))
		cuts := []int{0}
		for _, c := range r.Perm(n - 1)[:k-1] {
			cuts = append(cuts, c+1)
		}
		slices.Sort(cuts)
		cuts = append(cuts, n)
		for ci := range k {
			c := conv{reader: int32(ri), first: int32(len(p.questions))}
			next := int64(0) // a question comes after the previous answer
			for j, at := range times[cuts[ci]:cuts[ci+1]] {
				at = max(at, next)
				q := question{asked: at, answered: at + 2*second + r.Int64N(40*second), reader: int32(ri),
					conv: int32(len(p.convs)), seq: int32(2*j + 1), page: int16(page.pick(r))}
				next = q.answered + second
				switch x := r.Float64(); {
				case x < 0.85:
					q.agent = 0
				case x < 0.95:
					q.agent = 1
				default:
					q.agent = 2
				}
				if r.Float64() < notCoveredShare {
					q.notCovered = true
					if r.Float64() < 0.85 {
						q.text = pickText(uncovered, offTopic)
					} else {
						q.text = pickText(covered, bookTopic)
					}
				} else {
					q.text = pickText(covered, bookTopic)
				}
				p.questions = append(p.questions, q)
				c.messages += 2
				c.bytes += int64(len(p.texts[q.text]))
			}
			c.created = p.questions[c.first].asked
			c.updated = p.questions[len(p.questions)-1].answered
			p.convs = append(p.convs, c)
		}
	}
	progress("  planned the questions; writing the answers' sizes")

	// The answers' sizes, for the conversations' bytes, and the ratings.
	p.order = make([]event, 0, 2*len(p.questions))
	for i := range p.questions {
		q := &p.questions[i]
		a := p.answer(i)
		p.convs[q.conv].bytes += int64(len(a.content) + len(a.sources))
		p.order = append(p.order, event{at: q.asked, q: int32(i)}, event{at: q.answered, q: int32(i), answer: true})
		switch x := r.Float64(); {
		case x < downShare:
			rt := rating{q: int32(i), rating: "down", at: min(q.answered+10*second+r.Int64N(6*3600*second), now.UnixMicro())}
			if r.Float64() < commentShare {
				rt.comment = comments[r.IntN(len(comments))]
			}
			p.ratings = append(p.ratings, rt)
		case x < downShare+upShare:
			p.ratings = append(p.ratings, rating{q: int32(i), rating: "up", at: min(q.answered+10*second+r.Int64N(6*3600*second), now.UnixMicro())})
		}
	}
	slices.SortFunc(p.order, func(a, b event) int {
		if c := cmp.Compare(a.at, b.at); c != 0 {
			return c
		}
		return cmp.Compare(a.q, b.q)
	})
	slices.SortFunc(p.ratings, func(a, b rating) int { return cmp.Compare(a.at, b.at) })
	return p
}

// generated is one answer's text and sources.
type generated struct {
	content string
	sources []byte
}

// storedSource is a source as the chat service stores it with its answer.
type storedSource struct {
	Slug          string  `json:"slug"`
	Title         string  `json:"title,omitempty"`
	Heading       string  `json:"heading,omitempty"`
	URL           string  `json:"url,omitempty"`
	ChapterNumber *int    `json:"chapter_number"`
	PageNumber    *int    `json:"page_number"`
	Snippet       string  `json:"snippet"`
	Score         float64 `json:"score,omitempty"`
}

// answer returns the answer to question i, the same at every call: an
// answer from the book cites three sections (the first often of the
// chapter asked from); one saying the book does not cover the question
// cites none.
func (p *plan) answer(i int) generated {
	q := &p.questions[i]
	r := rand.New(rand.NewPCG(p.seed, uint64(i)<<8|2))
	if q.notCovered {
		return generated{content: notCoveredAnswers[r.IntN(len(notCoveredAnswers))], sources: []byte("[]")}
	}
	var b strings.Builder
	for n := 2 + r.IntN(4); n > 0; n-- {
		b.WriteString(sentences[r.IntN(len(sentences))])
		b.WriteByte(' ')
	}
	chapter := p.chapterOf[q.page]
	srcs := make([]storedSource, 3)
	for k := range srcs {
		s := p.sections[r.IntN(len(p.sections))]
		if k == 0 && r.Float64() < 0.6 {
			in := slices.IndexFunc(p.sections, func(s section) bool { return s.chapter == chapter })
			s = p.sections[in+r.IntN(6)]
		}
		slug := fmt.Sprintf("chapter-%d", s.chapter)
		srcs[k] = storedSource{Slug: slug, Title: fmt.Sprintf("Chapter %d", s.chapter), Heading: s.heading,
			URL: "/docs/" + slug + "#" + s.anchor, Snippet: snippets[r.IntN(len(snippets))],
			Score: math.Round((0.9-0.15*float64(k)-0.1*r.Float64())*1000) / 1000}
	}
	js, err := json.Marshal(srcs)
	if err != nil {
		panic(err) // plain strings and numbers
	}
	return generated{content: strings.TrimSpace(b.String()), sources: js}
}

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}

func anchor(heading string) string {
	return strings.ReplaceAll(strings.ToLower(heading), " ", "-")
}

// bookTopics are what the book covers; offTopics what it does not.
var bookTopics = []string{
	"installing the server", "configuring the database", "setting up backups", "restoring a backup",
	"rotating the signing keys", "adding a new book", "importing EPUB files", "the search index",
	"tuning the search ranking", "writing custom prompts", "rate limits", "daily budgets",
	"single sign-on", "password resets", "email verification", "running behind a reverse proxy",
	"TLS certificates", "upgrading to a new version", "database migrations", "monitoring with Prometheus",
	"reading the logs", "health checks", "scaling to several replicas", "the PostgreSQL connection pool",
	"SQLite WAL mode", "exporting a reader's history", "deleting an account", "the reader's panel",
	"keyboard shortcuts", "highlighting text", "citations in answers", "the summarizer agent",
	"the triage agent", "choosing a language model", "embedding models", "chunk sizes",
	"books in other languages", "Chinese text", "right-to-left scripts", "the Docusaurus plugin",
	"theming the panel", "the content security policy", "CORS settings", "API tokens",
	"webhooks", "the admin command", "granting owners", "insights for owners",
	"caching answers", "request timeouts", "streaming answers", "retries after errors",
	"running in Docker", "Kubernetes manifests", "environment variables", "the configuration file",
	"memory usage", "CPU profiling", "load testing", "the privacy of questions",
}

var offTopics = []string{
	"pricing of the hosted plan", "a Windows installer", "mobile apps", "voice input",
	"integrating with Slack", "Microsoft Teams bots", "exporting to PDF", "offline mode",
	"GDPR data processing agreements", "SAML federation", "LDAP groups", "multi-tenant hosting",
	"billing per seat", "printing a chapter", "dark mode for the book pages", "translating the whole book",
	"audio narration", "comparing it with ChatGPT", "running on a Raspberry Pi", "ARM builds for Windows",
	"Oracle database support", "MySQL support", "MongoDB support", "an Elasticsearch integration",
	"Google Analytics", "A/B testing of answers", "SOC 2 compliance", "HIPAA compliance",
	"accessibility certification", "a browser extension", "a WordPress plugin", "importing from Confluence",
	"importing from Notion", "video tutorials", "the roadmap for next year", "the author's other books",
	"discount codes", "student licenses", "the history of the project", "who maintains the project",
}

var templates = []string{
	"How do I handle %s?", "What does the book say about %s?", "Can you explain %s?",
	"Is there a chapter on %s?", "Where can I read about %s?", "What is the recommended approach to %s?",
	"Give me an example of %s.", "Why does %s not work for me?", "Any tips on %s?",
	"What are the steps for %s?", "Does it support %s?", "How does %s work?",
	"I'm stuck with %s, what should I do?", "Summarize the section about %s.", "What are common mistakes with %s?",
	"Is %s covered anywhere?", "Tell me more about %s", "How should I think about %s?",
}

var prefixes = []string{"", "Hi, ", "Quick question: "}

var suffixes = []string{"", " Thanks!", " (I'm new to this)"}

var headings = []string{"Overview", "Setup", "Configuration", "Examples", "Troubleshooting", "Reference",
	"Limits", "Security", "Performance", "Further reading"}

var sentences = []string{
	"The chapter walks through this step by step, starting from a fresh installation.",
	"In short, set the option in the configuration file and restart the server.",
	"The book recommends keeping the defaults until you have measured a problem.",
	"Each reader's questions are stored with their conversation and deleted with it.",
	"You can check the result with the health endpoint, which answers within a second.",
	"The setting takes effect on the next request; no restart is needed.",
	"A common mistake is to edit the file while the server is running and expect it to reload.",
	"The example in the section shows the full command with every flag it needs.",
	"If the database is unreachable, requests fail fast with 503 and recover by themselves.",
	"The limits are per reader and per day, counted in UTC.",
	"The section on troubleshooting lists the log lines to look for.",
	"Backups are consistent snapshots taken without stopping the server.",
	"The search ranks sections by how many of the question's words they contain, and how rare those words are.",
	"Answers cite the sections they come from, so you can read the source yourself.",
	"The reference at the end of the chapter lists every environment variable.",
	"For a large book, ingestion takes a few seconds and runs once per change.",
}

var snippets = []string{
	"Set LECTERN_DATABASE_URL to use PostgreSQL; without it, Lectern keeps its data in SQLite.",
	"Backups run while the server keeps serving; restore one with the restore command.",
	"Each reader may ask a limited number of questions a day.",
	"The panel opens beside the page and keeps the reader's place.",
	"Owners see what readers ask, never who asked it.",
	"Upgrades apply the database migrations at start-up, one transaction each.",
	"The signing keys rotate every 30 days; old tokens stay valid until they expire.",
	"Run the server behind a proxy that terminates TLS and forwards the client address.",
}

var notCoveredAnswers = []string{
	"The book does not cover this. It may be worth asking the authors directly.",
	"I could not find this in the book. The closest chapters talk about related settings, but not this.",
	"This is not something the book discusses.",
}

var comments = []string{
	"wrong chapter", "this is not what I asked", "too vague", "the example does not work",
	"outdated", "missed the point", "the link goes to the wrong section",
}
