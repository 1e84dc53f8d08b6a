package llm

import (
	"bufio"
	"errors"
	"io"
	"strings"
	"testing"
)

func TestEventReaderSplitsEventsAsTheStandardSays(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     []event
	}{
		{"blank lines end events", "data: a\n\ndata: b\n\n", []event{{data: "a"}, {data: "b"}}},
		{"data lines are joined with newlines", "data: a\ndata:b\ndata\n\n", []event{{data: "a\nb\n"}}},
		{"only one space after the colon is dropped", "data:  a \n\n", []event{{data: " a "}}},
		{"comments and unknown fields are skipped", ": hi\nfoo: bar\ndata: a\n\n", []event{{data: "a"}}},
		{"an event without data is not delivered", "event: ping\n\ndata: a\n\n", []event{{data: "a"}}},
		{"the event type is kept", "event: error\ndata: x\n\n", []event{{event: "error", data: "x"}}},
		{"CRLF, CR and LF all end lines", "data: a\r\n\r\ndata: b\r\rdata: c\n\n", []event{{data: "a"}, {data: "b"}, {data: "c"}}},
		{"an event the input ends in is delivered", "data: a\n", []event{{data: "a"}}},
		{"an event whose last line is cut off is marked", "data: a\ndata: b", []event{{data: "a\nb", truncated: true}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := eventReader{r: bufio.NewReader(strings.NewReader(tc.in))}
			var got []event
			for {
				ev, err := r.next()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, ev)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Errorf("event %d: got %+v, want %+v", i, got[i], tc.want[i])
				}
			}
		})
	}
}

func TestParseStreamPassesReadErrorsThrough(t *testing.T) {
	broken := errors.New("connection reset")
	r := io.MultiReader(strings.NewReader(delta("Hi")), &failingReader{broken})
	text, _, err := parseStream(r, nil, func(string) error { return nil })
	if !errors.Is(err, broken) || text != "Hi" {
		t.Fatalf("got %q, %v", text, err)
	}
}

type failingReader struct{ err error }

func (f *failingReader) Read([]byte) (int, error) { return 0, f.err }

func FuzzParseStream(f *testing.F) {
	for _, seed := range []string{
		roleChunk + delta("Hel") + delta("lo") + finish + usageChunk + done,
		strings.ReplaceAll(": ping\n\n"+delta("a")+finish+done, "\n", "\r\n"),
		strings.ReplaceAll(delta("a")+done, "\n", "\r"),
		"data: {\"choices\":[{\"index\":0,\ndata: \"delta\":{\"content\":\"Hi\"}}]}\n\n",
		`data: {"error":{"message":"x","code":500}}` + "\n\n",
		`data: {"object":"error","message":"x","code":"503"}` + "\n\n",
		"event: error\ndata: oops\n\n",
		`{"choices":[{"index":0,"message":{"content":"whole"}}],"usage":{"prompt_tokens":1}}`,
		"\uFEFF data: [DONE]",
		"data: {not json}\n\n",
		"data: {\"choices\":[{\"delta\":{\"content\":null}}]}",
		"",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		var deltas strings.Builder
		text, _, err := parseStream(strings.NewReader(string(in)), func() {}, func(s string) error {
			if s == "" {
				t.Fatal("an empty delta was delivered")
			}
			deltas.WriteString(s)
			return nil
		})
		if text != deltas.String() {
			t.Fatalf("text %q is not the deltas %q", text, deltas.String())
		}
		var apiErr *Error
		if err != nil && !errors.As(err, &apiErr) {
			t.Fatalf("an in-memory body failed with %v, not an *Error", err)
		}
	})
}
