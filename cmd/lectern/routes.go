package main

import (
	"log/slog"
	"net/http"
	"slices"

	"github.com/lectern/lectern/internal/api"
	"github.com/lectern/lectern/internal/config"
	"github.com/lectern/lectern/internal/httpx"
	"github.com/lectern/lectern/internal/identity"
	"github.com/lectern/lectern/internal/library"
	"github.com/lectern/lectern/internal/metrics"
	"github.com/lectern/lectern/internal/store"
	"github.com/lectern/lectern/internal/web"
)

// Request body limits: identity bodies are small JSON objects; API bodies
// hold at most a question and a highlighted passage.
const (
	maxAuthBody    = 64 << 10
	maxAPIBody     = 256 << 10 // a question with a long highlighted passage
	maxDefaultBody = 1 << 20
)

// newHandler lists every route of the process and wraps them in the shared
// middleware. The identity routes (under /api/auth/) and the API routes (the
// rest of /api/) are listed in their packages' routes.go; a role that does
// not serve one passes nil for it. The reader (web) serves every other path,
// and the public book endpoints GET /api/book and GET /api/search. Metrics
// are never served here, only on their own address (serveMetrics); m counts
// every request the access log sees; refused is told each origin refused;
// ready tells /readyz that the process is stopping.
func newHandler(cfg *config.Config, log *slog.Logger, st store.Store, id *identity.Server, apiSrv *api.Server, reader *web.Server, lib *library.Library, m *metrics.Metrics, refused func(string), ready *readyState) http.Handler {
	mux := http.NewServeMux()
	// A trusted origin (a site whose pages may sign readers in) may also
	// read the answers: one setting serves every role of a split deployment.
	cors := httpx.CORS(slices.Concat(cfg.CORSOrigins, cfg.TrustedOrigins), refused)
	if id != nil {
		mux.Handle("/api/auth/", httpx.Chain(id.Handler(), cors, httpx.LimitBody(maxAuthBody)))
	}
	if apiSrv != nil {
		mux.Handle("/api/", httpx.Chain(apiSrv.Handler(), cors, httpx.LimitBody(maxAPIBody)))
	}
	mux.Handle("GET /healthz", httpx.Handle(func(w http.ResponseWriter, r *http.Request) error {
		httpx.WriteJSON(w, http.StatusOK, map[string]string{"status": "ok"})
		return nil
	}))
	if reader != nil {
		h := reader.Handler()
		mux.Handle("/", h)
		mux.Handle("GET /api/book", httpx.Chain(h, cors))
		mux.Handle("GET /api/search", httpx.Chain(h, cors))
	}
	mux.Handle("GET /readyz", httpx.Handle(readiness(st, lib, ready)))

	return httpx.Chain(mux,
		httpx.RequestID(log),
		httpx.AccessLog(observeRequests(m)...),
		httpx.Recover(),
		httpx.SecurityHeaders(cfg.SecureCookies()),
		httpx.LimitBody(maxDefaultBody),
	)
}
