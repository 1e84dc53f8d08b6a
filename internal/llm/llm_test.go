package llm

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// delta is a stream chunk carrying one piece of content, as OpenAI sends it.
func delta(s string) string {
	b, _ := json.Marshal(s)
	return `data: {"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":` + string(b) + `},"finish_reason":null}]}` + "\n\n"
}

const (
	roleChunk  = `data: {"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}` + "\n\n"
	finish     = `data: {"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}` + "\n\n"
	usageChunk = `data: {"id":"c1","object":"chat.completion.chunk","choices":[],"usage":{"prompt_tokens":12,"completion_tokens":3,"total_tokens":15}}` + "\n\n"
	done       = "data: [DONE]\n\n"
)

var wantUsage = Usage{PromptTokens: 12, CompletionTokens: 3, TotalTokens: 15}

// serve starts a model server and returns its base URL, ending in /v1.
// It reads each request's body before h runs, as a real server does: only
// then does net/http watch the connection and cancel r.Context() when the
// client goes away.
func serve(t *testing.T, h http.HandlerFunc) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		h(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/v1"
}

// stream starts an SSE response and writes parts, flushing after each.
func stream(w http.ResponseWriter, parts ...string) {
	w.Header().Set("Content-Type", "text/event-stream")
	w.WriteHeader(http.StatusOK)
	write(w, parts...)
}

func write(w http.ResponseWriter, parts ...string) {
	for _, p := range parts {
		io.WriteString(w, p)
		http.NewResponseController(w).Flush()
	}
}

// quick are options for a server that answers at once: short backoffs,
// timeouts far beyond what a healthy test needs.
func quick() Options {
	return Options{Timeout: 10 * time.Second, InitialBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond}
}

var conversation = []Message{{Role: "system", Content: "Be brief."}, {Role: "user", Content: "Hi"}}

// collector gathers deltas in the order they arrive.
type collector struct{ deltas []string }

func (c *collector) add(s string) error {
	c.deltas = append(c.deltas, s)
	return nil
}

func TestStreamSendsTheRequestAndDeliversDeltasInOrder(t *testing.T) {
	type seen struct {
		method, path, auth, accept string
		body                       map[string]any
	}
	got := make(chan seen, 1)
	url := serve(t, func(w http.ResponseWriter, r *http.Request) {
		s := seen{method: r.Method, path: r.URL.Path, auth: r.Header.Get("Authorization"), accept: r.Header.Get("Accept")}
		json.NewDecoder(r.Body).Decode(&s.body)
		got <- s
		stream(w, roleChunk, delta("Hel"), delta("lo, "), delta("world"), finish, usageChunk, done)
	})
	temp := 0.2
	var c collector
	text, usage, err := New(url+"/", "llama3", "sk-test", quick()).Stream(context.Background(),
		Request{Messages: conversation, MaxTokens: 64, Temperature: &temp}, c.add)
	if err != nil {
		t.Fatal(err)
	}
	if text != "Hello, world" || usage != wantUsage {
		t.Errorf("got %q %+v", text, usage)
	}
	if strings.Join(c.deltas, "|") != "Hel|lo, |world" {
		t.Errorf("deltas %q", c.deltas)
	}
	s := <-got
	if s.method != http.MethodPost || s.path != "/v1/chat/completions" || s.auth != "Bearer sk-test" || s.accept != "text/event-stream" {
		t.Errorf("request %s %s, Authorization %q, Accept %q", s.method, s.path, s.auth, s.accept)
	}
	body, _ := json.Marshal(s.body)
	want := `{"max_tokens":64,"messages":[{"content":"Be brief.","role":"system"},{"content":"Hi","role":"user"}],"model":"llama3","stream":true,"stream_options":{"include_usage":true},"temperature":0.2}`
	if string(body) != want {
		t.Errorf("body\n got %s\nwant %s", body, want)
	}
}

