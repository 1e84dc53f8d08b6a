package llm

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"strings"
)

// wireResponse is a chat-completions response or stream chunk. Servers
// report errors in it too: {"error": ...}, or older vLLM's top-level
// {"object": "error", "message": ..., "code": ...}.
type wireResponse struct {
	Choices []wireChoice    `json:"choices"`
	Usage   *wireUsage      `json:"usage"`
	Error   json.RawMessage `json:"error"`
	Object  string          `json:"object"`
	Message string          `json:"message"`
	Code    json.RawMessage `json:"code"`
}

type wireChoice struct {
	Index int `json:"index"`
	// Content is a pointer in both because servers send null; fields such
	// as delta.reasoning_content are not decoded, so they are ignored.
	Delta struct {
		Content *string `json:"content"`
	} `json:"delta"`
	Message struct {
		Content *string `json:"content"`
	} `json:"message"`
	FinishReason *string `json:"finish_reason"`
}

type wireUsage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
	TotalTokens      int `json:"total_tokens"`
}

func (u *wireUsage) usage() Usage {
	total := u.TotalTokens
	if total == 0 {
		total = u.PromptTokens + u.CompletionTokens
	}
	return Usage{PromptTokens: u.PromptTokens, CompletionTokens: u.CompletionTokens, TotalTokens: total}
}

// apiError returns the error the server reported in w, if any.
func (w *wireResponse) apiError() *Error {
	if msg, retryable, ok := decodeAPIError(w.Error); ok {
		return &Error{Message: "the model reported an error: " + msg, Retryable: retryable}
	}
	if w.Object == "error" {
		msg := w.Message
		if msg == "" {
			msg = "no message"
		}
		return &Error{Message: "the model reported an error: " + msg, Retryable: retryableCode(w.Code)}
	}
	return nil
}

// parseStream reads a chat-completions response body: a server-sent event
// stream of chunks or, when a server or proxy ignored "stream": true, one
// JSON completion. It calls onDelta with every non-empty piece of content in
// order and onEvent (if not nil) for every event that carries data, so the
// caller can tell the stream is alive. It returns the whole text and the
// last usage reported. Errors it finds in the body are *Error; read errors
// are returned as they are.
func parseStream(r io.Reader, onEvent func(), onDelta func(string) error) (string, Usage, error) {
	br := bufio.NewReader(r)
	if b, err := br.Peek(3); err == nil && string(b) == "\uFEFF" {
		br.Discard(3)
	}
	for {
		b, err := br.ReadByte()
		if err == io.EOF {
			return "", Usage{}, &Error{Message: "the model's response was empty", Retryable: true}
		}
		if err != nil {
			return "", Usage{}, err
		}
		if b == ' ' || b == '\t' || b == '\r' || b == '\n' {
			continue
		}
		br.UnreadByte()
		if b == '{' {
			return parseWhole(br, onDelta)
		}
		break
	}

	events := eventReader{r: br}
	var text strings.Builder
	var usage Usage
	finished := false
	for {
		ev, err := events.next()
		if err == io.EOF {
			if finished {
				return text.String(), usage, nil
			}
			return text.String(), usage, endedEarly("stream")
		}
		if err != nil {
			return text.String(), usage, err
		}
		if onEvent != nil {
			onEvent()
		}
		data := strings.TrimSpace(ev.data)
		if ev.event == "error" {
			return text.String(), usage, &Error{Message: "the model reported an error: " + errorMessage([]byte(data))}
		}
		if data == "[DONE]" {
			return text.String(), usage, nil
		}
		if data == "" {
			continue
		}
		var chunk wireResponse
		if err := json.Unmarshal([]byte(data), &chunk); err != nil {
			if ev.truncated {
				return text.String(), usage, endedEarly("stream")
			}
			return text.String(), usage, &Error{Message: "malformed chunk in the model's stream: " + err.Error()}
		}
		if e := chunk.apiError(); e != nil {
			return text.String(), usage, e
		}
		if chunk.Usage != nil {
			usage = chunk.Usage.usage()
		}
		for _, ch := range chunk.Choices {
			if ch.Index != 0 {
				continue
			}
			if c := ch.Delta.Content; c != nil && *c != "" {
				text.WriteString(*c)
				if err := onDelta(*c); err != nil {
					return text.String(), usage, err
				}
			}
			if ch.FinishReason != nil && *ch.FinishReason != "" {
				finished = true
			}
		}
	}
}

