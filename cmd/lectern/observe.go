package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/lectern/lectern/internal/answer"
	"github.com/lectern/lectern/internal/authn"
	"github.com/lectern/lectern/internal/chat"
	"github.com/lectern/lectern/internal/config"
	"github.com/lectern/lectern/internal/httpx"
	"github.com/lectern/lectern/internal/llm"
	"github.com/lectern/lectern/internal/metrics"
	"github.com/lectern/lectern/internal/store"
	"github.com/lectern/lectern/internal/store/postgres"
	"github.com/lectern/lectern/internal/store/sqlite"
)

// This file connects the metrics to the packages that observe something.
// Those packages take plain hooks in their Options; only this file and
// internal/metrics know Prometheus. Every helper accepts a nil
// *metrics.Metrics (no LECTERN_METRICS_ADDR) and then adds nothing.

// newMetrics returns the process's metrics, or nil when they are off.
func newMetrics(cfg *config.Config) *metrics.Metrics {
	if cfg.MetricsAddr == "" {
		return nil
	}
	return metrics.New()
}

// metricsShutdownTimeout bounds the wait for a scrape in progress when the
// process stops; the main server has drained by then.
const metricsShutdownTimeout = 5 * time.Second

// serveMetrics listens on cfg.MetricsAddr and serves GET /metrics there,
// and nothing else, until the returned stop is called. With metrics off it
// does nothing.
func serveMetrics(cfg *config.Config, m *metrics.Metrics, log *slog.Logger) (stop func(), err error) {
	if m == nil {
		return func() {}, nil
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.Handler(log))
	writeTimeout := 30 * time.Second
	if cfg.PProf {
		writeTimeout = 2 * time.Minute // room for /debug/pprof/profile?seconds=60
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	}
	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    16 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	ln, err := net.Listen("tcp", cfg.MetricsAddr)
	if err != nil {
		return nil, fmt.Errorf("metrics: listen: %w", err)
	}
	log.Info("metrics listening", "addr", ln.Addr().String(), "path", "/metrics")
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics server stopped", "err", err)
		}
	}()
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), metricsShutdownTimeout)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			srv.Close()
		}
		<-done
	}, nil
}

// observeStore adds the connection-pool statistics of the store's engine.
func observeStore(m *metrics.Metrics, st store.Store) error {
	if m == nil {
		return nil
	}
	switch s := st.(type) {
	case *postgres.Store:
		return m.RegisterPgxPool(func() metrics.PgxPoolStats { return pgxPoolStats(s.Pool().Stat()) })
	case *sqlite.Store:
		if err := m.RegisterSQLDB("sqlite_write", func() metrics.SQLPoolStats { w, _ := s.Stats(); return sqlPoolStats(w) }); err != nil {
			return err
		}
		return m.RegisterSQLDB("sqlite_read", func() metrics.SQLPoolStats { _, r := s.Stats(); return sqlPoolStats(r) })
	}
	return nil
}

// pgxPoolStats are a PostgreSQL pool's figures for the metrics.
func pgxPoolStats(s *pgxpool.Stat) metrics.PgxPoolStats {
	return metrics.PgxPoolStats{Acquired: s.AcquiredConns(), Idle: s.IdleConns(), Total: s.TotalConns(), Max: s.MaxConns(),
		Acquires: s.AcquireCount(), AcquireTime: s.AcquireDuration(), EmptyAcquires: s.EmptyAcquireCount(),
		EmptyAcquireWait: s.EmptyAcquireWaitTime(), Canceled: s.CanceledAcquireCount()}
}

// sqlPoolStats are a database/sql pool's figures for the metrics.
func sqlPoolStats(s sql.DBStats) metrics.SQLPoolStats {
	return metrics.SQLPoolStats{InUse: s.InUse, Idle: s.Idle, Open: s.OpenConnections, MaxOpen: s.MaxOpenConnections,
		Waits: s.WaitCount, WaitTime: s.WaitDuration, MaxIdleClosed: s.MaxIdleClosed,
		MaxIdleTimeClosed: s.MaxIdleTimeClosed, MaxLifetimeClosed: s.MaxLifetimeClosed}
}

// observeRequests is the AccessLog observer that counts requests.
func observeRequests(m *metrics.Metrics) []func(httpx.RequestStats) {
	if m == nil {
		return nil
	}
	return []func(httpx.RequestStats){func(s httpx.RequestStats) {
		m.ObserveRequest(s.Route, s.Method, s.Status, s.Duration)
	}}
}

// observeRejects is authn.Options.OnReject.
func observeRejects(m *metrics.Metrics) func(authn.Reason) {
	if m == nil {
		return nil
	}
	return func(r authn.Reason) { m.AuthFailed(string(r)) }
}

// observeSearches is library.Options.OnSearch.
func observeSearches(m *metrics.Metrics) func(string, time.Duration) {
	if m == nil {
		return nil
	}
	return m.ObserveSearch
}

// modelName is the model label of the assistant's metrics.
func modelName(cfg *config.Config) string {
	if cfg.LLMBaseURL == "" {
		return "extractive"
	}
	return cfg.LLMModel
}

// observeAnswers is chat.Options.OnAnswer.
func observeAnswers(m *metrics.Metrics, cfg *config.Config) func(chat.AnswerStats) {
	if m == nil {
		return nil
	}
	model := modelName(cfg)
	return func(s chat.AnswerStats) {
		outcome := "ok"
		switch {
		case s.Canceled:
			outcome = "canceled"
		case s.Err != nil:
			outcome = "error"
		}
		m.ObserveAnswer(s.Agent, model, outcome, s.FirstText, s.Total)
	}
}

// observeModel counts the tokens model reports using.
func observeModel(m *metrics.Metrics, cfg *config.Config, model answer.Model) answer.Model {
	if m == nil {
		return model
	}
	return countingModel{Model: model, name: modelName(cfg), m: m}
}

// countingModel is an answer.Model that counts the tokens of each request.
type countingModel struct {
	answer.Model
	name string
	m    *metrics.Metrics
}

// Stream implements answer.Model.
func (c countingModel) Stream(ctx context.Context, req llm.Request, onDelta func(string) error) (string, llm.Usage, error) {
	text, usage, err := c.Model.Stream(ctx, req, onDelta)
	c.m.AddTokens(c.name, usage.PromptTokens, usage.CompletionTokens)
	return text, usage, err
}

var _ answer.Model = countingModel{}