func TestStreamUnderstandsWhatServersActuallySend(t *testing.T) {
	for _, tc := range []struct {
		name, contentType, body string
		wantDeltas              []string
		wantUsage               Usage
	}{
		{
			name:       "a server that ignores stream_options sends no usage and Usage is zero",
			body:       roleChunk + delta("Hi") + delta(" there") + finish + done,
			wantDeltas: []string{"Hi", " there"},
		},
		{
			name:       "CRLF line endings and comment lines are understood",
			body:       ": ping\r\n\r\n" + strings.ReplaceAll(delta("Hi")+": keep-alive\n"+delta("!")+finish+usageChunk+done, "\n", "\r\n"),
			wantDeltas: []string{"Hi", "!"},
			wantUsage:  wantUsage,
		},
		{
			name:       "bare CR line endings are understood",
			body:       strings.ReplaceAll(delta("Hi")+finish+done, "\n", "\r"),
			wantDeltas: []string{"Hi"},
		},
		{
			name:       "a data field split over several lines is joined",
			body:       "data: {\"choices\":[{\"index\":0,\ndata: \"delta\":{\"content\":\"Hi\"}}]}\n\n" + finish + done,
			wantDeltas: []string{"Hi"},
		},
		{
			name:       "null content and reasoning_content are skipped",
			body:       `data: {"choices":[{"index":0,"delta":{"content":null,"reasoning_content":"Let me think."}}]}` + "\n\n" + delta("Yes.") + finish + done,
			wantDeltas: []string{"Yes."},
		},
		{
			name:       "usage in the finishing chunk, as Ollama sends it, is kept",
			body:       delta("Hi") + `data: {"choices":[{"index":0,"delta":{"content":""},"finish_reason":"stop"}],"usage":{"prompt_tokens":12,"completion_tokens":3,"total_tokens":15}}` + "\n\n" + done,
			wantDeltas: []string{"Hi"},
			wantUsage:  wantUsage,
		},
		{
			name:       "usage without a total is summed",
			body:       delta("Hi") + finish + `data: {"choices":[],"usage":{"prompt_tokens":12,"completion_tokens":3}}` + "\n\n" + done,
			wantDeltas: []string{"Hi"},
			wantUsage:  wantUsage,
		},
		{
			name:       "a stream that finishes without [DONE] is complete",
			body:       delta("Hi") + finish,
			wantDeltas: []string{"Hi"},
		},
		{
			name:       "a last [DONE] without a line ending is accepted",
			body:       delta("Hi") + "data: [DONE]",
			wantDeltas: []string{"Hi"},
		},
		{
			name:       "data without a space after the colon, event and id fields are read",
			body:       "event: message\nid: 1\ndata:" + strings.TrimPrefix(delta("Hi"), "data: ") + "retry: 1000\n\n" + finish + done,
			wantDeltas: []string{"Hi"},
		},
		{
			name:       "choices other than the first are ignored",
			body:       `data: {"choices":[{"index":1,"delta":{"content":"other"}},{"index":0,"delta":{"content":"Hi"}}]}` + "\n\n" + finish + done,
			wantDeltas: []string{"Hi"},
		},
		{
			name:       "a leading byte order mark and blank lines are skipped",
			body:       "\uFEFF\n\n" + delta("Hi") + finish + done,
			wantDeltas: []string{"Hi"},
		},
		{
			name:        "a JSON answer to a streaming request is taken whole",
			contentType: "application/json",
			body:        `{"id":"c1","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"Whole answer."},"finish_reason":"stop"}],"usage":{"prompt_tokens":12,"completion_tokens":3,"total_tokens":15}}`,
			wantDeltas:  []string{"Whole answer."},
			wantUsage:   wantUsage,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			url := serve(t, func(w http.ResponseWriter, r *http.Request) {
				ct := tc.contentType
				if ct == "" {
					ct = "text/event-stream"
				}
				w.Header().Set("Content-Type", ct)
				write(w, tc.body)
			})
			var c collector
			text, usage, err := New(url, "m", "", quick()).Stream(context.Background(), Request{Messages: conversation}, c.add)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(c.deltas, "|") != strings.Join(tc.wantDeltas, "|") || text != strings.Join(tc.wantDeltas, "") {
				t.Errorf("deltas %q, text %q, want %q", c.deltas, text, tc.wantDeltas)
			}
			if usage != tc.wantUsage {
				t.Errorf("usage %+v, want %+v", usage, tc.wantUsage)
			}
		})
	}
}

