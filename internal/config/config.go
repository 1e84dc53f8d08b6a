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
	// SharedLimits keeps the limits that protect accounts and spend in
	// the database, for every replica to share (PostgreSQL only).
	SharedLimits bool
	BaseURL      *url.URL
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
	// MaxAnswers bounds the answers written at once (api.Options).
	MaxAnswers      int
	AuthRateLimit   ratelimit.Rule
	RateLimitOn     bool
	TrustedProxies  []netip.Prefix
	SMTPURL         *url.URL // nil when mail is not configured
	MailFrom        string
	ShutdownTimeout time.Duration
	// ShutdownDelay is how long a stopping process keeps serving, with
	// /readyz answering 503, before its listener closes (see Parse's
	// shutdown-delay); 0 closes it at once.
	ShutdownDelay time.Duration
	// Book is the path of the book to serve (a folder or an .epub); empty
	// serves the book already ingested, or the bundled demo book.
	Book      string
	BookID    string
	BookTitle string // overrides the title the book gives itself
	// BookLanguage is the book's language as a BCP 47 tag; empty: detected.
	BookLanguage string
	// BookLocale serves a Docusaurus site's translation into this locale.
	BookLocale string
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
	// AdminEmails are the book's owners by configuration, lower-cased.
	AdminEmails []string
	// Insights is whether the owners' insights are served.
	Insights bool
	// InsightsMinReaders hides what fewer distinct readers asked about
	// from the owners; 1 hides nothing.
	InsightsMinReaders int
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

// Group is a set of settings that belong together. Each command parses
// only the groups it uses, so its -h lists only what it reads; the
// settings of other groups keep their defaults, and their environment
// variables are not read. LECTERN_ENV, LECTERN_LOG_LEVEL and
// LECTERN_LOG_FORMAT belong to every command.
type Group uint16

// The groups.
const (
	Database   Group = 1 << iota // --data-dir, --database-url
	Listen                       // the HTTP server: address, base URL, proxies, trusted and CORS origins, metrics, shutdown
	Accounts                     // the identity service: sign-in limit, mail
	Signing                      // the JWT signing algorithm
	Claims                       // the JWT issuer and audience
	JWKS                         // where the api role fetches verification keys
	Chat                         // the assistant's per-reader limits
	Book                         // the book: path, id, title
	Model                        // the language model
	Embeddings                   // the embeddings endpoint
	Pages                        // where the reader's pages find the API and the identity service
	Insights                     // the book's owners and what they may see of readers' questions

	All = Database | Listen | Accounts | Signing | Claims | JWKS | Chat | Book | Model | Embeddings | Pages | Insights
)

// option is one setting: a flag and the environment variable of the same
// name, in the groups that take it (none: every command).
type option struct {
	flag, usage, def string
	val              *string
	groups           Group
}

// raw holds the settings as given, before they are checked.
type raw struct {
	env, addr, dataDir, dbURL, baseURL, origins, logLevel, logFormat string
	alg, issuer, audience, rateLimit, proxies, smtp, mailFrom, grace string
	jwksURL, cors, agentLimit, book, bookID, embURL, embModel, title string
	budget, llmURL, llmModel, llmTimeout, apiURL, authURL            string
	metricsAddr, pprof, maxAnswers, bookLang, bookLocale             string
	adminEmails, insights, minReaders, delay, sharedLimits           string
}

