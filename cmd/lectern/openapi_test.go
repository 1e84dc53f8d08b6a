package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// TestOpenAPIDescribesEveryResponse calls every endpoint of the document
// served at /api/openapi.json on a real server, in success and in error,
// and holds each response (status, and body against the schema the
// document gives for it) to the document; and it checks that the document
// lists exactly the routes the code serves under /api/.
func TestOpenAPIDescribesEveryResponse(t *testing.T) {
	email := newEmail("openapi")
	base, _, _ := startServe(t, map[string]string{
		"LECTERN_SECRET":          strings.Repeat("o", 40),
		"LECTERN_AUTH_RATE_LIMIT": "off",
		"LECTERN_CHAT_RATE_LIMIT": "off",
		"LECTERN_ADMIN_EMAILS":    email, // the book's owner, for the insights
	})
	res, err := http.Get(base + "/api/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(res.Body)
	res.Body.Close()
	var doc map[string]any
	if res.StatusCode != 200 || json.Unmarshal(raw, &doc) != nil || doc["openapi"] != "3.1.0" {
		t.Fatalf("GET /api/openapi.json: %d %.200s", res.StatusCode, raw)
	}
	spec := openAPISpec{doc: doc}
	t.Run("the document lists exactly the routes the code serves", func(t *testing.T) {
		spec.checkRoutes(t)
	})

	token := signUpForToken(t, base, "Open API", email)
	c := apiCaller{t: t, base: base, token: token, spec: spec, seen: map[string]bool{}}
	c.call("GET", "/api/openapi.json", "", "", 200)
	c.call("GET", "/api/book", "", "", 200)
	c.call("GET", "/api/search?q=leap+second&k=2", "", "", 200)
	c.call("GET", "/api/search?q=", "", "", 400)
	c.call("GET", "/api/users/me", "", "", 200)
	c.call("GET", "/api/users/me", "", "none", 401)

	run := c.call("POST", "/api/agents/run", `{"agent_type":"rag","query":"What is a leap second?"}`, "", 200)
	var answer struct {
		SessionID string `json:"session_id"`
		MessageID string `json:"message_id"`
	}
	if err := json.Unmarshal(run, &answer); err != nil || answer.SessionID == "" {
		t.Fatalf("run: %v %s", err, run)
	}
	c.call("POST", "/api/agents/run", `{"agent_type":"oracle","query":"?"}`, "", 400)
	c.call("POST", "/api/agents/run", `{"query":"more","session_id":"no-such-conversation"}`, "", 404)
	c.stream(`{"query":"Why do leap seconds exist?","session_id":"`+answer.SessionID+`"}`, 200)
	c.call("POST", "/api/agents/stream", `{"query":""}`, "", 400)

	conv := "/api/conversations/" + answer.SessionID
	c.call("GET", "/api/conversations?limit=1", "", "", 200)
	c.call("GET", "/api/conversations?limit=0", "", "", 400)
	c.call("GET", conv, "", "", 200)
	c.call("GET", "/api/conversations/nope", "", "", 404)
	c.call("PATCH", conv, `{"title":"Leap seconds"}`, "", 200)
	c.call("PATCH", conv, `{}`, "", 400)
	c.call("PATCH", "/api/conversations/nope", `{"title":"x"}`, "", 404)
	c.call("GET", conv+"/messages?limit=2", "", "", 200)
	c.call("GET", conv+"/messages?cursor=***", "", "", 400)
	c.call("GET", "/api/conversations/nope/messages", "", "", 404)
	c.call("POST", conv+"/messages", `{"content":"a note of mine"}`, "", 201)
	c.call("POST", conv+"/messages", `{"role":"assistant","content":"forged"}`, "", 400)
	c.call("POST", "/api/conversations/nope/messages", `{"content":"x"}`, "", 404)
	c.call("POST", "/api/messages/"+answer.MessageID+"/feedback", `{"rating":"up","comment":"clear"}`, "", 200)
	c.call("POST", "/api/messages/"+answer.MessageID+"/feedback", `{"rating":"meh"}`, "", 400)
	c.call("POST", "/api/messages/nope/feedback", `{"rating":"down"}`, "", 404)
	c.call("GET", "/api/users/me/export", "", "", 200)
	c.call("GET", "/api/insights/volume", "", "", 200)
	c.call("GET", "/api/insights/volume?from=2026-02-30", "", "", 400)
	c.call("GET", "/api/insights/not-covered", "", "", 200)
	c.call("GET", "/api/insights/not-covered?to=tomorrow", "", "", 400)
	c.call("GET", "/api/insights/rated-down", "", "", 200)
	c.call("GET", "/api/insights/rated-down?from=2026-01-01&to=2025-01-01", "", "", 400)
	c.call("GET", "/api/insights/pages", "", "", 200)
	c.call("GET", "/api/insights/pages?from=01/01/2026", "", "", 400)
	c.call("GET", "/api/insights/cited", "", "", 200)
	c.call("GET", "/api/insights/cited?from=2025-01-01&to=2026-12-31", "", "", 400)
	reader := c
	reader.token = signUpForToken(t, base, "Reader", newEmail("openapi-reader"))
	reader.call("GET", "/api/insights/volume", "", "", 404) // a reader, as for an unknown route
	reader.call("GET", "/api/insights/not-covered", "", "", 404)
	reader.call("GET", "/api/insights/rated-down", "", "", 404)
	reader.call("GET", "/api/insights/pages", "", "", 404)
	reader.call("GET", "/api/insights/cited", "", "", 404)
	c.call("DELETE", conv, "", "", 204)
	c.call("DELETE", conv, "", "", 404)

	for _, op := range spec.operations() {
		if !c.seen[op] {
			t.Errorf("%s was never called: add it to this test", op)
		}
	}
}

// openAPISpec is the parsed document, with a validator for the subset of
// JSON Schema it uses: type (one or a list), properties, required,
// additionalProperties false, items, enum and $ref.
type openAPISpec struct{ doc map[string]any }

func (s openAPISpec) paths() map[string]any { return s.doc["paths"].(map[string]any) }

// operations returns "METHOD /path" for every operation.
func (s openAPISpec) operations() []string {
	var out []string
	for path, item := range s.paths() {
		for method := range item.(map[string]any) {
			if method != "parameters" {
				out = append(out, strings.ToUpper(method)+" "+path)
			}
		}
	}
	sort.Strings(out)
	return out
}

// checkRoutes compares the operations with the routes registered in the
// API's and the reader's routes.go.
func (s openAPISpec) checkRoutes(t *testing.T) {
	var served []string
	pattern := regexp.MustCompile(`(?:handle|mux\.Handle)\("((?:GET|POST|PATCH|DELETE|PUT) /api/[^"]*)"`)
	for _, f := range []string{"../../internal/api/routes.go", "../../internal/web/routes.go"} {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range pattern.FindAllStringSubmatch(string(src), -1) {
			served = append(served, m[1])
		}
	}
	sort.Strings(served)
	if documented := s.operations(); !slices.Equal(served, documented) {
		t.Errorf("routes served:\n  %s\noperations documented:\n  %s", strings.Join(served, "\n  "), strings.Join(documented, "\n  "))
	}
}

// response returns the schema documented for method, path (a template such
// as /api/conversations/{id}) and status, and whether the status is
// documented at all; a nil schema means no body.
func (s openAPISpec) response(method, path string, status int) (map[string]any, bool) {
	item, ok := s.paths()[path].(map[string]any)
	if !ok {
		return nil, false
	}
	op, ok := item[strings.ToLower(method)].(map[string]any)
	if !ok {
		return nil, false
	}
	r, ok := op["responses"].(map[string]any)[strconv.Itoa(status)].(map[string]any)
	if !ok {
		return nil, false
	}
	r = s.resolve(r)
	content, _ := r["content"].(map[string]any)
	for _, media := range content {
		schema, _ := media.(map[string]any)["schema"].(map[string]any)
		return schema, true
	}
	return nil, true
}

// resolve follows a $ref within the document.
func (s openAPISpec) resolve(v map[string]any) map[string]any {
	for {
		ref, ok := v["$ref"].(string)
		if !ok {
			return v
		}
		var cur any = s.doc
		for _, part := range strings.Split(strings.TrimPrefix(ref, "#/"), "/") {
			cur = cur.(map[string]any)[part]
		}
		v = cur.(map[string]any)
	}
}

// validate returns what is wrong with value against schema, each problem
// named by its place in the value.
func (s openAPISpec) validate(schema map[string]any, value any, at string) []string {
	schema = s.resolve(schema)
	var problems []string
	if enum, ok := schema["enum"].([]any); ok && !slices.ContainsFunc(enum, func(e any) bool { return e == value }) {
		problems = append(problems, fmt.Sprintf("%s: %v is not one of %v", at, value, enum))
	}
	if types := typesOf(schema["type"]); len(types) > 0 && !slices.Contains(types, jsonType(value)) &&
		!(jsonType(value) == "integer" && slices.Contains(types, "number")) {
		return append(problems, fmt.Sprintf("%s: %s, want %v", at, jsonType(value), types))
	}
	switch v := value.(type) {
	case map[string]any:
		props, _ := schema["properties"].(map[string]any)
		for _, r := range asStrings(schema["required"]) {
			if _, ok := v[r]; !ok {
				problems = append(problems, fmt.Sprintf("%s: no %q", at, r))
			}
		}
		for k, fv := range v {
			ps, ok := props[k].(map[string]any)
			if !ok {
				if schema["additionalProperties"] == false {
					problems = append(problems, fmt.Sprintf("%s: %q is not in the document", at, k))
				}
				continue
			}
			problems = append(problems, s.validate(ps, fv, at+"."+k)...)
		}
	case []any:
		if items, ok := schema["items"].(map[string]any); ok {
			for i, e := range v {
				problems = append(problems, s.validate(items, e, fmt.Sprintf("%s[%d]", at, i))...)
			}
		}
	}
	return problems
}

func typesOf(t any) []string {
	switch t := t.(type) {
	case string:
		return []string{t}
	case []any:
		return asStrings(t)
	}
	return nil
}

func asStrings(v any) []string {
	list, _ := v.([]any)
	var out []string
	for _, e := range list {
		if s, ok := e.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

func jsonType(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case string:
		return "string"
	case float64:
		if v == float64(int64(v)) {
			return "integer"
		}
		return "number"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}

// apiCaller calls the server as a reader and checks each response against
// the document, recording which operations it called.
type apiCaller struct {
	t     *testing.T
	base  string
	token string
	spec  openAPISpec
	seen  map[string]bool
}

// template returns the documented path that path matches, a {name}
// segment matching any one segment.
func (c *apiCaller) template(path string) string {
	got := strings.Split(path, "/")
	for tmpl := range c.spec.paths() {
		parts := strings.Split(tmpl, "/")
		if len(parts) != len(got) {
			continue
		}
		match := true
		for i := range parts {
			match = match && (parts[i] == got[i] || strings.HasPrefix(parts[i], "{"))
		}
		if match {
			return tmpl
		}
	}
	return ""
}

// call sends a request ("none" as token: without one) and checks that the
// response has status want and the body the document gives for it.
func (c *apiCaller) call(method, url, body, token string, want int) []byte {
	c.t.Helper()
	req, err := http.NewRequest(method, c.base+url, strings.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "none" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	got, _ := io.ReadAll(res.Body)
	c.check(method, url, res.StatusCode, want, got)
	return got
}

func (c *apiCaller) check(method, url string, status, want int, body []byte) {
	c.t.Helper()
	path, _, _ := strings.Cut(url, "?")
	tmpl := c.template(path)
	what := method + " " + url
	if tmpl == "" {
		c.t.Errorf("%s: no such path in the document", what)
		return
	}
	c.seen[method+" "+tmpl] = true
	if status != want {
		c.t.Errorf("%s: %d, want %d: %.300s", what, status, want, body)
		return
	}
	schema, ok := c.spec.response(method, tmpl, status)
	switch {
	case !ok:
		c.t.Errorf("%s: status %d is not documented", what, status)
	case schema == nil:
		if len(bytes.TrimSpace(body)) > 0 {
			c.t.Errorf("%s: a body where the document has none: %.200s", what, body)
		}
	case c.spec.resolve(schema)["type"] == "string":
	default:
		var v any
		if err := json.Unmarshal(body, &v); err != nil {
			c.t.Errorf("%s: not JSON: %v", what, err)
			return
		}
		for _, p := range c.spec.validate(schema, v, "body") {
			c.t.Errorf("%s %d: %s", what, status, p)
		}
	}
}

// stream asks through /api/agents/stream and checks each event's data
// against the schema the operation's description names for it.
func (c *apiCaller) stream(body string, want int) {
	c.t.Helper()
	req, _ := http.NewRequest("POST", c.base+"/api/agents/stream", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+c.token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	c.check("POST", "/api/agents/stream", res.StatusCode, want, nil)
	if ct := res.Header.Get("Content-Type"); ct != "text/event-stream" {
		c.t.Fatalf("stream: Content-Type %q", ct)
	}
	schemas := map[string]string{"start": "StreamStart", "sources": "StreamSources", "delta": "StreamDelta", "done": "RunResponse", "error": "Error"}
	var events []string
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	event := ""
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "event: "):
			event = strings.TrimPrefix(line, "event: ")
			events = append(events, event)
		case strings.HasPrefix(line, "data: "):
			name, ok := schemas[event]
			if !ok {
				c.t.Errorf("stream: event %q is not documented", event)
				continue
			}
			var v any
			if err := json.Unmarshal([]byte(strings.TrimPrefix(line, "data: ")), &v); err != nil {
				c.t.Errorf("stream: %s data is not JSON: %v", event, err)
				continue
			}
			for _, p := range c.spec.validate(map[string]any{"$ref": "#/components/schemas/" + name}, v, event) {
				c.t.Errorf("stream: %s", p)
			}
		}
	}
	if len(events) < 3 || events[0] != "start" || events[len(events)-1] != "done" {
		c.t.Errorf("stream events %v, want start … done", events)
	}
}
