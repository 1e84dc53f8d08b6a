package main

import (
	"log/slog"
	"net/http"

	"github.com/lectern/lectern/internal/config"
	"github.com/lectern/lectern/internal/httpx"
	"github.com/lectern/lectern/internal/identity"
	"github.com/lectern/lectern/internal/store"
)

// Request body limits: identity bodies are small JSON objects.
const (
	maxAuthBody    = 64 << 10
	maxDefaultBody = 1 << 20
)

// newHandler lists every route of the process and wraps them in the shared
// middleware. Identity routes (all under /api/auth/) are listed in
// identity's own routes.go.
func newHandler(cfg *config.Config, log *slog.Logger, st store.Store, id *identity.Server) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/api/auth/", httpx.Chain(id.Handler(), httpx.LimitBody(maxAuthBody)))
	mux.Handle("GET /healthz", httpx.Handle(func(w http.ResponseWriter, r *http.Request) error {
		httpx.WriteJSON(w, http.StatusOK, map[string]string{"status": "ok"})
		return nil
	}))
	mux.Handle("GET /readyz", httpx.Handle(readiness(st)))

	return httpx.Chain(mux,
		httpx.RequestID(log),
		httpx.AccessLog(),
		httpx.Recover(),
		httpx.SecurityHeaders(cfg.SecureCookies()),
		httpx.LimitBody(maxDefaultBody),
	)
}
