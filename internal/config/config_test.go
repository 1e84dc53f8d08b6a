package config

import (
	"io"
	"strings"
	"testing"
	"time"
)

func parse(t *testing.T, args []string, env map[string]string) (*Config, error) {
	t.Helper()
	c, _, err := Parse("test", All, args, func(k string) string { return env[k] }, io.Discard)
	return c, err
}

func TestDefaults(t *testing.T) {
	c, err := parse(t, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != ":8080" || c.DataDir != "./data" || c.BaseURL.String() != "http://localhost:8080" ||
		c.JWTAlg != "RS256" || c.Issuer() != "http://localhost:8080" || c.Audience() != c.Issuer() || c.JWTIssuer != "" ||
		c.ChatRateLimit.Max != 20 || c.ChatRateLimit.Window != time.Minute ||
		!c.RateLimitOn || c.AuthRateLimit.Max != 3 || c.AuthRateLimit.Window != 10*time.Second ||
		c.LogFormat != "text" || c.Production() || c.SecureCookies() || c.ShutdownTimeout != 15*time.Second {
		t.Fatalf("defaults: %+v", c)
	}
	// The default base URL is localhost; the loopback addresses are the
	// same server, so a page opened on them can sign up.
	if got := strings.Join(c.TrustedOrigins, " "); got != "http://127.0.0.1:8080 http://[::1]:8080" {
		t.Errorf("trusted origins %q", got)
	}
	withBase, err := parse(t, nil, map[string]string{"LECTERN_BASE_URL": "https://book.example"})
	if err != nil {
		t.Fatal(err)
	}
	if len(withBase.TrustedOrigins) != 0 {
		t.Errorf("a base URL that is set trusts only itself: %q", withBase.TrustedOrigins)
	}
}

func TestFlagsAndEnvironment(t *testing.T) {
	for _, tc := range []struct {
		name  string
		args  []string
		env   map[string]string
		check func(*Config) bool
	}{
		{"every flag has an env var of the same name", nil, map[string]string{"LECTERN_ADDR": "127.0.0.1:9000", "LECTERN_DATA_DIR": "/tmp/x", "LECTERN_BASE_URL": "https://read.example/book"},
			func(c *Config) bool {
				return c.Addr == "127.0.0.1:9000" && c.DataDir == "/tmp/x" && c.BaseURL.String() == "https://read.example/book" && c.SecureCookies()
			}},
		{"a flag wins over its env var", []string{"--addr", ":7000"}, map[string]string{"LECTERN_ADDR": ":9000"},
			func(c *Config) bool { return c.Addr == ":7000" && c.BaseURL.String() == "http://localhost:7000" }},
		{"trusted origins are trimmed origins", nil, map[string]string{"LECTERN_TRUSTED_ORIGINS": "http://a.example:3000/, https://b.example"},
			func(c *Config) bool {
				return strings.HasPrefix(strings.Join(c.TrustedOrigins, ","), "http://a.example:3000,https://b.example,")
			}},
		{"the owners' emails are lower-cased, and insights can be turned off", nil,
			map[string]string{"LECTERN_ADMIN_EMAILS": "Ada@Example.com, bo@example.com", "LECTERN_INSIGHTS": "off"},
			func(c *Config) bool {
				return strings.Join(c.AdminEmails, " ") == "ada@example.com bo@example.com" && !c.Insights
			}},
		{"insights show every group unless told otherwise", nil, nil, func(c *Config) bool { return c.Insights && c.InsightsMinReaders == 1 }},
		{"insights can hide what few readers asked", nil, map[string]string{"LECTERN_INSIGHTS_MIN_READERS": "5"}, func(c *Config) bool { return c.InsightsMinReaders == 5 }},
		{"the rate limit can be turned off", nil, map[string]string{"LECTERN_AUTH_RATE_LIMIT": "off"}, func(c *Config) bool { return !c.RateLimitOn }},
		{"production logs JSON", nil, map[string]string{"LECTERN_ENV": "production", "LECTERN_SECRET": strings.Repeat("x", 32)},
			func(c *Config) bool { return c.LogFormat == "json" && c.Production() }},
		{"proxies may be CIDRs or addresses", nil, map[string]string{"LECTERN_TRUSTED_PROXIES": "10.0.0.0/8, 192.0.2.1"},
			func(c *Config) bool { return len(c.TrustedProxies) == 2 && c.TrustedProxies[1].Bits() == 32 }},
		{"issuer and audience can be set apart from the base URL", nil, map[string]string{"LECTERN_JWT_ISSUER": "iss", "LECTERN_JWT_AUDIENCE": "aud"},
			func(c *Config) bool { return c.Issuer() == "iss" && c.Audience() == "aud" }},
		{"CORS origins and the JWKS URL are read", nil, map[string]string{"LECTERN_CORS_ORIGINS": "https://book.example", "LECTERN_JWKS_URL": "http://auth:3000/api/auth/jwks"},
			func(c *Config) bool {
				return c.CORSOrigins[0] == "https://book.example" && c.JWKSURL == "http://auth:3000/api/auth/jwks"
			}},
		{"a stopping process waits 5s for the balancer by default", nil, nil, func(c *Config) bool { return c.ShutdownDelay == 5*time.Second }},
		{"the shutdown delay can be 0", nil, map[string]string{"LECTERN_SHUTDOWN_DELAY": "0s"}, func(c *Config) bool { return c.ShutdownDelay == 0 }},
		{"the chat limit can be turned off", nil, map[string]string{"LECTERN_CHAT_RATE_LIMIT": "off"}, func(c *Config) bool { return c.ChatRateLimit.Max == 0 }},
		{"the daily budget has a default", nil, nil, func(c *Config) bool { return c.ChatBudgetRequests == 300 && c.ChatBudgetTokens == 500000 }},
		{"the daily budget reads questions and tokens", nil, map[string]string{"LECTERN_CHAT_DAILY_BUDGET": "10/2000"},
			func(c *Config) bool { return c.ChatBudgetRequests == 10 && c.ChatBudgetTokens == 2000 }},
		{"the daily budget can be questions only, or off", []string{"--chat-daily-budget", "off"}, map[string]string{"LECTERN_CHAT_DAILY_BUDGET": "5"},
			func(c *Config) bool { return c.ChatBudgetRequests == 0 && c.ChatBudgetTokens == 0 }},
		{"a language model is configured by URL and name, its key from the environment", nil,
			map[string]string{"LECTERN_LLM_BASE_URL": "http://localhost:11434/v1/", "LECTERN_LLM_MODEL": "llama3.2", "LECTERN_LLM_API_KEY": "k"},
			func(c *Config) bool {
				return c.LLMBaseURL == "http://localhost:11434/v1" && c.LLMModel == "llama3.2" && c.LLMAPIKey == "k" && c.LLMTimeout == time.Minute
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := parse(t, tc.args, tc.env)
			if err != nil {
				t.Fatal(err)
			}
			if !tc.check(c) {
				t.Fatalf("config: %+v", c)
			}
		})
	}
}

func TestInvalidConfigurationIsRefusedWithEveryProblemNamed(t *testing.T) {
	_, err := parse(t, nil, map[string]string{
		"LECTERN_ENV": "production", "LECTERN_ADDR": "nope", "LECTERN_BASE_URL": "ftp://x", "LECTERN_LOG_LEVEL": "loud",
		"LECTERN_JWT_ALG": "none", "LECTERN_AUTH_RATE_LIMIT": "0/1s", "LECTERN_TRUSTED_ORIGINS": "http://a.example/path",
		"LECTERN_TRUSTED_PROXIES": "not-an-ip", "LECTERN_SMTP_URL": "http://mail", "LECTERN_SHUTDOWN_TIMEOUT": "-1s", "LECTERN_SHUTDOWN_DELAY": "-1s",
		"LECTERN_JWKS_URL": "jwks", "LECTERN_CORS_ORIGINS": "*", "LECTERN_CHAT_RATE_LIMIT": "lots",
		"LECTERN_CHAT_DAILY_BUDGET": "many", "LECTERN_LLM_BASE_URL": "localhost:11434", "LECTERN_LLM_TIMEOUT": "0s",
		"LECTERN_ADMIN_EMAILS": "owner", "LECTERN_INSIGHTS": "maybe",
	})
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"LECTERN_ADDR", "LECTERN_BASE_URL", "LECTERN_LOG_LEVEL", "LECTERN_JWT_ALG", "LECTERN_AUTH_RATE_LIMIT",
		"LECTERN_TRUSTED_ORIGINS", "LECTERN_TRUSTED_PROXIES", "LECTERN_SMTP_URL", "LECTERN_SHUTDOWN_TIMEOUT", "LECTERN_SHUTDOWN_DELAY", "LECTERN_SECRET is required",
		"LECTERN_JWKS_URL", "LECTERN_CORS_ORIGINS", "LECTERN_CHAT_RATE_LIMIT", "LECTERN_CHAT_DAILY_BUDGET", "LECTERN_LLM_BASE_URL",
		"LECTERN_LLM_MODEL is required", "LECTERN_LLM_TIMEOUT", "LECTERN_ADMIN_EMAILS", "LECTERN_INSIGHTS:"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not mention %s:\n%v", want, err)
		}
	}
}

