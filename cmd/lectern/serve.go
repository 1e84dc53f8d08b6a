package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"sync/atomic"
	"time"

	"github.com/lectern/lectern/internal/api"
	"github.com/lectern/lectern/internal/authn"
	"github.com/lectern/lectern/internal/chat"
	"github.com/lectern/lectern/internal/config"
	"github.com/lectern/lectern/internal/fault"
	"github.com/lectern/lectern/internal/httpx"
	"github.com/lectern/lectern/internal/identity"
	"github.com/lectern/lectern/internal/insights"
	"github.com/lectern/lectern/internal/keys"
	"github.com/lectern/lectern/internal/library"
	"github.com/lectern/lectern/internal/metrics"
	"github.com/lectern/lectern/internal/password"
	"github.com/lectern/lectern/internal/ratelimit"
	"github.com/lectern/lectern/internal/store"
	"github.com/lectern/lectern/internal/web"
)

// runServe runs a server role: "serve" (every role in one process), "auth"
// (the identity service alone) or "api" (the API alone, verifying tokens
// against a remote JWKS).
func runServe(ctx context.Context, role string, args []string, getenv func(string) string, stderr io.Writer) error {
	cfg, err := parseConfig(role, args, getenv, stderr)
	if err != nil {
		return err
	}
	if role == "api" && cfg.JWKSURL == "" {
		return errors.New("api: LECTERN_JWKS_URL (--jwks-url) is required: the identity service's JWKS, e.g. https://auth.example/api/auth/jwks")
	}
	if role == "api" && (cfg.JWTIssuer == "" || cfg.JWTAudience == "") {
		// Without them, any token signed by a key of that JWKS would do,
		// whatever service it was issued for.
		return errors.New("api: LECTERN_JWT_ISSUER and LECTERN_JWT_AUDIENCE (--jwt-issuer, --jwt-audience) are required: the iss and aud of the identity service's tokens (its base URL, for Lectern and Better Auth)")
	}
	log := newLogger(cfg, stderr)
	st, err := openStore(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer st.Close()
	m := newMetrics(cfg)
	if err := observeStore(m, st); err != nil {
		return err
	}

	// One warning per refused origin, whichever part refused it (CORS, or
	// the identity service's origin check).
	refused := newOriginWarner(log, "refused a request from a page of another origin: if it is a site of yours (one showing the widget, or Lectern under another name), add it to the setting",
		"LECTERN_TRUSTED_ORIGINS")
	var id *identity.Server
	var kr *keys.Keyring
	var apiSrv *api.Server // built after identity, which tells it of deleted accounts
	if role == "serve" || role == "auth" {
		sec, err := secret(cfg, log)
		if err != nil {
			return err
		}
		if kr, err = newKeyring(ctx, cfg, st, sec); err != nil {
			return fmt.Errorf("signing keys: %w", err)
		}
		forget := func(userID string) {
			if apiSrv != nil {
				apiSrv.ForgetUser(userID)
			}
		}
		if id, err = newIdentity(cfg, log, st, kr, sec, m, forget, refused.warn); err != nil {
			return err
		}
		defer id.Wait()
		go sweepSessions(ctx, id, log)
	}

	if l := sharedLimits(cfg, st); l != nil && role != "web" {
		go sweepLimits(ctx, l, log)
	}

	// The book: served as pages by serve, searched by the assistant of
	// serve and api.
	var lib *library.Library
	if role != "auth" {
		lib = newLibrary(cfg, log, st, m)
		if err := openBook(ctx, cfg, log, st, lib); err != nil {
			return err
		}
	}

	// The owners' insights: the API's JSON, and the web role's page.
	var owners *insights.Service
	if cfg.Insights && lib != nil {
		owners = insights.New(st, insights.Options{AdminEmails: cfg.AdminEmails, Analyze: lib.Analyze, MinReaders: cfg.InsightsMinReaders})
	}

	if role == "serve" || role == "api" {
		var closeKeys func()
		if apiSrv, closeKeys, err = newAPI(ctx, role, cfg, log, st, kr, lib, owners, m); err != nil {
			return err
		}
		defer closeKeys()
	}

	var reader *web.Server
	if role == "serve" || role == "web" {
		opt := web.Options{APIBase: cfg.APIURL, AuthBase: cfg.AuthURL,
			ReturnOrigins: slices.Concat(cfg.CORSOrigins, cfg.TrustedOrigins), OwnersSeeQuestions: cfg.Insights}
		if owners != nil {
			opt.Insights, opt.Sessions = owners, st
		}
		reader = web.New(lib, log, opt)
	}

	ready := &readyState{}
	handler := newHandler(cfg, log, st, id, apiSrv, reader, lib, m, refused.warn, ready)
	srv := &http.Server{
		Addr:              cfg.Addr,
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	stopMetrics, err := serveMetrics(cfg, m, log) // stops after the main server
	if err != nil {
		return err
	}
	defer stopMetrics()
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	tokens := slog.String("jwt_alg", cfg.JWTAlg)
	if role == "api" {
		tokens = slog.String("jwks_url", cfg.JWKSURL)
	}
	warnHostMismatch(cfg, log)
	log.Info("lectern listening", "role", role, "addr", ln.Addr().String(), "base_url", cfg.BaseURL.String(),
		"database", engineName(cfg), tokens, "env", cfg.Env)

	return serveUntilDone(ctx, srv, ln, apiSrv, cfg.ShutdownTimeout, cfg.ShutdownDelay, ready, log)
}

// serveUntilDone serves on ln until ctx is done, then stops in two steps.
// First, when something (a load balancer, an orchestrator) asked /readyz
// in the last minute, it goes on serving for delay with /readyz answering
// 503, so that the health checks take the process out of rotation while
// it still serves what is routed to it: closing the listener at once would
// fail the requests a balancer sends before its next check. Then it
// drains: the listener closes, and answers still running near the end of
// the grace period stop and tell their readers to ask again, so that the
// shutdown ends in time.
func serveUntilDone(ctx context.Context, srv *http.Server, ln net.Listener, apiSrv *api.Server, grace, delay time.Duration, ready *readyState, log *slog.Logger) error {
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	ready.stopping.Store(true)
	if delay > 0 && ready.askedWithin(readyProbeWindow) {
		log.Info("stopping: /readyz answers 503; serving on until the load balancer takes this process out", "delay", delay)
		select {
		case err := <-errc:
			return fmt.Errorf("serve: %w", err)
		case <-time.After(delay):
		}
	}
	log.Info("shutting down", "grace", grace)
	if apiSrv != nil {
		apiSrv.Drain(grace)
	}
	sctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		srv.Close()
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	log.Info("stopped")
	return nil
}

// newAPI builds the API of the serve or api role: the token guard (the
// process's own keys for serve, the identity service's JWKS for api), the
// chat service and its assistant. The returned func stops the JWKS cache.
func newAPI(ctx context.Context, role string, cfg *config.Config, log *slog.Logger, st store.Store, kr *keys.Keyring,
	lib *library.Library, owners *insights.Service, m *metrics.Metrics) (*api.Server, func(), error) {
	var src authn.KeySource = authn.InProcess(kr)
	issuer, audience := cfg.Issuer(), cfg.Audience()
	closeKeys := func() {}
	if role == "api" {
		remote, err := authn.NewRemote(ctx, cfg.JWKSURL, authn.RemoteOptions{Logger: log})
		if err != nil {
			return nil, nil, fmt.Errorf("JWKS: %w", err)
		}
		closeKeys = remote.Close
		src, issuer, audience = remote, cfg.JWTIssuer, cfg.JWTAudience
	}
	guard := authn.NewVerifier(src, authn.Options{Issuer: issuer, Audience: audience, OnReject: observeRejects(m)})
	svc := chat.New(st, newAssistant(cfg, log, lib, m), chat.Options{
		Budget:   chat.Budget{Requests: cfg.ChatBudgetRequests, Tokens: cfg.ChatBudgetTokens},
		OnAnswer: observeAnswers(m, cfg),
		// Nil-safe, as the identity hooks.
		OnOverBudget: func() { m.RateLimited("daily_budget") },
		Log:          httpx.Logger,
	})
	opt := api.Options{
		ChatRule:   cfg.ChatRateLimit,
		MaxAnswers: cfg.MaxAnswers,
		// Nil-safe, as the identity hooks.
		OnRateLimited: func() { m.RateLimited("chat") },
		Insights:      owners,
		// An answer's place is held at most twice the model's time limit.
		AnswerLease:   2 * cfg.LLMTimeout,
		OnSharedError: func(error) { m.SharedLimitFallback() },
	}
	if l := sharedLimits(cfg, st); l != nil {
		opt.SharedCounts, opt.AnswerSlots = l, l
	}
	return api.New(opt, svc, st, guard, ratelimit.New(time.Now, ratelimit.DefaultMaxKeys)), closeKeys, nil
}

// newIdentity builds the identity service. Its per-address limits have a
// limiter of their own, apart from the API's per-reader one and from the
// account lockouts, so that filling one cannot push out the others.
func newIdentity(cfg *config.Config, log *slog.Logger, st store.Store, kr *keys.Keyring, sec []byte, m *metrics.Metrics, onUserDeleted, onUntrustedOrigin func(string)) (*identity.Server, error) {
	hasher, err := password.NewHasher(password.Default(), hashConcurrency)
	if err != nil {
		return nil, err
	}
	// Without SMTP, mail goes to the log; its links (credentials) only in
	// development.
	var mailer identity.Mailer = identity.LogMailer{Log: log, ShowBody: !cfg.Production()}
	if cfg.SMTPURL != nil {
		mailer = identity.SMTPMailer{URL: cfg.SMTPURL, From: cfg.MailFrom}
	} else if cfg.Production() {
		log.Warn("no SMTP server configured (LECTERN_SMTP_URL): password-reset and verification mail cannot be delivered, and its links are not logged in production")
	}
	if !cfg.RateLimitOn {
		log.Warn("rate limiting of sign-in, sign-up and password reset is OFF (LECTERN_AUTH_RATE_LIMIT=off); use this for tests and benchmarks only")
	}
	var counts ratelimit.Counts
	if l := sharedLimits(cfg, st); l != nil {
		counts = l
	}
	return identity.New(identity.Options{
		BaseURL:        cfg.BaseURL,
		Secret:         sec,
		TrustedOrigins: cfg.TrustedOrigins,
		SecureCookies:  cfg.SecureCookies(),
		Issuer:         cfg.Issuer(),
		Audience:       cfg.Audience(),
		RateLimit:      cfg.AuthRateLimit,
		RateLimitOn:    cfg.RateLimitOn,
		ClientIP:       httpx.ClientIP{Trusted: cfg.TrustedProxies},
		VerifyOnSignUp: cfg.SMTPURL != nil,
		// Nil-safe: with metrics off these count nothing.
		OnRateLimited:     m.RateLimited,
		OnSignInFailure:   m.SignInFailed,
		OnUserDeleted:     onUserDeleted,
		OnUntrustedOrigin: onUntrustedOrigin,
		SharedCounts:      counts,
		OnSharedError:     func(error) { m.SharedLimitFallback() },
	}, st, kr, hasher, ratelimit.New(time.Now, ratelimit.DefaultMaxKeys), mailer), nil
}

// hashConcurrency bounds simultaneous password hashes: with 19 MiB each,
// 8 at once cap hashing memory near 150 MiB whatever the sign-in load.
const hashConcurrency = 8

func engineName(cfg *config.Config) string {
	if cfg.DatabaseURL != "" {
		return "postgres"
	}
	return "sqlite"
}

// sweepSessions deletes expired sessions hourly until ctx ends.
func sweepSessions(ctx context.Context, id *identity.Server, log *slog.Logger) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		if n, err := id.Sweep(ctx); err != nil && ctx.Err() == nil {
			log.Warn("sweep expired sessions and tokens", "err", err)
		} else if n > 0 {
			log.Info("swept expired sessions and tokens", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// readyProbeWindow is how recently /readyz must have been asked for a
// stopping process to wait its shutdown delay: a process nobody probes has
// no balancer to wait for.
const readyProbeWindow = time.Minute

// readyState is what /readyz knows besides the database and the book:
// whether the process is stopping, and when /readyz was last asked.
type readyState struct {
	stopping atomic.Bool
	asked    atomic.Int64 // time.Now().UnixNano() of the last request
}

// askedWithin reports whether /readyz was asked in the last d.
func (s *readyState) askedWithin(d time.Duration) bool {
	last := s.asked.Load()
	return last != 0 && time.Since(time.Unix(0, last)) < d
}

// readiness reports whether the process is not stopping, the database
// answers and, for a role that serves the book, whether it is loaded.
func readiness(st store.Store, lib *library.Library, ready *readyState) httpx.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		ready.asked.Store(time.Now().UnixNano())
		if ready.stopping.Load() {
			return &fault.Error{Kind: fault.Unavailable, Code: "NOT_READY", Message: "The server is stopping", RetryAfter: time.Second}
		}
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := st.Ping(ctx); err != nil {
			return &fault.Error{Kind: fault.Unavailable, Code: "NOT_READY", Message: "Database unreachable", Err: err}
		}
		if lib != nil && !lib.Ready() {
			return fault.New(fault.Unavailable, "NOT_READY", "The book is not loaded")
		}
		httpx.WriteJSON(w, http.StatusOK, map[string]string{"status": "ready"})
		return nil
	}
}
