package main

import (
	"log/slog"
	"net"
	"net/url"
	"sync"

	"github.com/lectern/lectern/internal/config"
)

// maxWarnedOrigins bounds the origins remembered as warned of: a client
// sending made-up origins cannot grow the set, and after that many the
// log has said enough.
const maxWarnedOrigins = 64

// originWarner logs, once per origin, that a browser page was refused
// because of a setting, and names the setting: a misconfigured site
// otherwise only sees the refusal in its own console.
type originWarner struct {
	log     *slog.Logger
	msg     string
	setting string
	mu      sync.Mutex
	seen    map[string]bool
}

func newOriginWarner(log *slog.Logger, msg, setting string) *originWarner {
	return &originWarner{log: log, msg: msg, setting: setting, seen: map[string]bool{}}
}

// warn logs the first refusal of origin.
func (w *originWarner) warn(origin string) {
	if len(origin) > 200 {
		origin = origin[:200]
	}
	w.mu.Lock()
	first := !w.seen[origin] && len(w.seen) < maxWarnedOrigins
	if first {
		w.seen[origin] = true
	}
	w.mu.Unlock()
	if first {
		w.log.Warn(w.msg, "origin", origin, "setting", w.setting)
	}
}

// warnHostMismatch warns when the server listens on one loopback name and
// its base URL names another (127.0.0.1 and localhost): browsers treat
// them as two sites, with their own cookies, so a reader who opens the
// other one signs in and seems signed out again.
func warnHostMismatch(cfg *config.Config, log *slog.Logger) {
	host, _, err := net.SplitHostPort(cfg.Addr)
	if err != nil || host == "" || cfg.BaseURL == nil {
		return
	}
	base := cfg.BaseURL.Hostname()
	listen := net.ParseIP(host)
	if host == base || listen == nil || listen.IsUnspecified() {
		return
	}
	baseIP := net.ParseIP(base)
	if listen.IsLoopback() && (base == "localhost" || baseIP != nil && baseIP.IsLoopback()) {
		log.Warn("the server listens on "+host+" but its base URL is "+cfg.BaseURL.String()+
			": browsers treat the two as different sites; open the base URL, or set LECTERN_BASE_URL to "+
			(&url.URL{Scheme: cfg.BaseURL.Scheme, Host: cfg.Addr}).String(),
			"addr", cfg.Addr, "base_url", cfg.BaseURL.String())
	}
}