func TestMetricsAddr(t *testing.T) {
	for _, tc := range []struct {
		name    string
		args    []string
		env     map[string]string
		want    string // MetricsAddr, when valid
		wantErr string
	}{
		{"metrics are off by default", nil, nil, "", ""},
		{"the env var sets the address", nil, map[string]string{"LECTERN_METRICS_ADDR": "127.0.0.1:9090"}, "127.0.0.1:9090", ""},
		{"the flag sets the address", []string{"--metrics-addr", ":9091"}, nil, ":9091", ""},
		{"an address without a port is refused", nil, map[string]string{"LECTERN_METRICS_ADDR": "localhost"}, "", "LECTERN_METRICS_ADDR"},
		{"the public address is refused", nil, map[string]string{"LECTERN_ADDR": ":8080", "LECTERN_METRICS_ADDR": ":8080"}, "", "must differ from LECTERN_ADDR"},
		{"profiles with metrics", nil, map[string]string{"LECTERN_METRICS_ADDR": "127.0.0.1:9090", "LECTERN_PPROF": "on"}, "127.0.0.1:9090", ""},
		{"profiles need the metrics address", nil, map[string]string{"LECTERN_PPROF": "on"}, "", "LECTERN_PPROF: on needs LECTERN_METRICS_ADDR"},
		{"the least readers is a whole number", nil, map[string]string{"LECTERN_INSIGHTS_MIN_READERS": "0"}, "", "LECTERN_INSIGHTS_MIN_READERS"},
		{"profiles are on or off", nil, map[string]string{"LECTERN_METRICS_ADDR": "127.0.0.1:9090", "LECTERN_PPROF": "yes"}, "", "neither on nor off"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := parse(t, tc.args, tc.env)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want it to mention %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.MetricsAddr != tc.want {
				t.Fatalf("MetricsAddr = %q, want %q", c.MetricsAddr, tc.want)
			}
			if want := tc.env["LECTERN_PPROF"] == "on"; c.PProf != want {
				t.Fatalf("PProf = %v, want %v", c.PProf, want)
			}
		})
	}
}

