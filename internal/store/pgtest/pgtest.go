// Package pgtest gives tests a fresh, empty PostgreSQL database of their own.
//
// It reads two environment variables:
//
//	LECTERN_TEST_POSTGRES_URL  server to use, as a postgres:// URL of a role
//	                           allowed to CREATE DATABASE (default
//	                           postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable)
//	LECTERN_TEST_POSTGRES      "require" makes an unreachable server fail the
//	                           test instead of skipping it (set this in CI)
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// DefaultURL is the server NewDatabase uses when LECTERN_TEST_POSTGRES_URL is
// unset: a local PostgreSQL with trust authentication.
const DefaultURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// connectTimeout bounds how long NewDatabase waits for the server.
const connectTimeout = 5 * time.Second

// NewDatabase creates a uniquely named, empty database (lectern_test_<random>)
// on the test server and returns its URL; the database is dropped, closing
// any connections still open to it, when the test and its subtests finish.
// If the server cannot be reached the test is skipped, or fails when
// LECTERN_TEST_POSTGRES=require.
func NewDatabase(t testing.TB) string {
	t.Helper()
	if testing.Short() && os.Getenv("LECTERN_TEST_POSTGRES") != "require" {
		t.Skip("pgtest: -short leaves PostgreSQL out")
	}
	admin := os.Getenv("LECTERN_TEST_POSTGRES_URL")
	if admin == "" {
		admin = DefaultURL
	}
	u, err := url.Parse(admin)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		t.Fatalf("pgtest: LECTERN_TEST_POSTGRES_URL must be a postgres:// URL")
	}

	conn, err := connect(admin)
	if err != nil {
		if os.Getenv("LECTERN_TEST_POSTGRES") == "require" {
			t.Fatalf("pgtest: PostgreSQL not reachable at %s: %v (LECTERN_TEST_POSTGRES=require)", u.Redacted(), err)
		}
		t.Skipf("pgtest: PostgreSQL not reachable at %s: %v; set LECTERN_TEST_POSTGRES=require to make this fatal", u.Redacted(), err)
	}
	defer conn.Close(context.Background())

	var b [8]byte
	rand.Read(b[:])
	name := "lectern_test_" + hex.EncodeToString(b[:])
	ident := pgx.Identifier{name}.Sanitize()

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// template0 is never connected to, so parallel creations cannot fail with
	// "source database is being accessed by other users".
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+ident+" TEMPLATE template0"); err != nil {
		t.Fatalf("pgtest: create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		conn, err := connect(admin)
		if err != nil {
			t.Errorf("pgtest: drop database %s: %v", name, err)
			return
		}
		defer conn.Close(context.Background())
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+ident+" WITH (FORCE)"); err != nil {
			t.Errorf("pgtest: drop database %s: %v", name, err)
		}
	})

	u.Path, u.RawPath = "/"+name, ""
	return u.String()
}

// connect opens one connection to the server, giving up after connectTimeout.
func connect(url string) (*pgx.Conn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), connectTimeout)
	defer cancel()
	return pgx.Connect(ctx, url)
}
