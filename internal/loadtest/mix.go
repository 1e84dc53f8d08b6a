package loadtest

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// Op names one kind of request a virtual reader makes. They are the rows of
// the report.
type Op int

// The operations, in the order the report lists them. Setup does the first
// three (and the load phase too); the others only the load phase.
const (
	OpSignUp            Op = iota // POST /api/auth/sign-up/email, once per reader at the start
	OpSignIn                      // POST /api/auth/sign-in/email
	OpToken                       // GET /api/auth/token
	OpListConversations           // GET /api/conversations
	OpAsk                         // POST /api/agents/run
	OpHistory                     // GET /api/conversations/{id}/messages
	OpAskStream                   // POST /api/agents/stream, read to its last event, as the chat panel does
	// OpAskStreamFirstDelta is no request of its own: the time from the
	// start of an ask_stream to its first delta event.
	OpAskStreamFirstDelta
	numOps
)

// String is the operation's name in reports: sign_up, sign_in, token,
// list_conversations, ask, history, ask_stream or ask_stream_first_delta.
func (o Op) String() string {
	switch o {
	case OpSignUp:
		return "sign_up"
	case OpSignIn:
		return "sign_in"
	case OpToken:
		return "token"
	case OpListConversations:
		return "list_conversations"
	case OpAsk:
		return "ask"
	case OpHistory:
		return "history"
	case OpAskStream:
		return "ask_stream"
	case OpAskStreamFirstDelta:
		return "ask_stream_first_delta"
	}
	return "op(" + strconv.Itoa(int(o)) + ")"
}

// setup reports whether setup does o too (sign-up, sign-in, token), not
// only the load phase.
func (o Op) setup() bool { return o == OpSignUp || o == OpSignIn || o == OpToken }

// derived reports whether o is a figure of another operation's requests
// rather than requests of its own.
func (o Op) derived() bool { return o == OpAskStreamFirstDelta }

// mixOps are the operations a mix can weigh, with the names --mix accepts
// for each (the first is the canonical one).
func mixOps() []struct {
	op    Op
	names []string
} {
	return []struct {
		op    Op
		names []string
	}{
		{OpAsk, []string{"ask"}},
		{OpAskStream, []string{"ask_stream"}},
		{OpListConversations, []string{"list", "list_conversations"}},
		{OpHistory, []string{"history"}},
		{OpSignIn, []string{"sign_in", "signin"}},
	}
}

// Mix is the relative weight of each operation in a reader's loop: with
// {Ask: 1, List: 2, History: 2}, one request in five is a question. Weights
// are non-negative and at least one is positive.
type Mix struct {
	Ask       float64 // ask a question (POST /api/agents/run)
	AskStream float64 // ask a question as the chat panel does (POST /api/agents/stream)
	List      float64 // list conversations
	History   float64 // read a conversation's messages
	SignIn    float64 // sign in again, making a new session
}

// DefaultMix is the mix used when none is given: mostly reading, a question
// (POST /api/agents/run) in five, and a fresh sign-in about once in 250 operations (a sign-in
// costs the server some 18 ms of CPU for the password hash, so more would
// make the test mostly about hashing).
func DefaultMix() Mix { return Mix{Ask: 1, List: 2, History: 2, SignIn: 0.02} }

func (m Mix) weight(op Op) float64 {
	switch op {
	case OpAsk:
		return m.Ask
	case OpAskStream, OpAskStreamFirstDelta: // the latter comes with the former
		return m.AskStream
	case OpListConversations:
		return m.List
	case OpHistory:
		return m.History
	case OpSignIn:
		return m.SignIn
	}
	return 0
}

func (m *Mix) set(op Op, w float64) {
	switch op {
	case OpAsk:
		m.Ask = w
	case OpAskStream:
		m.AskStream = w
	case OpListConversations:
		m.List = w
	case OpHistory:
		m.History = w
	case OpSignIn:
		m.SignIn = w
	}
}

// String renders the mix in the form ParseMix reads, leaving out zero
// weights.
func (m Mix) String() string {
	var parts []string
	for _, e := range mixOps() {
		if w := m.weight(e.op); w > 0 {
			parts = append(parts, e.names[0]+"="+strconv.FormatFloat(w, 'g', -1, 64))
		}
	}
	return strings.Join(parts, ",")
}

// Validate reports a negative or non-finite weight, or a mix with nothing
// to do.
func (m Mix) Validate() error {
	total := 0.0
	for _, e := range mixOps() {
		w := m.weight(e.op)
		if w < 0 || math.IsNaN(w) || math.IsInf(w, 0) {
			return fmt.Errorf("mix: weight of %s is %v; want a number >= 0", e.names[0], w)
		}
		total += w
	}
	if total <= 0 {
		return errors.New("mix: every weight is 0; give at least one operation a positive weight")
	}
	return nil
}

// ParseMix reads a mix written as comma-separated op=weight pairs, such as
// "ask=1,list=2,history=2,sign_in=0.1". The ops are ask, ask_stream, list
// (or list_conversations), history and sign_in; an op left out weighs 0.
func ParseMix(s string) (Mix, error) {
	var m Mix
	if strings.TrimSpace(s) == "" {
		return m, errors.New(`mix: empty; want op=weight pairs such as "ask=1,list=2,history=2"`)
	}
	seen := map[Op]bool{}
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		name, val, ok := strings.Cut(part, "=")
		if !ok {
			return Mix{}, fmt.Errorf("mix: %q is not op=weight (e.g. ask=1)", part)
		}
		name = strings.ToLower(strings.TrimSpace(name))
		op, known := Op(-1), false
		for _, e := range mixOps() {
			for _, n := range e.names {
				if n == name {
					op, known = e.op, true
				}
			}
		}
		if !known {
			return Mix{}, fmt.Errorf("mix: unknown operation %q; want ask, ask_stream, list, history or sign_in", name)
		}
		if seen[op] {
			return Mix{}, fmt.Errorf("mix: %s is given twice", name)
		}
		seen[op] = true
		w, err := strconv.ParseFloat(strings.TrimSpace(val), 64)
		if err != nil || w < 0 || math.IsNaN(w) || math.IsInf(w, 0) {
			return Mix{}, fmt.Errorf("mix: weight %q of %s is not a number >= 0", val, name)
		}
		m.set(op, w)
	}
	if err := m.Validate(); err != nil {
		return Mix{}, err
	}
	return m, nil
}

// scheduler picks each reader's next operation by smooth weighted
// round-robin (nginx's): over any run of picks each operation gets its
// share of the mix exactly, spread out rather than in bursts, with no
// randomness to make short runs uneven.
type scheduler struct {
	ops     []Op
	weights []float64
	current []float64
	total   float64
}

func newScheduler(m Mix) *scheduler {
	s := &scheduler{}
	for _, e := range mixOps() {
		if w := m.weight(e.op); w > 0 {
			s.ops = append(s.ops, e.op)
			s.weights = append(s.weights, w)
			s.total += w
		}
	}
	s.current = make([]float64, len(s.ops))
	return s
}

// period is about how many picks it takes for every operation to come up:
// the total weight over the smallest, at most 10,000.
func (s *scheduler) period() int {
	return int(math.Ceil(min(s.total/slices.Min(s.weights), 10_000)))
}

// next returns the operation to do next.
func (s *scheduler) next() Op {
	best := 0
	for i, w := range s.weights {
		s.current[i] += w
		if s.current[i] > s.current[best] {
			best = i
		}
	}
	s.current[best] -= s.total
	return s.ops[best]
}
