package loadtest

import (
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"time"
)

// Error kinds, the keys of Stats.ErrorKinds.
const (
	KindRateLimited  = "rate_limited" // 429, whatever its code; the reader waits Retry-After
	KindUnauthorized = "unauthorized" // 401: the session or the token was refused
	Kind4xx          = "4xx"          // any other 4xx status
	Kind5xx          = "5xx"          // any 5xx status
	KindTimeout      = "timeout"      // no complete answer within Config.Timeout
	KindNetwork      = "network"      // the connection failed or broke
	KindBadResponse  = "bad_response" // a 2xx answer that is not what Lectern sends
	// KindStreamTruncated is an event stream that ended, or broke, before
	// its last event (done or error).
	KindStreamTruncated = "stream_truncated"
	// KindStreamError prefixes the code of an event stream that ended with
	// an error event: stream_error:SERVICE_UNAVAILABLE, for one. An error
	// event without a usable code is just stream_error.
	KindStreamError = "stream_error"
)

// DefaultMaxSamples is how many latencies each operation keeps for its
// percentiles unless Config.MaxSamples says otherwise.
const DefaultMaxSamples = 1_000_000

// Stats is what one operation did during a run.
type Stats struct {
	Op         string           // the operation's name, e.g. "ask"
	Count      int64            // requests finished, successful or not
	Errors     int64            // requests that failed
	ErrorKinds map[string]int64 // failures by kind: rate_limited, unauthorized, 4xx, 5xx, timeout, network, bad_response, stream_truncated, stream_error:<code>
	// Derived marks a row that counts no requests of its own but measures
	// part of another operation's: ask_stream_first_delta, whose Count is
	// the ask_stream streams that produced a delta and whose latencies are
	// the times to the first. It has no errors, and totals leave it out.
	Derived bool
	// ErrorExamples holds, per kind, what the first such failure was: a
	// status and error code (e.g. "503 SERVICE_UNAVAILABLE") or a
	// transport error. Never a response body.
	ErrorExamples map[string]string
	// Rate is Count per second of the run's elapsed time.
	Rate float64
	// The latency figures are of successful requests only. The percentiles
	// come from a uniform sample of at most Config.MaxSamples latencies
	// (all of them in shorter runs); Mean and Max are exact.
	Mean, P50, P95, P99, Max time.Duration
}

// opRecorder collects one operation's outcomes; it is safe for concurrent
// use.
type opRecorder struct {
	mu      sync.Mutex
	count   int64
	errors  int64
	kinds   map[string]int64
	example map[string]string // the first failure of each kind
	ok      int64             // successful requests, each offered to the sample
	sum     time.Duration
	max     time.Duration
	samples []time.Duration // a reservoir (Vitter's algorithm R) of at most cap latencies
	cap     int
	rng     *rand.Rand
}

func newOpRecorder(maxSamples int, seed uint64) *opRecorder {
	return &opRecorder{
		kinds:   map[string]int64{},
		example: map[string]string{},
		samples: make([]time.Duration, 0, min(maxSamples, 4096)),
		cap:     maxSamples,
		rng:     rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15)),
	}
}

// record adds one finished request: its latency and, if it failed, the kind
// of failure ("" for success) and a description of it.
func (r *opRecorder) record(latency time.Duration, kind, example string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.count++
	if kind != "" {
		r.errors++
		r.kinds[kind]++
		if _, ok := r.example[kind]; !ok {
			r.example[kind] = example
		}
		return
	}
	r.ok++
	r.sum += latency
	r.max = max(r.max, latency)
	if len(r.samples) < r.cap {
		r.samples = append(r.samples, latency)
	} else if j := r.rng.Int64N(r.ok); j < int64(r.cap) {
		r.samples[j] = latency
	}
}

// progress is the running totals a progress line needs.
type progress struct {
	count, errors, ok int64
	sum               time.Duration
}

func (r *opRecorder) progress() progress {
	r.mu.Lock()
	defer r.mu.Unlock()
	return progress{count: r.count, errors: r.errors, ok: r.ok, sum: r.sum}
}

// stats summarizes the operation over elapsed.
func (r *opRecorder) stats(op Op, elapsed time.Duration) Stats {
	r.mu.Lock()
	sorted := slices.Clone(r.samples)
	s := Stats{Op: op.String(), Derived: op.derived(), Count: r.count, Errors: r.errors, Max: r.max,
		ErrorKinds: maps.Clone(r.kinds), ErrorExamples: maps.Clone(r.example)}
	if r.ok > 0 {
		s.Mean = r.sum / time.Duration(r.ok)
	}
	r.mu.Unlock()
	if elapsed > 0 {
		s.Rate = float64(s.Count) / elapsed.Seconds()
	}
	slices.Sort(sorted)
	s.P50, s.P95, s.P99 = percentile(sorted, 50), percentile(sorted, 95), percentile(sorted, 99)
	return s
}

// percentile is the nearest-rank percentile p (0 < p <= 100) of sorted: the
// smallest value with at least p% of the values at or below it; 0 when
// there are none.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	return sorted[min(max(rank, 1), len(sorted))-1]
}