func TestStreamRejectsBrokenStreams(t *testing.T) {
	for _, tc := range []struct {
		name, body, want string
		wantDeltas       int
	}{
		{"garbage in a chunk is an error", delta("Hi") + "data: {not json}\n\n" + done, "malformed chunk in the model's stream", 1},
		{"garbage before any output is an error and not retried", "data: <html>\n\n", "malformed chunk", 0},
		{"an error object mid-stream is an error", delta("Hi") + `data: {"error":{"message":"the model crashed","type":"server_error"}}` + "\n\n", "the model reported an error: the model crashed", 1},
		{"older vLLM's error shape mid-stream is an error", delta("Hi") + `data: {"object":"error","message":"out of memory","type":"InternalServerError","code":500}` + "\n\n", "out of memory", 1},
		{"an error event is an error", delta("Hi") + "event: error\ndata: {\"message\":\"overloaded\"}\n\n", "overloaded", 1},
		{"a stream that stops without [DONE] or finish_reason ended early", delta("Hel") + delta("lo"), "the model's stream ended early", 2},
		{"a stream cut off inside a chunk ended early", delta("Hi") + `data: {"choices":[{"index":0,"del`, "the model's stream ended early", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var attempts atomic.Int32
			url := serve(t, func(w http.ResponseWriter, r *http.Request) {
				attempts.Add(1)
				stream(w, tc.body)
			})
			var c collector
			text, _, err := New(url, "m", "", quick()).Stream(context.Background(), Request{Messages: conversation}, c.add)
			var apiErr *Error
			if !errors.As(err, &apiErr) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v (text %q), want an *Error saying %q", err, text, tc.want)
			}
			if len(c.deltas) != tc.wantDeltas || attempts.Load() != 1 {
				t.Errorf("%d deltas in %d attempts, want %d in 1", len(c.deltas), attempts.Load(), tc.wantDeltas)
			}
		})
	}
}

func TestRetries(t *testing.T) {
	for _, tc := range []struct {
		name         string
		maxAttempts  int
		handle       func(w http.ResponseWriter, attempt int32)
		wantAttempts int32
		wantStatus   int  // 0: success wanted
		retryable    bool // of the final error
	}{
		{
			name: "a 429 with Retry-After is retried and then succeeds",
			handle: func(w http.ResponseWriter, attempt int32) {
				if attempt == 1 {
					w.Header().Set("Retry-After", "1")
					http.Error(w, `{"error":{"message":"Rate limit reached","type":"requests"}}`, http.StatusTooManyRequests)
					return
				}
				stream(w, delta("Hi"), finish, done)
			},
			wantAttempts: 2,
		},
		{
			name:        "500s are retried MaxAttempts times and then reported",
			maxAttempts: 4,
			handle: func(w http.ResponseWriter, _ int32) {
				http.Error(w, `{"error":{"message":"boom"}}`, http.StatusInternalServerError)
			},
			wantAttempts: 4, wantStatus: 500, retryable: true,
		},
		{
			name: "a 401 is not retried",
			handle: func(w http.ResponseWriter, _ int32) {
				http.Error(w, `{"error":{"message":"invalid api key"}}`, http.StatusUnauthorized)
			},
			wantAttempts: 1, wantStatus: 401,
		},
		{
			name: "a connection dropped before any output is retried",
			handle: func(w http.ResponseWriter, attempt int32) {
				if attempt == 1 {
					conn, _, _ := http.NewResponseController(w).Hijack()
					conn.Close()
					return
				}
				stream(w, delta("Hi"), finish, done)
			},
			wantAttempts: 2,
		},
		{
			name: "an empty answer is retried",
			handle: func(w http.ResponseWriter, attempt int32) {
				if attempt == 1 {
					stream(w)
					return
				}
				stream(w, delta("Hi"), finish, done)
			},
			wantAttempts: 2,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var attempts atomic.Int32
			url := serve(t, func(w http.ResponseWriter, r *http.Request) {
				tc.handle(w, attempts.Add(1))
			})
			opt := quick()
			opt.MaxAttempts = tc.maxAttempts
			text, _, err := New(url, "m", "", opt).Stream(context.Background(), Request{Messages: conversation}, nil)
			if n := attempts.Load(); n != tc.wantAttempts {
				t.Errorf("%d attempts, want %d", n, tc.wantAttempts)
			}
			if tc.wantStatus == 0 {
				if err != nil || text != "Hi" {
					t.Fatalf("got %q, %v", text, err)
				}
				return
			}
			var apiErr *Error
			if !errors.As(err, &apiErr) || apiErr.Status != tc.wantStatus || apiErr.Retryable != tc.retryable {
				t.Fatalf("got %#v, want status %d, retryable %v", err, tc.wantStatus, tc.retryable)
			}
		})
	}
}