func (r *raw) options() []option {
	return []option{
		{"env", "development or production (production refuses a missing or weak secret)", "development", &r.env, 0},
		{"log-level", "debug, info, warn or error", "info", &r.logLevel, 0},
		{"log-format", "text or json; default json in production, text otherwise", "", &r.logFormat, 0},
		{"data-dir", "directory for the SQLite database and generated files", "./data", &r.dataDir, Database},
		{"database-url", "PostgreSQL URL (postgres://…); empty uses SQLite in the data directory", "", &r.dbURL, Database},
		{"shared-limits", "on or off: with PostgreSQL, count the sign-in, sign-up, lockout, reset-mail, chat and concurrent-answer limits in the database, so that replicas share them", "on", &r.sharedLimits, Database},
		{"addr", "address to listen on", ":8080", &r.addr, Listen},
		{"metrics-addr", "address to serve Prometheus metrics on, at /metrics, apart from --addr (e.g. 127.0.0.1:9090); empty: no metrics", "", &r.metricsAddr, Listen},
		{"pprof", "on: also serve Go's runtime profiles at /debug/pprof/ on --metrics-addr", "off", &r.pprof, Listen},
		{"base-url", "public URL of this server; default http://localhost:<port of --addr>, with the same port on 127.0.0.1 and [::1] trusted too", "", &r.baseURL, Listen},
		{"cors-origins", "comma-separated origins allowed to call the API and identity service from a browser with credentials", "", &r.cors, Listen},
		{"trusted-proxies", "comma-separated CIDRs of reverse proxies whose X-Forwarded-For is believed", "", &r.proxies, Listen},
		{"shutdown-timeout", "how long to drain requests on SIGINT/SIGTERM", "15s", &r.grace, Listen},
		{"shutdown-delay", "on SIGINT/SIGTERM, how long to go on serving with /readyz answering 503 before the listener closes and the drain starts, so that a load balancer's health checks take the process out first; applies when /readyz was asked in the last minute (0: close at once)", "5s", &r.delay, Listen},
		{"trusted-origins", "comma-separated origins whose pages may sign readers in and call the API with credentials, besides the base URL's", "", &r.origins, Listen},
		{"auth-rate-limit", "per-IP limit on sign-in, sign-up and password changes, as N/duration (e.g. 3/10s), or off", "3/10s", &r.rateLimit, Accounts},
		{"smtp-url", "smtp://user:password@host:port for password-reset and verification mail; empty writes links to the log", "", &r.smtp, Accounts},
		{"mail-from", "From address of outgoing mail", "Lectern <no-reply@localhost>", &r.mailFrom, Accounts},
		{"jwt-alg", "JWT signing algorithm: RS256, ES256 or EdDSA", "RS256", &r.alg, Signing},
		{"jwt-issuer", "JWT iss claim to issue and require; serve and auth default to the base URL, api checks it only when set", "", &r.issuer, Claims},
		{"jwt-audience", "JWT aud claim to issue and require; serve and auth default to the base URL, api checks it only when set", "", &r.audience, Claims},
		{"jwks-url", "JWKS URL of the identity service (e.g. https://auth.example/api/auth/jwks)", "", &r.jwksURL, JWKS},
		{"chat-rate-limit", "per-user limit on questions to the assistant, as N/duration, or off", "20/1m", &r.agentLimit, Chat},
		{"max-answers", "the most answers written at once, whoever asks; beyond it a question gets 503 and Retry-After", "64", &r.maxAnswers, Chat},
		{"chat-daily-budget", "per-user daily allowance as QUESTIONS/TOKENS (model tokens, when the model reports them; 0 is unlimited), or off", "300/500000", &r.budget, Chat},
		{"book", "the book to serve: a Docusaurus site or docs folder, a folder of Markdown/MDX files, or an .epub; ingested at start when it changed (empty: the book already ingested, else the bundled demo book)", "", &r.book, Book},
		{"book-id", "id of the book in the database", "default", &r.bookID, Book},
		{"book-title", "title of the book, instead of the one it gives itself", "", &r.title, Book},
		{"book-locale", "for a Docusaurus site: serve its translation into this locale (i18n/<locale>/…) as the book", "", &r.bookLocale, Book},
		{"book-language", "the book's language (es, fr, zh, …), for its search and pages; empty: detected from its text", "", &r.bookLang, Book},
		{"llm-base-url", "OpenAI-compatible API base URL of the language model (e.g. https://api.openai.com/v1, http://localhost:11434/v1); empty: the built-in extractive answerer", "", &r.llmURL, Model},
		{"llm-model", "the language model, with --llm-base-url", "", &r.llmModel, Model},
		{"llm-timeout", "how long a model may take to start answering, and to pause between pieces of its answer", "60s", &r.llmTimeout, Model},
		{"embeddings-base-url", "OpenAI-compatible API base URL for embeddings (e.g. http://localhost:11434/v1); empty: keyword search only", "", &r.embURL, Embeddings},
		{"embeddings-model", "embedding model name, with --embeddings-base-url", "", &r.embModel, Embeddings},
		{"api-url", "origin of the API (https://api.example) for pages served by the web role; empty: this server", "", &r.apiURL, Pages},
		{"auth-url", "origin of the identity service for pages served by the web role; empty: this server", "", &r.authURL, Pages},
		{"admin-emails", "comma-separated emails of the book's owners, who see its insights, besides those granted with lectern admin grant", "", &r.adminEmails, Insights},
		{"insights", "on or off: the owners' view of what readers ask", "on", &r.insights, Insights},
		{"insights-min-readers", "the owners see a group of questions, a page or a section only when at least this many distinct readers asked about it (1: all)", "1", &r.minReaders, Insights},
	}
}

