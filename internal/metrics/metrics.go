// Package metrics holds Lectern's Prometheus metrics: one private registry
// per process, the metric vectors, and small methods the wiring in
// cmd/lectern hands to the packages that observe something (as hooks in their
// Options), so that only this package and the wiring import Prometheus.
//
// Every method is safe for concurrent use and does nothing on a nil
// *Metrics, which is what a process without LECTERN_METRICS_ADDR has.
//
// Label values are bounded by construction: routes are the patterns of the
// server's own muxes, methods outside the standard ones are counted as
// "other", and reasons and scopes are fixed strings chosen by the callers.
// Nothing a client sends (paths, emails, addresses, tokens) becomes a label.
package metrics

import (
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Histogram buckets, in seconds. They are functions, not package variables,
// because a histogram keeps the slice it is given.

// httpBuckets span a cached page (about a millisecond) to an answer streamed
// over SSE (tens of seconds).
func httpBuckets() []float64 {
	return []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30}
}

// searchBuckets: BM25 over one book takes well under a millisecond; the
// dense path adds a call to the embedding server.
func searchBuckets() []float64 {
	return []float64{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5}
}

// answerBuckets: the extractive answerer takes milliseconds, a model on a
// CPU may think for a minute before its first token.
func answerBuckets() []float64 {
	return []float64{0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120}
}

// Metrics owns the registry and every metric of a Lectern process. Build it
// with New; a nil *Metrics records nothing.
type Metrics struct {
	reg *prometheus.Registry

	httpRequests   *prometheus.CounterVec
	httpDuration   *prometheus.HistogramVec
	authFailures   *prometheus.CounterVec
	signInFailures *prometheus.CounterVec
	rateLimited    *prometheus.CounterVec
	sharedFallback prometheus.Counter
	searchDuration *prometheus.HistogramVec
	answerFirst    *prometheus.HistogramVec
	answerDuration *prometheus.HistogramVec
	modelTokens    *prometheus.CounterVec
}

// New returns Metrics registered in a new private registry, together with
// the Go runtime and process collectors.
func New() *Metrics {
	reg := prometheus.NewRegistry()
	m := &Metrics{
		reg: reg,
		httpRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lectern_http_requests_total",
			Help: "HTTP requests answered, by route pattern (\"unmatched\" when no route matched), method and status code.",
		}, []string{"route", "method", "status"}),
		httpDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "lectern_http_request_duration_seconds",
			Help:    "Time from receiving a request to the end of its response, by route pattern; streamed answers count until the stream ends.",
			Buckets: httpBuckets(),
		}, []string{"route"}),
		authFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lectern_auth_failures_total",
			Help: "API requests refused 401 by the bearer-token guard, by reason (missing, malformed, bad_signature, expired, unknown_kid, ...).",
		}, []string{"reason"}),
		signInFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lectern_sign_in_failures_total",
			Help: "Failed email-and-password sign-ins, by reason.",
		}, []string{"reason"}),
		rateLimited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lectern_rate_limited_total",
			Help: "Requests refused 429 by a rate limit or lockout, by scope.",
		}, []string{"scope"}),
		sharedFallback: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "lectern_shared_limit_fallbacks_total",
			Help: "Limit checks the shared counts in the database could not answer, answered by this process's own counts instead (the limits then hold per replica).",
		}),
		searchDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "lectern_search_duration_seconds",
			Help:    "Time to search the book, by mode: bm25 (keywords alone) or hybrid (keywords fused with embeddings, the embedding call included).",
			Buckets: searchBuckets(),
		}, []string{"mode"}),
		answerFirst: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "lectern_answer_first_token_seconds",
			Help:    "Time from asking the assistant to the first piece of its answer's text, by agent and model (\"extractive\" without a language model).",
			Buckets: answerBuckets(),
		}, []string{"agent", "model"}),
		answerDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "lectern_answer_duration_seconds",
			Help:    "Time the assistant took to answer, search included, by agent, model and outcome (ok, canceled or error).",
			Buckets: answerBuckets(),
		}, []string{"agent", "model", "outcome"}),
		modelTokens: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lectern_model_tokens_total",
			Help: "Tokens the language model reported using, by model and type (prompt or completion).",
		}, []string{"model", "type"}),
	}
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.httpRequests, m.httpDuration, m.authFailures, m.signInFailures, m.rateLimited, m.sharedFallback,
		m.searchDuration, m.answerFirst, m.answerDuration, m.modelTokens,
	)
	return m
}