func TestNoRetryOnceOutputStarted(t *testing.T) {
	var attempts atomic.Int32
	url := serve(t, func(w http.ResponseWriter, r *http.Request) {
		attempts.Add(1)
		stream(w, delta("Hi"))
		conn, _, _ := http.NewResponseController(w).Hijack()
		conn.Close()
	})
	text, _, err := New(url, "m", "", quick()).Stream(context.Background(), Request{Messages: conversation}, nil)
	var apiErr *Error
	if !errors.As(err, &apiErr) || !apiErr.Retryable {
		t.Fatalf("got %v, want a retryable *Error", err)
	}
	if attempts.Load() != 1 || text != "Hi" {
		t.Errorf("%d attempts, text %q; want 1 attempt and the partial text with the error", attempts.Load(), text)
	}
}

// progressTimeout is the timeout of the cases in which some of the answer
// must come first: long enough that a busy machine pausing the test does
// not cut the answer short before it, as 30 ms once did.
const progressTimeout = time.Second

func TestTimeouts(t *testing.T) {
	for _, tc := range []struct {
		name       string
		opt        Options
		complete   bool
		handle     func(w http.ResponseWriter, r *http.Request)
		wantDeltas int
	}{
		{
			name: "a server that never sends headers times out",
			opt:  Options{Timeout: 30 * time.Millisecond},
			handle: func(w http.ResponseWriter, r *http.Request) {
				<-r.Context().Done()
			},
		},
		{
			name: "a stream that hangs after two deltas times out and is not a success",
			opt:  Options{Timeout: 10 * time.Second, IdleTimeout: progressTimeout},
			handle: func(w http.ResponseWriter, r *http.Request) {
				stream(w, delta("Hel"), delta("lo"))
				<-r.Context().Done()
			},
			wantDeltas: 2,
		},
		{
			name: "an idle timeout follows from Timeout when unset",
			opt:  Options{Timeout: progressTimeout},
			handle: func(w http.ResponseWriter, r *http.Request) {
				stream(w, delta("Hel"))
				<-r.Context().Done()
			},
			wantDeltas: 1,
		},
		{
			name: "a stream that sends headers and then nothing times out",
			opt:  Options{Timeout: 30 * time.Millisecond, IdleTimeout: 10 * time.Second},
			handle: func(w http.ResponseWriter, r *http.Request) {
				stream(w)
				<-r.Context().Done()
			},
		},
		{
			name: "comment lines alone do not keep a stream alive",
			opt:  Options{Timeout: 10 * time.Second, IdleTimeout: progressTimeout},
			handle: func(w http.ResponseWriter, r *http.Request) {
				stream(w, delta("Hi"))
				for {
					select {
					case <-r.Context().Done():
						return
					case <-time.After(5 * time.Millisecond):
						write(w, ": ping\n\n")
					}
				}
			},
			wantDeltas: 1,
		},
		{
			name:     "Complete times out when the body never ends",
			opt:      Options{Timeout: 30 * time.Millisecond},
			complete: true,
			handle: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				write(w, `{"choices":[`)
				<-r.Context().Done()
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var attempts atomic.Int32
			url := serve(t, func(w http.ResponseWriter, r *http.Request) {
				attempts.Add(1)
				tc.handle(w, r)
			})
			c := New(url, "m", "", tc.opt)
			var got collector
			var err error
			if tc.complete {
				_, _, err = c.Complete(context.Background(), Request{Messages: conversation})
			} else {
				_, _, err = c.Stream(context.Background(), Request{Messages: conversation}, got.add)
			}
			var apiErr *Error
			if !errors.Is(err, ErrTimeout) || !errors.As(err, &apiErr) || !apiErr.Retryable {
				t.Fatalf("got %v, want a retryable *Error matching ErrTimeout", err)
			}
			if len(got.deltas) != tc.wantDeltas || attempts.Load() != 1 {
				t.Errorf("%d deltas in %d attempts, want %d in 1", len(got.deltas), attempts.Load(), tc.wantDeltas)
			}
		})
	}
}

