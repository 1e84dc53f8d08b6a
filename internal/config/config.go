// Package config reads Lectern's configuration from command-line flags and
// LECTERN_* environment variables into one validated Config.
//
// Every flag has an environment variable of the same name (--base-url ⇄
// LECTERN_BASE_URL); a flag given on the command line wins over the variable.
// Secrets are read from the environment only, so they never show up in a
// process listing.
package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/lectern/lectern/internal/ratelimit"
)

// MinSecretLen is the shortest LECTERN_SECRET accepted in production: 32
// bytes, the length Better Auth asks for.
const MinSecretLen = 32

// Config is everything a Lectern process needs to start. Build it with Parse.
type Config struct {
	Env         string // "development" (default) or "production"
	Addr        string // listen address, e.g. ":8080"
	MetricsAddr string // where Prometheus /metrics is served, never Addr; empty: no metrics
	// PProf serves Go's runtime profiles at /debug/pprof/ on MetricsAddr,
	// for finding what a loaded server spends its time on.
	PProf       bool
	DataDir     string // where SQLite and generated files live
	DatabaseURL string // postgres://… ; empty means SQLite in DataDir
	BaseURL     *url.URL
	// Secret signs session cookies and encrypts signing keys. Empty means "not
	// configured": the serve command then generates one in development.
	Secret         string
	TrustedOrigins []string // exact scheme://host[:port] origins, besides BaseURL's
	LogLevel       slog.Level
	LogFormat      string // "text" or "json"
	JWTAlg         string // RS256, ES256 or EdDSA
	// JWTIssuer and JWTAudience are the iss and aud claims: what the identity
	// role writes and the API role requires. Empty means "not configured";
	// see Issuer and Audience for the defaults.
	JWTIssuer   string
	JWTAudience string
	// JWKSURL is where the api role (alone) fetches the verification keys.
	JWKSURL       string
	CORSOrigins   []string
	ChatRateLimit ratelimit.Rule // per user on the agent endpoints; Max 0 means off
	// ChatBudgetRequests and ChatBudgetTokens are each user's daily
	// allowance of questions and model tokens; 0 means unlimited.
	ChatBudgetRequests int64
	ChatBudgetTokens   int64
	AuthRateLimit      ratelimit.Rule
	RateLimitOn        bool
	TrustedProxies     []netip.Prefix
	SMTPURL            *url.URL // nil when mail is not configured
	MailFrom           string
	ShutdownTimeout    time.Duration
	// Book is the path of the book to serve (a folder or an .epub); empty
	// serves the book already ingested, or the bundled demo book.
	Book      string
	BookID    string
	BookTitle string // overrides the title the book gives itself
	// Embeddings configure the optional dense retrieval path: an
	// OpenAI-compatible /embeddings endpoint. Empty base URL means off.
	EmbeddingsBaseURL string
	EmbeddingsModel   string
	EmbeddingsAPIKey  string // env only, like the secret
	// LLM configures the language model; an empty base URL means the
	// built-in extractive answerer.
	LLMBaseURL string
	LLMModel   string
	LLMAPIKey  string // env only
	LLMTimeout time.Duration
	// APIURL and AuthURL are the origins of the API and the identity
	// service for the web role, when they run apart; empty means this
	// server's own origin.
	APIURL  string
	AuthURL string
}

// Production reports whether LECTERN_ENV=production.
func (c *Config) Production() bool { return c.Env == "production" }

// Issuer is the configured JWT issuer, or the base URL, which is what the
// identity service of the same process writes.
func (c *Config) Issuer() string {
	if c.JWTIssuer != "" {
		return c.JWTIssuer
	}
	return strings.TrimSuffix(c.BaseURL.String(), "/")
}

// Audience is the configured JWT audience, or the base URL.
func (c *Config) Audience() string {
	if c.JWTAudience != "" {
		return c.JWTAudience
	}
	return strings.TrimSuffix(c.BaseURL.String(), "/")
}

// SecureCookies reports whether cookies get the __Secure- prefix and the
// Secure attribute, which Better Auth does when the base URL is https.
func (c *Config) SecureCookies() bool { return c.BaseURL.Scheme == "https" }

// option is one setting: a flag and the environment variable of the same name.
type option struct {
	flag, usage, def string
	val              *string
}

