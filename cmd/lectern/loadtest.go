package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/lectern/lectern/internal/loadtest"
)

const loadtestHelp = `Usage: lectern loadtest [flags]

Drives a running Lectern with virtual readers who do what readers do: each
signs up (loadtest-<run id>-<n>@example.test), signs in and fetches a JWT
(renewed before it expires), then lists its conversations, asks questions
(continuing its conversation or starting a new one) and reads
conversations' history, in the proportions of --mix, until --duration,
--count or --total. It prints per operation (sign_up, sign_in, token,
list_conversations, ask, history, ask_stream, ask_stream_first_delta) the
count, the errors by kind, the throughput and the latency percentiles, as a
table or with --json.

The operations --mix weighs (e.g. --mix ask=1,ask_stream=1,list=2,history=2):
  ask         POST /api/agents/run: the answer in one response
  ask_stream  POST /api/agents/stream, as the chat panel asks: the same
              question, its Server-Sent Events read to the last one; its
              latency is to that last event (done), and the row
              ask_stream_first_delta (no requests of its own) times the
              first delta event, the first text the reader sees. A stream
              that ends with an error event counts as a stream_error:<code>
              error, one that ends without done or error as stream_truncated
  list        GET /api/conversations
  history     GET /api/conversations/{id}/messages
  sign_in     a fresh sign-in (costs the server a password hash)
The default mix (below) has no ask_stream.

Closed loop (the default): each reader sends its next request once the
previous one is answered (and --think has passed). Open loop (--rate R):
requests start at R per second in all, whichever reader is free, and their
latency counts from when they were due; above the server's capacity latency
grows and requests are dropped. Raise --rate until they are to find the
highest rate the server sustains (give enough --readers to keep up).

The server under test needs these settings, or the figures measure its
limits instead of its capacity:
  LECTERN_AUTH_RATE_LIMIT=off    else sign-up and sign-in are held to 3 per 10s
                                 per IP (all readers share this machine's IP)
                                 and other identity requests to 100 per 10s
  LECTERN_CHAT_RATE_LIMIT=off    else 20 questions a minute per reader
  LECTERN_CHAT_DAILY_BUDGET=off  else 300 questions a day per reader
A 429 is counted as a rate_limited error and the reader waits its
Retry-After (at most 30s); the report says which limit answered. Without
LECTERN_LLM_BASE_URL questions are answered by the built-in extractive
answerer; with a model every question is a model call, which costs what it
costs. RS256 tokens cost about 0.8 ms of CPU each, EdDSA ones far less
(LECTERN_JWT_ALG). Every run creates --readers accounts and their
conversations: load a test server, not one whose data matters.

Every reader's password is random and never printed, unless
LECTERN_LOADTEST_PASSWORD is set; with it and the --run-id of an earlier
run made with the same password, that run's accounts are signed into again.

Example:
  LECTERN_AUTH_RATE_LIMIT=off LECTERN_CHAT_RATE_LIMIT=off LECTERN_CHAT_DAILY_BUDGET=off \
    lectern serve --addr 127.0.0.1:8080 --data-dir "$(mktemp -d)" &
  lectern loadtest --readers 20 --duration 30s --report-every 5s
  lectern loadtest --readers 50 --rate 200 --duration 30s --questions books/demo.qa.jsonl

Flags:
`

// runLoadtest is "lectern loadtest": see loadtestHelp.
func runLoadtest(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("lectern loadtest", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), loadtestHelp)
		fs.PrintDefaults()
	}
	var (
		cfg       loadtest.Config
		mix       string
		questions string
		asJSON    bool
	)
	fs.StringVar(&cfg.Target, "target", loadtest.DefaultTarget, "base URL of the Lectern to load (its API, and its identity service unless --auth-url)")
	fs.StringVar(&cfg.AuthURL, "auth-url", "", "base URL of the identity service, for a split deployment (default: the target)")
	fs.IntVar(&cfg.Readers, "readers", 10, "number of virtual readers, each with its own account, cookies and connection")
	fs.DurationVar(&cfg.Duration, "duration", 30*time.Second, "length of the load phase, after every reader has signed in (0: until --count or --total; the default is 0 when either is given)")
	fs.IntVar(&cfg.Count, "count", 0, "operations per reader, then stop")
	fs.IntVar(&cfg.Total, "total", 0, "operations in all, then stop")
	fs.Float64Var(&cfg.Rate, "rate", 0, "open loop: start this many operations per second in all (0: closed loop)")
	fs.DurationVar(&cfg.Think, "think", 0, "closed loop: a reader's average pause between operations")
	fs.StringVar(&mix, "mix", loadtest.DefaultMix().String(), "relative weights of the operations: ask, ask_stream, list, history, sign_in")
	fs.Float64Var(&cfg.FollowUp, "follow-up", 0.5, "probability that a question continues the reader's conversation rather than starting one")
	fs.StringVar(&questions, "questions", "", `JSON Lines file of {"question": "..."} objects to ask besides the built-in questions (e.g. books/demo.qa.jsonl)`)
	fs.DurationVar(&cfg.Timeout, "timeout", 60*time.Second, "how long one request (a streamed answer: to its last event) may take before it counts as a timeout")
	fs.DurationVar(&cfg.ReportEvery, "report-every", 0, "print a progress line to stderr at this interval (0: none)")
	fs.StringVar(&cfg.RunID, "run-id", "", "name of the run's accounts (default: random); see LECTERN_LOADTEST_PASSWORD")
	fs.BoolVar(&asJSON, "json", false, "print the report as JSON")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("loadtest: unexpected arguments %q", fs.Args())
	}
	durationSet := false
	fs.Visit(func(f *flag.Flag) { durationSet = durationSet || f.Name == "duration" })
	if !durationSet && (cfg.Count > 0 || cfg.Total > 0) {
		cfg.Duration = 0
	}
	m, err := loadtest.ParseMix(mix)
	if err != nil {
		return fmt.Errorf("loadtest: --%w", err)
	}
	cfg.Mix = m
	if questions != "" {
		f, err := os.Open(questions)
		if err != nil {
			return fmt.Errorf("loadtest: questions: %w", err)
		}
		cfg.Questions, err = loadtest.ReadQuestions(f)
		f.Close()
		if err != nil {
			return fmt.Errorf("loadtest: questions %s: %w", questions, err)
		}
	}
	cfg.Password = getenv("LECTERN_LOADTEST_PASSWORD")
	cfg.Progress = stderr

	rep, err := loadtest.Run(ctx, cfg)
	if err != nil {
		return fmt.Errorf("loadtest: %w", err)
	}
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	return rep.Write(stdout)
}