func TestASlowCallerIsNotTheModelFallingSilent(t *testing.T) {
	url := serve(t, func(w http.ResponseWriter, r *http.Request) {
		stream(w, delta("Hel"))
		time.Sleep(10 * time.Millisecond)
		write(w, delta("lo"), finish, done)
	})
	opt := quick()
	opt.IdleTimeout = progressTimeout / 2 // far above the model's 10 ms pause, even on a busy machine
	text, _, err := New(url, "m", "", opt).Stream(context.Background(), Request{Messages: conversation}, func(string) error {
		time.Sleep(progressTimeout) // the caller: longer than the idle timeout
		return nil
	})
	if err != nil || text != "Hello" {
		t.Fatalf("got %q, %v", text, err)
	}
}

func TestAWebPageIsNotTakenForTheModel(t *testing.T) {
	var attempts atomic.Int32
	url := serve(t, func(w http.ResponseWriter, r *http.Request) {
		attempts.Add(1)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, "<!doctype html><title>Open WebUI</title>")
	})
	_, _, err := New(url, "m", "", quick()).Stream(context.Background(), Request{Messages: conversation}, nil)
	if err == nil || !strings.Contains(err.Error(), "check the base URL") || attempts.Load() != 1 {
		t.Fatalf("got %v after %d attempts", err, attempts.Load())
	}
}

// hangingStream serves two deltas and then waits for the client to go,
// reporting on the returned channel whether it saw the disconnect.
func hangingStream(t *testing.T) (url string, disconnected <-chan bool) {
	gone := make(chan bool, 1)
	url = serve(t, func(w http.ResponseWriter, r *http.Request) {
		stream(w, delta("Hel"), delta("lo"))
		select {
		case <-r.Context().Done():
			gone <- true
		case <-time.After(10 * time.Second):
			gone <- false
		}
	})
	return url, gone
}

func TestStreamStopsWhenOnDeltaFails(t *testing.T) {
	url, disconnected := hangingStream(t)
	stop := errors.New("the reader left")
	var n int
	text, _, err := New(url, "m", "", quick()).Stream(context.Background(), Request{Messages: conversation}, func(string) error {
		n++
		return stop
	})
	if !errors.Is(err, stop) || n != 1 {
		t.Fatalf("got %v after %d deltas, want the callback's error after 1", err, n)
	}
	if text != "Hel" {
		t.Errorf("text %q", text)
	}
	if !<-disconnected {
		t.Error("the server never saw the connection close")
	}
}