func envName(flagName string) string {
	return "LECTERN_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// Parse reads the flags in args (without the command name) and the
// environment through getenv, validates them and returns the Config and the
// remaining positional arguments. Help output and errors go to stderr.
func Parse(name string, args []string, getenv func(string) string, stderr io.Writer) (*Config, []string, error) {
	var raw struct {
		env, addr, dataDir, dbURL, baseURL, origins, logLevel, logFormat string
		alg, issuer, audience, rateLimit, proxies, smtp, mailFrom, grace string
		jwksURL, cors, agentLimit, book, bookID, embURL, embModel, title string
		budget, llmURL, llmModel, llmTimeout, apiURL, authURL            string
		metricsAddr, pprof                                               string
	}
	opts := []option{
		{"env", "development or production (production refuses a missing or weak secret)", "development", &raw.env},
		{"addr", "address to listen on", ":8080", &raw.addr},
		{"metrics-addr", "address to serve Prometheus metrics on, at /metrics, apart from --addr (e.g. 127.0.0.1:9090); empty: no metrics", "", &raw.metricsAddr},
		{"pprof", "on: also serve Go's runtime profiles at /debug/pprof/ on --metrics-addr", "off", &raw.pprof},
		{"data-dir", "directory for the SQLite database and generated files", "./data", &raw.dataDir},
		{"database-url", "PostgreSQL URL (postgres://…); empty uses SQLite in the data directory", "", &raw.dbURL},
		{"base-url", "public URL of this server; default http://localhost:<port of --addr>", "", &raw.baseURL},
		{"trusted-origins", "comma-separated origins allowed to make cookie-authenticated requests, besides the base URL's", "", &raw.origins},
		{"log-level", "debug, info, warn or error", "info", &raw.logLevel},
		{"log-format", "text or json; default json in production, text otherwise", "", &raw.logFormat},
		{"jwt-alg", "JWT signing algorithm: RS256, ES256 or EdDSA", "RS256", &raw.alg},
		{"jwt-issuer", "JWT iss claim to issue and require; serve and auth default to the base URL, api checks it only when set", "", &raw.issuer},
		{"jwt-audience", "JWT aud claim to issue and require; serve and auth default to the base URL, api checks it only when set", "", &raw.audience},
		{"jwks-url", "JWKS URL of the identity service, for the api role (e.g. https://auth.example/api/auth/jwks)", "", &raw.jwksURL},
		{"cors-origins", "comma-separated origins allowed to call the API and identity service from a browser with credentials", "", &raw.cors},
		{"chat-rate-limit", "per-user limit on questions to the assistant, as N/duration, or off", "20/1m", &raw.agentLimit},
		{"chat-daily-budget", "per-user daily allowance as QUESTIONS/TOKENS (model tokens, when the model reports them; 0 is unlimited), or off", "300/500000", &raw.budget},
		{"llm-base-url", "OpenAI-compatible API base URL of the language model (e.g. https://api.openai.com/v1, http://localhost:11434/v1); empty: the built-in extractive answerer", "", &raw.llmURL},
		{"llm-model", "the language model, with --llm-base-url", "", &raw.llmModel},
		{"llm-timeout", "how long a model may take to start answering, and to pause between pieces of its answer", "60s", &raw.llmTimeout},
		{"api-url", "origin of the API (https://api.example) for pages served by the web role; empty: this server", "", &raw.apiURL},
		{"auth-url", "origin of the identity service for pages served by the web role; empty: this server", "", &raw.authURL},
		{"auth-rate-limit", "per-IP limit on sign-in, sign-up and password changes, as N/duration (e.g. 3/10s), or off", "3/10s", &raw.rateLimit},
		{"trusted-proxies", "comma-separated CIDRs of reverse proxies whose X-Forwarded-For is believed", "", &raw.proxies},
		{"smtp-url", "smtp://user:password@host:port for password-reset and verification mail; empty writes links to the log", "", &raw.smtp},
		{"mail-from", "From address of outgoing mail", "Lectern <no-reply@localhost>", &raw.mailFrom},
		{"shutdown-timeout", "how long to drain requests on SIGINT/SIGTERM", "15s", &raw.grace},
		{"book", "the book to serve: a Docusaurus site or docs folder, a folder of Markdown/MDX files, or an .epub; ingested at start when it changed (empty: the book already ingested, else the bundled demo book)", "", &raw.book},
		{"book-id", "id of the book in the database", "default", &raw.bookID},
		{"book-title", "title of the book, instead of the one it gives itself", "", &raw.title},
		{"embeddings-base-url", "OpenAI-compatible API base URL for embeddings (e.g. http://localhost:11434/v1); empty: keyword search only", "", &raw.embURL},
		{"embeddings-model", "embedding model name, with --embeddings-base-url", "", &raw.embModel},
	}
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	for _, o := range opts {
		def := o.def
		if v := getenv(envName(o.flag)); v != "" {
			def = v
		}
		fs.StringVar(o.val, o.flag, def, o.usage+" ($"+envName(o.flag)+")")
	}
	if err := fs.Parse(args); err != nil {
		return nil, nil, err
	}

	c := &Config{
		Env:              raw.env,
		Addr:             raw.addr,
		MetricsAddr:      raw.metricsAddr,
		DataDir:          raw.dataDir,
		DatabaseURL:      raw.dbURL,
		Secret:           getenv("LECTERN_SECRET"),
		Book:             raw.book,
		BookID:           raw.bookID,
		BookTitle:        strings.TrimSpace(raw.title),
		EmbeddingsModel:  raw.embModel,
		EmbeddingsAPIKey: getenv("LECTERN_EMBEDDINGS_API_KEY"),
		LLMAPIKey:        getenv("LECTERN_LLM_API_KEY"),
		JWTAlg:           raw.alg,
		MailFrom:         raw.mailFrom,
	}
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }

	switch c.Env {
	case "development", "production":
	default:
		bad("LECTERN_ENV: %q is neither development nor production", c.Env)
	}
	_, port, err := net.SplitHostPort(c.Addr)
	if err != nil {
		bad("LECTERN_ADDR: %q is not host:port (%v)", c.Addr, err)
	}
	switch raw.pprof {
	case "off", "":
	case "on":
		c.PProf = true
		if c.MetricsAddr == "" {
			bad("LECTERN_PPROF: on needs LECTERN_METRICS_ADDR: profiles are served only on the metrics address")
		}
	default:
		bad("LECTERN_PPROF: %q is neither on nor off", raw.pprof)
	}
	if c.MetricsAddr != "" {
		if _, _, err := net.SplitHostPort(c.MetricsAddr); err != nil {
			bad("LECTERN_METRICS_ADDR: %q is not host:port (%v)", c.MetricsAddr, err)
		} else if c.MetricsAddr == c.Addr {
			bad("LECTERN_METRICS_ADDR must differ from LECTERN_ADDR: metrics are never served on the public address")
		}
	}
	if c.DataDir == "" {
		bad("LECTERN_DATA_DIR must not be empty")
	}
	if c.DatabaseURL != "" && !strings.HasPrefix(c.DatabaseURL, "postgres://") && !strings.HasPrefix(c.DatabaseURL, "postgresql://") {
		bad("LECTERN_DATABASE_URL must start with postgres:// or postgresql://")
	}

	if raw.baseURL == "" {
		raw.baseURL = "http://localhost:" + port
	}
	if u, err := parseOrigin(raw.baseURL, true); err != nil {
		bad("LECTERN_BASE_URL: %v", err)
	} else {
		c.BaseURL = u
	}
	for _, o := range splitList(raw.origins) {
		u, err := parseOrigin(o, false)
		if err != nil {
			bad("LECTERN_TRUSTED_ORIGINS: %v", err)
			continue
		}
		c.TrustedOrigins = append(c.TrustedOrigins, u.Scheme+"://"+u.Host)
	}

	if err := c.LogLevel.UnmarshalText([]byte(raw.logLevel)); err != nil {
		bad("LECTERN_LOG_LEVEL: %q is not debug, info, warn or error", raw.logLevel)
	}
	switch c.LogFormat = raw.logFormat; c.LogFormat {
	case "":
		c.LogFormat = "text"
		if c.Production() {
			c.LogFormat = "json"
		}
	case "text", "json":
	default:
		bad("LECTERN_LOG_FORMAT: %q is neither text nor json", raw.logFormat)
	}

	switch c.JWTAlg {
	case "RS256", "ES256", "EdDSA":
	default:
		bad("LECTERN_JWT_ALG: %q is not RS256, ES256 or EdDSA", c.JWTAlg)
	}
	c.JWTIssuer, c.JWTAudience = raw.issuer, raw.audience
	if raw.jwksURL != "" {
		u, err := url.Parse(raw.jwksURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("LECTERN_JWKS_URL: %q is not an absolute http(s) URL", raw.jwksURL)
		} else {
			c.JWKSURL = u.String()
		}
	}
	if raw.embURL != "" {
		u, err := url.Parse(raw.embURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("LECTERN_EMBEDDINGS_BASE_URL: %q is not an absolute http(s) URL", raw.embURL)
		} else {
			c.EmbeddingsBaseURL = strings.TrimSuffix(u.String(), "/")
		}
		if c.EmbeddingsModel == "" {
			bad("LECTERN_EMBEDDINGS_MODEL is required with LECTERN_EMBEDDINGS_BASE_URL")
		}
	}
	if raw.budget != "off" {
		q, t, ok := strings.Cut(raw.budget, "/")
		var qe, te error
		c.ChatBudgetRequests, qe = strconv.ParseInt(strings.TrimSpace(q), 10, 64)
		if ok {
			c.ChatBudgetTokens, te = strconv.ParseInt(strings.TrimSpace(t), 10, 64)
		}
		if qe != nil || te != nil || c.ChatBudgetRequests < 0 || c.ChatBudgetTokens < 0 {
			bad("LECTERN_CHAT_DAILY_BUDGET: %q is not QUESTIONS/TOKENS (e.g. 300/500000), QUESTIONS, or off", raw.budget)
		}
	}
	if raw.llmURL != "" {
		u, err := url.Parse(raw.llmURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("LECTERN_LLM_BASE_URL: %q is not an absolute http(s) URL", raw.llmURL)
		} else {
			c.LLMBaseURL = strings.TrimSuffix(u.String(), "/")
		}
		if c.LLMModel = strings.TrimSpace(raw.llmModel); c.LLMModel == "" {
			bad("LECTERN_LLM_MODEL is required with LECTERN_LLM_BASE_URL")
		}
	}
	if c.LLMTimeout, err = time.ParseDuration(raw.llmTimeout); err != nil || c.LLMTimeout <= 0 {
		bad("LECTERN_LLM_TIMEOUT: %q is not a positive duration", raw.llmTimeout)
	}
	for _, o := range []struct {
		env, raw string
		dst      *string
	}{{"LECTERN_API_URL", raw.apiURL, &c.APIURL}, {"LECTERN_AUTH_URL", raw.authURL, &c.AuthURL}} {
		if o.raw == "" {
			continue
		}
		u, err := parseOrigin(o.raw, false)
		if err != nil {
			bad("%s: %v", o.env, err)
			continue
		}
		*o.dst = u.Scheme + "://" + u.Host
	}
	if !validBookID(c.BookID) {
		bad("LECTERN_BOOK_ID: %q must be 1-64 letters, digits, '-' or '_'", c.BookID)
	}
	for _, o := range splitList(raw.cors) {
		u, err := parseOrigin(o, false)
		if err != nil {
			bad("LECTERN_CORS_ORIGINS: %v", err)
			continue
		}
		c.CORSOrigins = append(c.CORSOrigins, u.Scheme+"://"+u.Host)
	}
	if raw.agentLimit != "off" {
		if c.ChatRateLimit, err = ratelimit.ParseRule(raw.agentLimit); err != nil {
			bad("LECTERN_CHAT_RATE_LIMIT: %v", err)
		}
	}

	if c.AuthRateLimit, c.RateLimitOn, err = ratelimit.ParseSetting(raw.rateLimit); err != nil {
		bad("LECTERN_AUTH_RATE_LIMIT: %v", err)
	}
	for _, p := range splitList(raw.proxies) {
		pfx, err := netip.ParsePrefix(p)
		if err != nil {
			addr, aerr := netip.ParseAddr(p)
			if aerr != nil {
				bad("LECTERN_TRUSTED_PROXIES: %q is not a CIDR or an IP address", p)
				continue
			}
			pfx = netip.PrefixFrom(addr, addr.BitLen())
		}
		c.TrustedProxies = append(c.TrustedProxies, pfx.Masked())
	}
	if raw.smtp != "" {
		u, err := url.Parse(raw.smtp)
		if err != nil || (u.Scheme != "smtp" && u.Scheme != "smtps") || u.Host == "" {
			bad("LECTERN_SMTP_URL: want smtp://user:password@host:port or smtps://…")
		} else {
			c.SMTPURL = u
		}
	}
	if c.ShutdownTimeout, err = time.ParseDuration(raw.grace); err != nil || c.ShutdownTimeout <= 0 {
		bad("LECTERN_SHUTDOWN_TIMEOUT: %q is not a positive duration", raw.grace)
	}

	if c.Production() {
		switch {
		case c.Secret == "":
			bad("LECTERN_SECRET is required when LECTERN_ENV=production (generate one with: openssl rand -base64 48)")
		case len(c.Secret) < MinSecretLen:
			bad("LECTERN_SECRET is too short: %d characters, production needs at least %d", len(c.Secret), MinSecretLen)
		}
	}
	if len(errs) > 0 {
		return nil, nil, fmt.Errorf("invalid configuration:\n  %w", joinIndented(errs))
	}
	return c, fs.Args(), nil
}

// parseOrigin accepts an absolute http(s) URL. Origins may not carry a path;
// the base URL may.
func parseOrigin(s string, allowPath bool) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSuffix(s, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%q is not an absolute http(s) URL", s)
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" || (!allowPath && u.Path != "") {
		return nil, fmt.Errorf("%q must be scheme://host[:port]%s", s, map[bool]string{true: "[/path]"}[allowPath])
	}
	return u, nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func joinIndented(errs []error) error {
	msgs := make([]string, len(errs))
	for i, e := range errs {
		msgs[i] = e.Error()
	}
	return errors.New(strings.Join(msgs, "\n  "))
}

func validBookID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}