// parseWhole reads a non-streamed completion.
func parseWhole(r io.Reader, onDelta func(string) error) (string, Usage, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return "", Usage{}, err
	}
	var resp wireResponse
	if err := json.Unmarshal(data, &resp); err != nil {
		return "", Usage{}, &Error{Message: "malformed response from the model: " + err.Error()}
	}
	if e := resp.apiError(); e != nil {
		return "", Usage{}, e
	}
	var usage Usage
	if resp.Usage != nil {
		usage = resp.Usage.usage()
	}
	for _, ch := range resp.Choices {
		if ch.Index != 0 {
			continue
		}
		text := ""
		if c := ch.Message.Content; c != nil {
			text = *c
		} else if c := ch.Delta.Content; c != nil {
			text = *c
		}
		if text != "" {
			if err := onDelta(text); err != nil {
				return text, usage, err
			}
		}
		return text, usage, nil
	}
	return "", usage, &Error{Message: "the model's response has no choices"}
}

// event is one server-sent event.
type event struct {
	event, data string
	// truncated: the input ended in the middle of the event's last line.
	truncated bool
}

// eventReader splits a stream into server-sent events as the HTML standard
// defines them: lines ending in CRLF, LF or CR; "field: value" lines; data
// lines joined with "\n"; a blank line ending an event; lines starting with
// ":" being comments. Unlike the standard, an event the input ends in
// without a blank line is still delivered, since some servers omit it.
type eventReader struct {
	r      *bufio.Reader
	line   []byte
	data   []byte
	event  string
	skipLF bool
}

func (e *eventReader) next() (event, error) {
	for {
		line, err := e.readLine()
		if err == io.EOF {
			if len(line) > 0 {
				e.field(line)
			}
			if len(e.data) > 0 {
				return e.dispatch(len(line) > 0), nil
			}
			return event{}, io.EOF
		}
		if err != nil {
			return event{}, err
		}
		if len(line) > 0 {
			e.field(line)
			continue
		}
		if len(e.data) > 0 {
			return e.dispatch(false), nil
		}
		e.event = ""
	}
}

func (e *eventReader) dispatch(truncated bool) event {
	ev := event{event: e.event, data: string(bytes.TrimSuffix(e.data, []byte("\n"))), truncated: truncated}
	e.data = e.data[:0]
	e.event = ""
	return ev
}

func (e *eventReader) field(line []byte) {
	if line[0] == ':' {
		return
	}
	name, value, _ := bytes.Cut(line, []byte(":"))
	value = bytes.TrimPrefix(value, []byte(" "))
	switch string(name) {
	case "data":
		e.data = append(e.data, value...)
		e.data = append(e.data, '\n')
	case "event":
		e.event = string(value)
	}
}

// readLine returns the next line without its ending. At the end of input
// it returns the unterminated rest, possibly empty, with io.EOF.
func (e *eventReader) readLine() ([]byte, error) {
	e.line = e.line[:0]
	for {
		b, err := e.r.ReadByte()
		if err != nil {
			return e.line, err
		}
		// A CR ends the line at once, so an event is not held back waiting
		// for the byte after it; an LF right after it is then skipped.
		if e.skipLF {
			e.skipLF = false
			if b == '\n' {
				continue
			}
		}
		switch b {
		case '\n':
			return e.line, nil
		case '\r':
			e.skipLF = true
			return e.line, nil
		}
		e.line = append(e.line, b)
	}
}