func TestStreamEndsWhenTheContextIsCancelled(t *testing.T) {
	url, disconnected := hangingStream(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	first := make(chan struct{})
	go func() {
		<-first
		cancel()
	}()
	var n int
	_, _, err := New(url, "m", "", quick()).Stream(ctx, Request{Messages: conversation}, func(string) error {
		if n++; n == 1 {
			close(first)
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) || errors.Is(err, ErrTimeout) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
	if !<-disconnected {
		t.Error("the server never saw the connection close")
	}
}

func TestCancelledContextStopsRetrying(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var attempts atomic.Int32
	url := serve(t, func(w http.ResponseWriter, r *http.Request) {
		attempts.Add(1)
		cancel()
		http.Error(w, "busy", http.StatusServiceUnavailable)
	})
	opt := quick()
	opt.InitialBackoff, opt.MaxBackoff = time.Minute, time.Minute
	_, _, err := New(url, "m", "", opt).Complete(ctx, Request{Messages: conversation})
	if !errors.Is(err, context.Canceled) || attempts.Load() != 1 {
		t.Fatalf("got %v after %d attempts, want context.Canceled after 1", err, attempts.Load())
	}
}

func TestComplete(t *testing.T) {
	type seen struct {
		auth   string
		hasKey bool
		body   string
	}
	got := make(chan seen, 1)
	url := serve(t, func(w http.ResponseWriter, r *http.Request) {
		var body map[string]any
		json.NewDecoder(r.Body).Decode(&body)
		b, _ := json.Marshal(body)
		_, hasKey := r.Header["Authorization"]
		got <- seen{auth: r.Header.Get("Authorization"), hasKey: hasKey, body: string(b)}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"id":"c1","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"Hello."},"finish_reason":"stop"}],"usage":{"prompt_tokens":12,"completion_tokens":3,"total_tokens":15}}`)
	})
	text, usage, err := New(url, "qwen2.5", "", quick()).Complete(context.Background(), Request{Messages: conversation})
	if err != nil {
		t.Fatal(err)
	}
	if text != "Hello." || usage != wantUsage {
		t.Errorf("got %q %+v", text, usage)
	}
	s := <-got
	if s.hasKey {
		t.Errorf("Authorization %q sent without a key", s.auth)
	}
	if want := `{"messages":[{"content":"Be brief.","role":"system"},{"content":"Hi","role":"user"}],"model":"qwen2.5","stream":false}`; s.body != want {
		t.Errorf("body\n got %s\nwant %s", s.body, want)
	}
}

func TestCompleteReportsErrors(t *testing.T) {
	const key = "sk-secret-0123456789"
	for _, tc := range []struct {
		name, contentType, body string
		status                  int
		want                    string // the whole error text, or with "…" a prefix
	}{
		{
			name:   "a 401 names the status and the message but never the key",
			status: 401,
			body:   `{"error":{"message":"Incorrect API key provided: ` + key + `","type":"invalid_request_error","code":"invalid_api_key"}}`,
			want:   "model API: 401 Unauthorized: Incorrect API key provided: [redacted]",
		},
		{
			name:   "a missing model at Ollama says so",
			status: 404,
			body:   `{"error":{"message":"model \"nope\" not found, try pulling it first","type":"api_error","param":null,"code":null}}`,
			want:   `model API: 404 Not Found: model "nope" not found, try pulling it first`,
		},
		{
			name:   "llama.cpp's error shape is read",
			status: 400,
			body:   `{"error":{"code":400,"message":"the request exceeds the available context size","type":"exceed_context_size_error"}}`,
			want:   "model API: 400 Bad Request: the request exceeds the available context size",
		},
		{
			name:   "older vLLM's error shape is read",
			status: 400,
			body:   `{"object":"error","message":"This model's maximum context length is 4096 tokens.","type":"BadRequestError","param":null,"code":400}`,
			want:   "model API: 400 Bad Request: This model's maximum context length is 4096 tokens.",
		},
		{
			name:   "a proxy's detail is read",
			status: 422,
			body:   `{"detail":"messages: field required"}`,
			want:   "model API: 422 Unprocessable Entity: messages: field required",
		},
		{
			name:   "a plain-text body becomes one line",
			status: 403,
			body:   "Forbidden\n\tby policy " + key + "\n",
			want:   "model API: 403 Forbidden: Forbidden by policy [redacted]",
		},
		{
			name:   "an empty body leaves the status",
			status: 502,
			want:   "model API: 502 Bad Gateway",
		},
		{
			name:   "a huge body is cut short",
			status: 500,
			body:   "<html>" + strings.Repeat("Internal error. ", 10000) + "</html>",
			want:   "model API: 500 Internal Server Error: <html>Internal error. …",
		},
		{
			name:        "malformed JSON is an error",
			status:      200,
			contentType: "application/json",
			body:        `{"choices":[{"index":0,"message":`,
			want:        "model API: malformed response from the model: …",
		},
		{
			name:        "an error object in a 200 answer is an error",
			status:      200,
			contentType: "application/json",
			body:        `{"error":{"message":"upstream failed"}}`,
			want:        "model API: the model reported an error: upstream failed",
		},
		{
			name:        "an answer without choices is an error",
			status:      200,
			contentType: "application/json",
			body:        `{"id":"c1","choices":[]}`,
			want:        "model API: the model's response has no choices",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			url := serve(t, func(w http.ResponseWriter, r *http.Request) {
				if tc.contentType != "" {
					w.Header().Set("Content-Type", tc.contentType)
				}
				w.WriteHeader(tc.status)
				io.WriteString(w, tc.body)
			})
			opt := quick()
			opt.MaxAttempts = 1
			_, _, err := New(url, "m", key, opt).Complete(context.Background(), Request{Messages: conversation})
			var apiErr *Error
			if !errors.As(err, &apiErr) {
				t.Fatalf("got %v, want an *Error", err)
			}
			msg := err.Error()
			if prefix, ok := strings.CutSuffix(tc.want, "…"); ok {
				if !strings.HasPrefix(msg, prefix) {
					t.Errorf("got %q, want it to start %q", msg, prefix)
				}
			} else if msg != tc.want {
				t.Errorf("got  %q\nwant %q", msg, tc.want)
			}
			if strings.Contains(msg, key) || len(msg) > 400 {
				t.Errorf("the error leaks the key or is too long (%d bytes): %q", len(msg), msg)
			}
		})
	}
}

func TestCompleteAcceptsAStreamedAnswer(t *testing.T) {
	url := serve(t, func(w http.ResponseWriter, r *http.Request) {
		stream(w, delta("Hel"), delta("lo."), finish, usageChunk, done)
	})
	text, usage, err := New(url, "m", "", quick()).Complete(context.Background(), Request{Messages: conversation})
	if err != nil || text != "Hello." || usage != wantUsage {
		t.Fatalf("got %q %+v %v", text, usage, err)
	}
}

func TestResponseSizeIsCapped(t *testing.T) {
	const limit = 1024
	whole := `{"choices":[{"index":0,"message":{"content":"` + strings.Repeat("a", 200) + `"}}]}`
	for _, tc := range []struct {
		name     string
		body     string
		complete bool
		fits     bool
	}{
		{"a stream beyond the cap is an error", strings.Repeat(delta(strings.Repeat("a", 90)), 20) + finish + done, false, false},
		{"a stream within the cap is whole", strings.Repeat(delta(strings.Repeat("a", 90)), 3) + finish + done, false, true},
		{"a completion beyond the cap is an error", whole + strings.Repeat(" ", limit), true, false},
		{"a completion of exactly the cap fits", whole + strings.Repeat(" ", limit-len(whole)), true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			url := serve(t, func(w http.ResponseWriter, r *http.Request) {
				if tc.complete {
					w.Header().Set("Content-Type", "application/json")
					io.WriteString(w, tc.body)
					return
				}
				stream(w, tc.body)
			})
			opt := quick()
			opt.MaxResponseBytes = limit
			c := New(url, "m", "", opt)
			var err error
			if tc.complete {
				_, _, err = c.Complete(context.Background(), Request{Messages: conversation})
			} else {
				_, _, err = c.Stream(context.Background(), Request{Messages: conversation}, nil)
			}
			if tc.fits {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), "larger than 1024 bytes") {
				t.Fatalf("got %v, want the size error", err)
			}
		})
	}
}