// TestGroupsLimitWhatACommandReads checks that a command takes only the
// settings of its groups: other flags are unknown, other variables are not
// read (so a bad one cannot stop it), and -h lists only its own.
func TestGroupsLimitWhatACommandReads(t *testing.T) {
	env := func(k string) string {
		return map[string]string{"LECTERN_ADDR": "not an address", "LECTERN_DATA_DIR": "/tmp/lectern-db"}[k]
	}
	c, _, err := Parse("migrate", Database, nil, env, io.Discard)
	if err != nil {
		t.Fatalf("a bad setting of another group stopped the command: %v", err)
	}
	if c.DataDir != "/tmp/lectern-db" || c.Addr != ":8080" {
		t.Errorf("data dir %q, addr %q", c.DataDir, c.Addr)
	}
	if _, _, err := Parse("migrate", Database, []string{"--addr", ":9000"}, env, io.Discard); err == nil {
		t.Error("a flag of another group was accepted")
	}
	if _, _, err := Parse("serve", All, nil, env, io.Discard); err == nil || !strings.Contains(err.Error(), "LECTERN_ADDR") {
		t.Errorf("a command of that group did not check it: %v", err)
	}
	var help strings.Builder
	Parse("migrate", Database, []string{"-h"}, env, &help)
	for _, want := range []string{"-data-dir", "-database-url", "-log-level"} {
		if !strings.Contains(help.String(), want) {
			t.Errorf("-h lacks %s", want)
		}
	}
	for _, other := range []string{"-addr", "-jwt-alg", "-llm-model", "-book"} {
		if strings.Contains(help.String(), other+" ") {
			t.Errorf("-h of migrate lists %s", other)
		}
	}
}
