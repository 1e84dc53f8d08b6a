package pgtest

import (
	"context"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

func TestNewDatabaseGivesAnEmptyDatabaseAndDropsItAfterwards(t *testing.T) {
	var name string
	t.Run("inner", func(t *testing.T) {
		dbURL := NewDatabase(t)
		u, err := url.Parse(dbURL)
		if err != nil {
			t.Fatal(err)
		}
		name = strings.TrimPrefix(u.Path, "/")
		if !strings.HasPrefix(name, "lectern_test_") {
			t.Errorf("database name %q lacks the lectern_test_ prefix", name)
		}
		conn, err := pgx.Connect(t.Context(), dbURL)
		if err != nil {
			t.Fatalf("connect to the new database: %v", err)
		}
		// Left open on purpose: the drop must force it closed.
		var got string
		if err := conn.QueryRow(t.Context(), `SELECT current_database()`).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != name {
			t.Errorf("connected to %q, want %q", got, name)
		}
		var tables int
		if err := conn.QueryRow(t.Context(),
			`SELECT count(*) FROM pg_tables WHERE schemaname = 'public'`).Scan(&tables); err != nil {
			t.Fatal(err)
		}
		if tables != 0 {
			t.Errorf("new database has %d tables, want none", tables)
		}
	})
	if t.Failed() || name == "" {
		return
	}

	admin := os.Getenv("LECTERN_TEST_POSTGRES_URL")
	if admin == "" {
		admin = DefaultURL
	}
	conn, err := pgx.Connect(t.Context(), admin)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var exists bool
	if err := conn.QueryRow(t.Context(),
		`SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists); err != nil {
		t.Fatal(err)
	}
	if exists {
		t.Errorf("database %s still exists after the test that made it ended", name)
	}
}

func TestNewDatabaseGivesEachCallerItsOwnDatabase(t *testing.T) {
	a, b := NewDatabase(t), NewDatabase(t)
	if a == b {
		t.Errorf("two calls returned the same database %s", a)
	}
}