func TestBackoffGrowsWithJitterWithinBounds(t *testing.T) {
	c := New("http://x/v1", "m", "", Options{InitialBackoff: 100 * time.Millisecond, MaxBackoff: time.Second})
	for attempt, base := range map[int]time.Duration{1: 100 * time.Millisecond, 2: 200 * time.Millisecond, 3: 400 * time.Millisecond, 4: 800 * time.Millisecond, 5: time.Second, 30: time.Second} {
		for range 50 {
			if d := c.backoff(attempt, 0); d < base/2 || d > base {
				t.Fatalf("attempt %d waits %v, want within [%v, %v]", attempt, d, base/2, base)
			}
		}
	}
	if d := c.backoff(1, time.Hour); d != time.Second {
		t.Errorf("a Retry-After of an hour waits %v, want MaxBackoff", d)
	}
	if d := c.backoff(1, 300*time.Millisecond); d != 300*time.Millisecond {
		t.Errorf("a short Retry-After waits %v, want it honoured", d)
	}
}

func TestErrorText(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  *Error
		want string
	}{
		{"a status and a message", &Error{Status: 401, Message: "invalid api key"}, "model API: 401 Unauthorized: invalid api key"},
		{"a status alone", &Error{Status: 503}, "model API: 503 Service Unavailable"},
		{"an unknown status", &Error{Status: 599, Message: "odd"}, "model API: 599: odd"},
		{"no status", &Error{Message: "the model's stream ended early"}, "model API: the model's stream ended early"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.err.Error(); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestNetworkErrorsAreRetryableErrors(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL + "/v1"
	srv.Close()
	opt := quick()
	opt.MaxAttempts = 2
	_, _, err := New(url, "m", "sk-key", opt).Complete(context.Background(), Request{Messages: conversation})
	var apiErr *Error
	if !errors.As(err, &apiErr) || !apiErr.Retryable || apiErr.Status != 0 || apiErr.Err == nil {
		t.Fatalf("got %#v, want a retryable *Error with its cause", err)
	}
}
