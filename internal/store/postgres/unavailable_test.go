package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/lectern/lectern/internal/store"
)

func TestWrapMarksConnectionFailuresUnavailable(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"a refused dial", &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}, true},
		{"a connection reset", fmt.Errorf("read: %w", syscall.ECONNRESET), true},
		{"a connection closed by the server", fmt.Errorf("receive message: %w", io.ErrUnexpectedEOF), true},
		{"EOF", fmt.Errorf("read: %w", io.EOF), true},
		{"a conn the driver closed", fmt.Errorf("query: %w", pgconn.ErrConnClosed), true},
		{"admin shutdown (57P01)", &pgconn.PgError{Code: "57P01"}, true},
		{"crash shutdown (57P02)", &pgconn.PgError{Code: "57P02"}, true},
		{"cannot connect now (57P03)", &pgconn.PgError{Code: "57P03"}, true},
		{"too many connections (53300)", &pgconn.PgError{Code: "53300"}, true},
		{"connection failure (08006)", &pgconn.PgError{Code: "08006"}, true},
		{"a deadline waiting for the server", fmt.Errorf("acquire: %w", context.DeadlineExceeded), true},
		{"a cancelled request", fmt.Errorf("query: %w", context.Canceled), false},
		{"a unique violation", &pgconn.PgError{Code: "23505"}, false},
		{"a syntax error", &pgconn.PgError{Code: "42601"}, false},
		{"no rows", pgx.ErrNoRows, false},
		{"anything else", errors.New("boom"), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := errors.Is(wrap("op", tc.err), store.ErrUnavailable); got != tc.want {
				t.Errorf("wrapped %v: unavailable = %v, want %v", tc.err, got, tc.want)
			}
		})
	}
}

// TestOpenUnreachableServerIsUnavailable opens a port nothing listens on:
// the error is store.ErrUnavailable, and comes at once.
func TestOpenUnreachableServerIsUnavailable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	start := time.Now()
	_, err = Open(context.Background(), "postgres://postgres@"+addr+"/x?sslmode=disable")
	if !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("Open of a closed port: %v, want store.ErrUnavailable", err)
	}
	if d := time.Since(start); d > defaultConnectTimeout+time.Second {
		t.Errorf("Open took %v", d)
	}
}
