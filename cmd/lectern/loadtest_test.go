package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"strings"
	"testing"
)

// TestLoadtestCommand runs "lectern loadtest" against a real lectern serve
// (SQLite, the demo book, the extractive answerer, limits off), questions
// asked both ways (run and stream): first for JSON, then, with the same
// accounts, for the table.
func TestLoadtestCommand(t *testing.T) {
	base, _, _ := startServe(t, map[string]string{
		"LECTERN_SECRET":            strings.Repeat("s", 40),
		"LECTERN_AUTH_RATE_LIMIT":   "off",
		"LECTERN_CHAT_RATE_LIMIT":   "off",
		"LECTERN_CHAT_DAILY_BUDGET": "off",
	})
	// A known password, so the second run can sign into the first run's
	// accounts.
	env := envFunc(map[string]string{"LECTERN_LOADTEST_PASSWORD": "load test password"})
	// Each reader starts at a random point of the mix's round-robin (period
	// 7 here) and turns a history read before its first question into a
	// question; 14 operations, two whole periods, give every reader every
	// operation whatever its start.
	args := []string{"loadtest", "--target", base, "--readers", "4", "--count", "14", "--run-id", "e2e",
		"--mix", "ask=2,ask_stream=2,list=1,history=1,sign_in=1", "--questions", "../../books/demo.qa.jsonl"}
	ctx := context.Background()

	var out, errs bytes.Buffer
	if err := run(ctx, append(args, "--json"), env, &out, &errs); err != nil {
		t.Fatalf("loadtest: %v\n%s", err, errs.String())
	}
	var rep struct {
		Readers      int `json:"readers"`
		ReadersReady int `json:"readers_ready"`
		Ops          []struct {
			Op            string
			Derived       bool
			Count, Errors int64
			Rate          float64
			P50MS         float64 `json:"p50_ms"`
			P95MS         float64 `json:"p95_ms"`
			P99MS         float64 `json:"p99_ms"`
			MaxMS         float64 `json:"max_ms"`
		}
		Totals struct{ Count, Errors int64 }
	}
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("%v:\n%s", err, out.String())
	}
	if rep.Readers != 4 || rep.ReadersReady != 4 {
		t.Errorf("readers %d, ready %d", rep.Readers, rep.ReadersReady)
	}
	names := map[string]bool{}
	counts := map[string]int64{}
	var sum int64
	for _, s := range rep.Ops {
		names[s.Op] = true
		counts[s.Op] = s.Count
		if s.Derived != (s.Op == "ask_stream_first_delta") {
			t.Errorf("%s: derived %v", s.Op, s.Derived)
		}
		if !s.Derived {
			sum += s.Count
		}
		if s.Count == 0 || s.Errors != 0 {
			t.Errorf("%s: count %d, errors %d", s.Op, s.Count, s.Errors)
		}
		if !(0 < s.P50MS && s.P50MS <= s.P95MS && s.P95MS <= s.P99MS && s.P99MS <= s.MaxMS) {
			t.Errorf("%s: latencies out of order: p50 %v p95 %v p99 %v max %v", s.Op, s.P50MS, s.P95MS, s.P99MS, s.MaxMS)
		}
	}
	for _, op := range []string{"sign_up", "sign_in", "token", "list_conversations", "ask", "history", "ask_stream", "ask_stream_first_delta"} {
		if !names[op] {
			t.Errorf("no %s in the report:\n%s", op, out.String())
		}
	}
	// Every stream's answer had text, or at least some did; the first-delta
	// row is no requests of its own.
	if n, s := counts["ask_stream_first_delta"], counts["ask_stream"]; n == 0 || n > s {
		t.Errorf("%d first deltas of %d streams", n, s)
	}
	if rep.Totals.Errors != 0 || rep.Totals.Count < 4*(1+1+1)+4*14 || rep.Totals.Count != sum {
		t.Errorf("totals %+v; the operations but the derived one sum to %d", rep.Totals, sum)
	}

	out.Reset()
	errs.Reset()
	if err := run(ctx, append(args, "--report-every", "10ms"), env, &out, &errs); err != nil {
		t.Fatalf("second loadtest: %v\n%s", err, errs.String())
	}
	text := out.String()
	for _, want := range []string{"Lectern load test of " + base, "readers 4 (4 signed in)", "OPERATION", "P99",
		"sign_up", "sign_in", "token", "list_conversations", "ask", "history", "ask_stream", "ask_stream_first_delta", "total"} {
		if !strings.Contains(text, want) {
			t.Errorf("the table lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "errors:") || strings.Contains(text, "notes:") || strings.Contains(text, "load test password") {
		t.Errorf("the rerun with the same accounts had errors or notes, or printed the password:\n%s", text)
	}
}

// TestLoadtestSplitRoles loads an API (lectern api) whose identity service
// (lectern auth) is elsewhere: --auth-url.
func TestLoadtestSplitRoles(t *testing.T) {
	authAddr := freeAddr(t)
	authURL := "http://" + authAddr
	startRole(t, "auth", map[string]string{
		"LECTERN_ADDR": authAddr, "LECTERN_BASE_URL": authURL, "LECTERN_SECRET": strings.Repeat("s", 40),
		"LECTERN_AUTH_RATE_LIMIT": "off",
	})
	apiBase, _, _ := startRole(t, "api", map[string]string{
		"LECTERN_JWKS_URL": authURL + "/api/auth/jwks", "LECTERN_JWT_ISSUER": authURL, "LECTERN_JWT_AUDIENCE": authURL,
		"LECTERN_CHAT_RATE_LIMIT": "off", "LECTERN_CHAT_DAILY_BUDGET": "off",
	})
	ctx := context.Background()
	if err := run(ctx, []string{"loadtest", "--target", apiBase, "--count", "3"}, envFunc(nil), io.Discard, io.Discard); err == nil ||
		!strings.Contains(err.Error(), "does not serve the identity service") {
		t.Errorf("without --auth-url: %v", err)
	}
	var out bytes.Buffer
	if err := run(ctx, []string{"loadtest", "--target", apiBase, "--auth-url", authURL, "--readers", "2", "--count", "6", "--json"},
		envFunc(nil), &out, io.Discard); err != nil {
		t.Fatalf("loadtest: %v", err)
	}
	var rep struct {
		Totals struct{ Count, Errors int64 }
	}
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil || rep.Totals.Errors != 0 || rep.Totals.Count < 2*3+2*6 {
		t.Errorf("%v %+v:\n%s", err, rep, out.String())
	}
}

func TestLoadtestCommandErrors(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + l.Addr().String()
	l.Close()
	ctx := context.Background()
	env := envFunc(map[string]string{})
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"loadtest", "--target", closed, "--count", "1"}, "loadtest: " + closed + " is not reachable"},
		{[]string{"loadtest", "--mix", "ask=1,read=2"}, `loadtest: --mix: unknown operation "read"`},
		{[]string{"loadtest", "--mix", "ask=lots"}, `weight "lots" of ask`},
		{[]string{"loadtest", "--questions", "/nonexistent/q.jsonl"}, "loadtest: questions:"},
		{[]string{"loadtest", "--readers", "0"}, "readers: 0"},
		{[]string{"loadtest", "extra"}, "unexpected arguments"},
	} {
		err := run(ctx, tc.args, env, io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v, want an error containing %q", tc.args, err, tc.want)
		}
	}
	var help bytes.Buffer
	if err := run(ctx, []string{"loadtest", "-h"}, env, io.Discard, &help); err != nil {
		t.Fatalf("-h: %v", err)
	}
	for _, want := range []string{"LECTERN_AUTH_RATE_LIMIT=off", "LECTERN_CHAT_RATE_LIMIT=off", "LECTERN_CHAT_DAILY_BUDGET=off", "-rate", "-mix",
		"ask_stream", "ask_stream_first_delta", "POST /api/agents/stream"} {
		if !strings.Contains(help.String(), want) {
			t.Errorf("help lacks %q", want)
		}
	}
}