// Registry returns the registry, for collectors added by the wiring and for
// tests.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the registry in the Prometheus exposition format. Errors
// collecting a metric are logged to log (when not nil) and the rest is
// served.
func (m *Metrics) Handler(log *slog.Logger) http.Handler {
	opts := promhttp.HandlerOpts{
		ErrorHandling: promhttp.ContinueOnError,
		// A scraper is one client; a few at once is already a mistake.
		MaxRequestsInFlight: 4,
		Timeout:             10 * time.Second,
	}
	if log != nil {
		opts.ErrorLog = slog.NewLogLogger(log.Handler(), slog.LevelWarn)
	}
	return promhttp.HandlerFor(m.reg, opts)
}

// ObserveRequest records a finished HTTP request. route is the pattern the
// request matched ("" is counted as "unmatched").
func (m *Metrics) ObserveRequest(route, method string, status int, elapsed time.Duration) {
	if m == nil {
		return
	}
	if route == "" {
		route = "unmatched"
	}
	m.httpRequests.WithLabelValues(route, normalizeMethod(method), strconv.Itoa(status)).Inc()
	m.httpDuration.WithLabelValues(route).Observe(elapsed.Seconds())
}

// normalizeMethod bounds the method label: a client can send any token as a
// method.
func normalizeMethod(method string) string {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return method
	}
	return "other"
}

// AuthFailed counts a request the bearer-token guard refused.
func (m *Metrics) AuthFailed(reason string) {
	if m == nil {
		return
	}
	m.authFailures.WithLabelValues(reason).Inc()
}

// SignInFailed counts a failed sign-in.
func (m *Metrics) SignInFailed(reason string) {
	if m == nil {
		return
	}
	m.signInFailures.WithLabelValues(reason).Inc()
}

// RateLimited counts a request refused by the rate limit named scope.
func (m *Metrics) RateLimited(scope string) {
	if m == nil {
		return
	}
	m.rateLimited.WithLabelValues(scope).Inc()
}

// SharedLimitFallback counts a limit check that the shared counts could not
// answer, answered by this process's counts instead.
func (m *Metrics) SharedLimitFallback() {
	if m == nil {
		return
	}
	m.sharedFallback.Inc()
}

// ObserveSearch records the time one search of the book took.
func (m *Metrics) ObserveSearch(mode string, elapsed time.Duration) {
	if m == nil {
		return
	}
	m.searchDuration.WithLabelValues(mode).Observe(elapsed.Seconds())
}

// ObserveAnswer records one answer of the assistant: firstText is the time
// to the first piece of text (0 when there was none, which is not
// recorded), total the time to the end, outcome how it ended: ok, canceled
// (the reader went away, or the server stopped the answer) or error.
func (m *Metrics) ObserveAnswer(agent, model, outcome string, firstText, total time.Duration) {
	if m == nil {
		return
	}
	if firstText > 0 {
		m.answerFirst.WithLabelValues(agent, model).Observe(firstText.Seconds())
	}
	m.answerDuration.WithLabelValues(agent, model, outcome).Observe(total.Seconds())
}

// AddTokens counts the tokens a model reported for one request.
func (m *Metrics) AddTokens(model string, prompt, completion int) {
	if m == nil {
		return
	}
	if prompt > 0 {
		m.modelTokens.WithLabelValues(model, "prompt").Add(float64(prompt))
	}
	if completion > 0 {
		m.modelTokens.WithLabelValues(model, "completion").Add(float64(completion))
	}
}