func envName(flagName string) string {
	return "LECTERN_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// Parse reads the flags of the given groups in args (without the command
// name) and their environment variables through getenv, validates them and
// returns the Config and the remaining positional arguments. Settings of
// other groups keep their defaults. Help output and errors go to stderr.
func Parse(name string, groups Group, args []string, getenv func(string) string, stderr io.Writer) (*Config, []string, error) {
	fs, r := flagSet(name, groups, getenv)
	fs.SetOutput(stderr)
	if err := fs.Parse(args); err != nil {
		return nil, nil, err
	}
	c, errs := r.config(getenv)
	if len(errs) > 0 {
		return nil, nil, fmt.Errorf("invalid configuration:\n  %w", joinIndented(errs))
	}
	return c, fs.Args(), nil
}

// flagSet returns a flag set holding the settings of groups, their
// defaults taken from the environment, and where they are parsed to.
func flagSet(name string, groups Group, getenv func(string) string) (*flag.FlagSet, *raw) {
	r := new(raw)
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	for _, o := range r.options() {
		def := o.def
		if o.groups != 0 && o.groups&groups == 0 {
			*o.val = def
			continue
		}
		if v := getenv(envName(o.flag)); v != "" {
			def = v
		}
		fs.StringVar(o.val, o.flag, def, o.usage+" ($"+envName(o.flag)+")")
	}
	return fs, r
}

// config checks every setting and returns the Config and every problem.
func (r *raw) config(getenv func(string) string) (*Config, []error) {
	c := &Config{
		Env:              r.env,
		Addr:             r.addr,
		MetricsAddr:      r.metricsAddr,
		DataDir:          r.dataDir,
		DatabaseURL:      r.dbURL,
		Secret:           getenv("LECTERN_SECRET"),
		Book:             r.book,
		BookID:           r.bookID,
		BookTitle:        strings.TrimSpace(r.title),
		BookLanguage:     strings.TrimSpace(r.bookLang),
		BookLocale:       strings.TrimSpace(r.bookLocale),
		EmbeddingsModel:  r.embModel,
		EmbeddingsAPIKey: getenv("LECTERN_EMBEDDINGS_API_KEY"),
		LLMAPIKey:        getenv("LECTERN_LLM_API_KEY"),
		JWTAlg:           r.alg,
		MailFrom:         r.mailFrom,
		JWTIssuer:        r.issuer,
		JWTAudience:      r.audience,
	}
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	c.checkProcess(r, bad)
	c.checkServer(r, bad)
	c.checkTokens(r, bad)
	c.checkServices(r, bad)
	c.checkLimits(r, bad)
	c.checkInsights(r, bad)
	return c, errs
}

// checkInsights checks the owners and the insights settings.
func (c *Config) checkInsights(r *raw, bad func(string, ...any)) {
	for _, e := range splitList(r.adminEmails) {
		if !strings.Contains(e, "@") {
			bad("LECTERN_ADMIN_EMAILS: %q is not an email address", e)
			continue
		}
		c.AdminEmails = append(c.AdminEmails, strings.ToLower(e))
	}
	switch r.insights {
	case "on":
		c.Insights = true
	case "off":
	default:
		bad("LECTERN_INSIGHTS: %q is neither on nor off", r.insights)
	}
	n, err := strconv.Atoi(r.minReaders)
	if err != nil || n < 1 {
		bad("LECTERN_INSIGHTS_MIN_READERS: %q is not a whole number of readers, 1 or more", r.minReaders)
	}
	c.InsightsMinReaders = n
}

// checkProcess checks what every command uses: environment, logging,
// database, and the secret in production.
func (c *Config) checkProcess(r *raw, bad func(string, ...any)) {
	switch c.Env {
	case "development", "production":
	default:
		bad("LECTERN_ENV: %q is neither development nor production", c.Env)
	}
	if err := c.LogLevel.UnmarshalText([]byte(r.logLevel)); err != nil {
		bad("LECTERN_LOG_LEVEL: %q is not debug, info, warn or error", r.logLevel)
	}
	switch c.LogFormat = r.logFormat; c.LogFormat {
	case "":
		c.LogFormat = "text"
		if c.Production() {
			c.LogFormat = "json"
		}
	case "text", "json":
	default:
		bad("LECTERN_LOG_FORMAT: %q is neither text nor json", r.logFormat)
	}
	if c.DataDir == "" {
		bad("LECTERN_DATA_DIR must not be empty")
	}
	if c.DatabaseURL != "" && !strings.HasPrefix(c.DatabaseURL, "postgres://") && !strings.HasPrefix(c.DatabaseURL, "postgresql://") {
		bad("LECTERN_DATABASE_URL must start with postgres:// or postgresql://")
	}
	switch r.sharedLimits {
	case "on":
		c.SharedLimits = c.DatabaseURL != ""
	case "off":
	default:
		bad("LECTERN_SHARED_LIMITS: %q is neither on nor off", r.sharedLimits)
	}
	if c.BookLocale != "" && !validLanguageTag(c.BookLocale) {
		bad("LECTERN_BOOK_LOCALE: %q is not a locale such as es, pt-BR or zh-Hans", c.BookLocale)
	}
	if c.BookLanguage != "" && !validLanguageTag(c.BookLanguage) {
		bad("LECTERN_BOOK_LANGUAGE: %q is not a language tag such as es, pt-BR or zh-Hans", c.BookLanguage)
	}
	if !validBookID(c.BookID) {
		bad("LECTERN_BOOK_ID: %q must be 1-64 letters, digits, '-' or '_'", c.BookID)
	}
	if c.Production() {
		switch {
		case c.Secret == "":
			bad("LECTERN_SECRET is required when LECTERN_ENV=production (generate one with: openssl rand -base64 48)")
		case len(c.Secret) < MinSecretLen:
			bad("LECTERN_SECRET is too short: %d characters, production needs at least %d", len(c.Secret), MinSecretLen)
		}
	}
}

// checkServer checks the HTTP server's settings: addresses, public URL,
// origins, proxies, shutdown.
func (c *Config) checkServer(r *raw, bad func(string, ...any)) {
	_, port, err := net.SplitHostPort(c.Addr)
	if err != nil {
		bad("LECTERN_ADDR: %q is not host:port (%v)", c.Addr, err)
	}
	switch r.pprof {
	case "off", "":
	case "on":
		c.PProf = true
		if c.MetricsAddr == "" {
			bad("LECTERN_PPROF: on needs LECTERN_METRICS_ADDR: profiles are served only on the metrics address")
		}
	default:
		bad("LECTERN_PPROF: %q is neither on nor off", r.pprof)
	}
	if c.MetricsAddr != "" {
		if _, _, err := net.SplitHostPort(c.MetricsAddr); err != nil {
			bad("LECTERN_METRICS_ADDR: %q is not host:port (%v)", c.MetricsAddr, err)
		} else if c.MetricsAddr == c.Addr {
			bad("LECTERN_METRICS_ADDR must differ from LECTERN_ADDR: metrics are never served on the public address")
		}
	}
	defaultBase := r.baseURL == ""
	if defaultBase {
		r.baseURL = "http://localhost:" + port
	}
	if u, err := parseOrigin(r.baseURL, true); err != nil {
		bad("LECTERN_BASE_URL: %v", err)
	} else {
		c.BaseURL = u
	}
	c.TrustedOrigins = origins("LECTERN_TRUSTED_ORIGINS", r.origins, bad)
	if defaultBase {
		// Without a base URL the server is being tried on this machine:
		// its loopback addresses are the same server as localhost, and a
		// page opened on 127.0.0.1 must be able to sign up.
		c.TrustedOrigins = append(c.TrustedOrigins, "http://127.0.0.1:"+port, "http://[::1]:"+port)
	}
	c.CORSOrigins = origins("LECTERN_CORS_ORIGINS", r.cors, bad)
	for _, p := range splitList(r.proxies) {
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
	if c.ShutdownTimeout, err = time.ParseDuration(r.grace); err != nil || c.ShutdownTimeout <= 0 {
		bad("LECTERN_SHUTDOWN_TIMEOUT: %q is not a positive duration", r.grace)
	}
	if c.ShutdownDelay, err = time.ParseDuration(r.delay); err != nil || c.ShutdownDelay < 0 {
		bad("LECTERN_SHUTDOWN_DELAY: %q is not a duration of 0 or more", r.delay)
	}
	for _, o := range []struct {
		env, raw string
		dst      *string
	}{{"LECTERN_API_URL", r.apiURL, &c.APIURL}, {"LECTERN_AUTH_URL", r.authURL, &c.AuthURL}} {
		if o.raw == "" {
			continue
		}
		if u, err := parseOrigin(o.raw, false); err != nil {
			bad("%s: %v", o.env, err)
		} else {
			*o.dst = u.Scheme + "://" + u.Host
		}
	}
}

// checkTokens checks the JWT settings and the mail of the identity service.
func (c *Config) checkTokens(r *raw, bad func(string, ...any)) {
	switch c.JWTAlg {
	case "RS256", "ES256", "EdDSA":
	default:
		bad("LECTERN_JWT_ALG: %q is not RS256, ES256 or EdDSA", c.JWTAlg)
	}
	c.JWKSURL = serviceURL("LECTERN_JWKS_URL", r.jwksURL, bad)
	if r.smtp != "" {
		u, err := url.Parse(r.smtp)
		if err != nil || (u.Scheme != "smtp" && u.Scheme != "smtps") || u.Host == "" {
			bad("LECTERN_SMTP_URL: want smtp://user:password@host:port or smtps://…")
		} else {
			c.SMTPURL = u
		}
	}
}

// checkServices checks the language model and the embeddings endpoint.
func (c *Config) checkServices(r *raw, bad func(string, ...any)) {
	c.EmbeddingsBaseURL = strings.TrimSuffix(serviceURL("LECTERN_EMBEDDINGS_BASE_URL", r.embURL, bad), "/")
	if r.embURL != "" && c.EmbeddingsModel == "" {
		bad("LECTERN_EMBEDDINGS_MODEL is required with LECTERN_EMBEDDINGS_BASE_URL")
	}
	c.LLMBaseURL = strings.TrimSuffix(serviceURL("LECTERN_LLM_BASE_URL", r.llmURL, bad), "/")
	if c.LLMModel = strings.TrimSpace(r.llmModel); r.llmURL != "" && c.LLMModel == "" {
		bad("LECTERN_LLM_MODEL is required with LECTERN_LLM_BASE_URL")
	}
	var err error
	if c.LLMTimeout, err = time.ParseDuration(r.llmTimeout); err != nil || c.LLMTimeout <= 0 {
		bad("LECTERN_LLM_TIMEOUT: %q is not a positive duration", r.llmTimeout)
	}
}

// checkLimits checks the rate limits and the daily budget.
func (c *Config) checkLimits(r *raw, bad func(string, ...any)) {
	if r.budget != "off" {
		q, t, ok := strings.Cut(r.budget, "/")
		var qe, te error
		c.ChatBudgetRequests, qe = strconv.ParseInt(strings.TrimSpace(q), 10, 64)
		if ok {
			c.ChatBudgetTokens, te = strconv.ParseInt(strings.TrimSpace(t), 10, 64)
		}
		if qe != nil || te != nil || c.ChatBudgetRequests < 0 || c.ChatBudgetTokens < 0 {
			bad("LECTERN_CHAT_DAILY_BUDGET: %q is not QUESTIONS/TOKENS (e.g. 300/500000), QUESTIONS, or off", r.budget)
		}
	}
	var err error
	if c.MaxAnswers, err = strconv.Atoi(r.maxAnswers); err != nil || c.MaxAnswers < 1 {
		bad("LECTERN_MAX_ANSWERS: %q is not a positive number", r.maxAnswers)
	}
	if r.agentLimit != "off" {
		if c.ChatRateLimit, err = ratelimit.ParseRule(r.agentLimit); err != nil {
			bad("LECTERN_CHAT_RATE_LIMIT: %v", err)
		}
	}
	if c.AuthRateLimit, c.RateLimitOn, err = ratelimit.ParseSetting(r.rateLimit); err != nil {
		bad("LECTERN_AUTH_RATE_LIMIT: %v", err)
	}
}

// origins reads a comma-separated list of origins.
func origins(env, list string, bad func(string, ...any)) []string {
	var out []string
	for _, o := range splitList(list) {
		u, err := parseOrigin(o, false)
		if err != nil {
			bad("%s: %v", env, err)
			continue
		}
		out = append(out, u.Scheme+"://"+u.Host)
	}
	return out
}

// serviceURL checks the URL of an outside service; empty stays empty.
func serviceURL(env, raw string, bad func(string, ...any)) string {
	if raw == "" {
		return ""
	}
	u, err := absoluteHTTP(raw)
	if err != nil {
		bad("%s: %v", env, err)
		return ""
	}
	return u.String()
}

// absoluteHTTP parses an absolute http(s) URL.
func absoluteHTTP(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%q is not an absolute http(s) URL", s)
	}
	return u, nil
}

// parseOrigin accepts an absolute http(s) URL. Origins may not carry a path;
// the base URL may.
func parseOrigin(s string, allowPath bool) (*url.URL, error) {
	u, err := absoluteHTTP(strings.TrimSuffix(s, "/"))
	if err != nil {
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

// validLanguageTag accepts the shape of a BCP 47 tag: letters and digits in
// parts of 1 to 8 separated by hyphens, starting with 2 or 3 letters.
func validLanguageTag(tag string) bool {
	for i, part := range strings.Split(tag, "-") {
		if len(part) < 1 || len(part) > 8 || (i == 0 && (len(part) < 2 || len(part) > 3)) {
			return false
		}
		for _, r := range part {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || i > 0 && r >= '0' && r <= '9') {
				return false
			}
		}
	}
	return true
}
