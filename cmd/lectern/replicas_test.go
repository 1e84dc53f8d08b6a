//go:build linux

package main

// TestReplicas runs Lectern as docs/deploy.md's "Replicas behind a load
// balancer" describes it: three "lectern serve" processes (this test
// binary re-executed as lectern, see TestMain) on one PostgreSQL database,
// with the same LECTERN_SECRET and LECTERN_BASE_URL, behind a real HAProxy
// started from deploy/haproxy.cfg as it is, its addresses given in the
// environment variables the file reads. HAProxy is Debian's package; the
// test skips without it unless LECTERN_TEST_HAPROXY=require (as in CI).
//
//	go test -count=1 -run TestReplicas -v ./cmd/lectern/

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/lectern/lectern/internal/store/pgtest"
)

// haproxyConfig is the balancer's configuration, used as it is.
const haproxyConfig = "../../deploy/haproxy.cfg"

// haproxyPath finds HAProxy, or skips the test (fails it when
// LECTERN_TEST_HAPROXY=require).
func haproxyPath(t *testing.T) string {
	t.Helper()
	if testing.Short() && os.Getenv("LECTERN_TEST_HAPROXY") != "require" {
		t.Skip("-short leaves the replica tests out")
	}
	for _, p := range []string{"haproxy", "/usr/sbin/haproxy"} {
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
	}
	if os.Getenv("LECTERN_TEST_HAPROXY") == "require" {
		t.Fatal("LECTERN_TEST_HAPROXY=require but HAProxy is not installed (apt-get install haproxy)")
	}
	t.Skip("no HAProxy; set LECTERN_TEST_HAPROXY=require to make this a failure")
	return ""
}

// balancer is an HAProxy process in the foreground.
type balancer struct {
	cmd    *exec.Cmd
	base   string // http://127.0.0.1:port, the readers' URL
	socket string // the runtime API
	logs   *syncBuffer
	exited chan struct{}
}

// startBalancer starts HAProxy from deploy/haproxy.cfg in front of
// replicas (host:port each), and stops it, by its PID, when the test ends.
// It does not wait for the replicas to be up.
func startBalancer(t *testing.T, bin, addr string, replicas []string) *balancer {
	t.Helper()
	b := &balancer{base: "http://" + addr, socket: filepath.Join(t.TempDir(), "admin.sock"),
		logs: &syncBuffer{}, exited: make(chan struct{})}
	env := []string{
		"LECTERN_LB_BIND=" + addr,
		"LECTERN_LB_STATS_BIND=" + freeAddr(t),
		"LECTERN_LB_ADMIN_SOCKET=" + b.socket,
	}
	for i, r := range replicas {
		env = append(env, fmt.Sprintf("LECTERN_REPLICA_%d=%s", i+1, r))
	}
	env = append(os.Environ(), env...)
	check := exec.Command(bin, "-c", "-f", haproxyConfig)
	check.Env = env
	if out, err := check.CombinedOutput(); err != nil {
		t.Fatalf("haproxy -c -f %s: %v\n%s", haproxyConfig, err, out)
	}
	b.cmd = exec.Command(bin, "-db", "-f", haproxyConfig)
	b.cmd.Env = env
	b.cmd.Stdout, b.cmd.Stderr = b.logs, b.logs
	b.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := b.cmd.Start(); err != nil {
		t.Fatalf("haproxy: %v", err)
	}
	go func() { b.cmd.Wait(); close(b.exited) }()
	t.Cleanup(func() {
		b.cmd.Process.Kill()
		<-b.exited
		if t.Failed() {
			t.Logf("haproxy (pid %d) log, last 6 KiB:\n%s", b.cmd.Process.Pid, tailOf(b.logs.String(), 6<<10))
		}
	})
	return b
}

// states asks the runtime API for the state of each replica: UP, DOWN,
// "UP 1/2" (failing its checks), "DOWN 1/2" (passing them), MAINT.
func (b *balancer) states() (map[string]string, error) {
	conn, err := net.DialTimeout("unix", b.socket, 2*time.Second)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := conn.Write([]byte("show stat\n")); err != nil {
		return nil, err
	}
	sc := bufio.NewScanner(conn)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	var cols []string
	out := map[string]string{}
	for sc.Scan() {
		line := sc.Text()
		if h, ok := strings.CutPrefix(line, "# "); ok {
			cols = strings.Split(h, ",")
			continue
		}
		f := strings.Split(line, ",")
		if len(cols) == 0 || len(f) < len(cols) || f[0] != "lectern" || f[1] == "BACKEND" {
			continue
		}
		out[f[1]] = f[slices.Index(cols, "status")]
	}
	if len(cols) == 0 {
		return nil, fmt.Errorf("show stat: no header (%v)", sc.Err())
	}
	return out, nil
}

// unusual returns the lines of the balancer's log that are not a request
// answered 200: its notices, the replicas' changes of state, errors.
func (b *balancer) unusual() string {
	var out []string
	for l := range strings.Lines(b.logs.String()) {
		if f := strings.Fields(l); len(f) > 5 && f[5] == "200" && strings.Contains(f[3], "/") {
			continue
		}
		out = append(out, strings.TrimRight(l, "\n"))
	}
	return strings.Join(out, "\n")
}

// waitState waits until HAProxy reports server (lectern1, …) in state.
func (b *balancer) waitState(t *testing.T, server, state string, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		st, err := b.states()
		if err == nil && st[server] == state {
			return
		}
		select {
		case <-b.exited:
			t.Fatalf("haproxy exited:\n%s", tailOf(b.logs.String(), 4<<10))
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("haproxy does not report %s %s within %v: %v %v", server, state, within, st, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// fromAddr sends every request as if from addr: the test client sits on
// 127.0.0.1, which the replicas trust as a proxy (so do they HAProxy), so
// an X-Forwarded-For it sends is believed, as a front proxy's would be,
// and HAProxy appends its own after it.
type fromAddr struct {
	rt   http.RoundTripper
	addr func() string
}

func (f fromAddr) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("X-Forwarded-For", f.addr())
	return f.rt.RoundTrip(r)
}

// forwardedFor is c sending its requests from the address addr returns.
func forwardedFor(c *http.Client, addr func() string) *http.Client {
	return &http.Client{Timeout: c.Timeout, Transport: fromAddr{rt: c.Transport, addr: addr}}
}

func fixedAddr(a string) func() string { return func() string { return a } }

// replicaSet is the three replicas and their balancer.
type replicaSet struct {
	env   map[string]string // every replica's settings, but its address and data directory
	addrs []string
	procs []*lecternProc
	lb    *balancer
}

func (rs *replicaSet) name(i int) string { return fmt.Sprintf("lectern%d", i+1) }

// start starts replica i (again) with rs.env and more, and waits until the
// balancer has it up. The process belongs to t: it is killed when t ends.
func (rs *replicaSet) start(t *testing.T, i int, more map[string]string) {
	t.Helper()
	env := map[string]string{"LECTERN_ADDR": rs.addrs[i], "LECTERN_DATA_DIR": t.TempDir()}
	for k, v := range rs.env {
		env[k] = v
	}
	for k, v := range more {
		env[k] = v
	}
	rs.procs[i] = startProc(t, rs.name(i), "serve", env)
	rs.lb.waitState(t, rs.name(i), "UP", 60*time.Second)
}

// ensure starts again, for t, every replica that is not running (a
// subtest's replicas end with it).
func (rs *replicaSet) ensure(t *testing.T) {
	t.Helper()
	for i, p := range rs.procs {
		if p == nil || !p.running() {
			rs.start(t, i, nil)
		}
	}
}

// stop sends replica i SIGTERM and checks that it exits cleanly.
func (rs *replicaSet) stop(t *testing.T, i int, within time.Duration) {
	t.Helper()
	p := rs.procs[i]
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(within):
		t.Fatalf("%s did not exit within %v of SIGTERM", p.name, within)
	}
	if p.state.ExitCode() != 0 {
		t.Errorf("%s exited with %v after SIGTERM, want status 0", p.name, p.state)
	}
}

// servedBy returns the replica whose log holds the request id, or "".
func (rs *replicaSet) servedBy(id string) string {
	for i, p := range rs.procs {
		if id != "" && p != nil && strings.Contains(p.logs.String(), id) {
			return rs.name(i)
		}
	}
	return ""
}

func TestReplicas(t *testing.T) {
	bin := haproxyPath(t)
	db := pgtest.NewDatabase(t)
	lbAddr := freeAddr(t)
	rs := &replicaSet{addrs: []string{freeAddr(t), freeAddr(t), freeAddr(t)}, procs: make([]*lecternProc, 3)}
	rs.env = map[string]string{
		"LECTERN_ENV":          "production",
		"LECTERN_SECRET":       strings.Repeat("r", 40),
		"LECTERN_DATABASE_URL": db,
		"LECTERN_BASE_URL":     "http://" + lbAddr,
		// The balancer and the test's client: both on loopback.
		"LECTERN_TRUSTED_PROXIES": "127.0.0.1",
		// The sign-in limit keeps its default (3 in 10s per address); the
		// readers of the load ask more questions than a reader may.
		"LECTERN_CHAT_RATE_LIMIT":   "off",
		"LECTERN_CHAT_DAILY_BUDGET": "off",
		"LECTERN_SHUTDOWN_TIMEOUT":  "10s",
	}
	rs.lb = startBalancer(t, bin, lbAddr, rs.addrs)
	// One after the other, as a deployment's first start: the first
	// migrates the database and ingests the book.
	for i := range rs.procs {
		rs.start(t, i, nil)
	}
	c := faultClient(t)
	// Shorter than HAProxy's keep-alive timeout for idle readers (10s), so
	// that the client never sends on a connection the balancer is closing.
	c.Transport.(*http.Transport).IdleConnTimeout = 5 * time.Second

	t.Run("shared sign-in limit", func(t *testing.T) {
		rs.ensure(t)
		codes := wrongSignIns(t, c, rs.lb.base, "203.0.113.10", "203.0.113.11")
		if want := []int{401, 401, 401, 429}; !slices.Equal(codes, want) {
			t.Errorf("four wrong passwords from one address through the balancer answered %v, want %v: "+
				"the sign-in limit (3 in 10s) must hold whichever replica counts (shared limits, on by default with PostgreSQL)", codes, want)
		}
	})

	t.Run("a conversation continues whichever replica answers", func(t *testing.T) {
		rs.ensure(t)
		rc := forwardedFor(c, fixedAddr("203.0.113.20"))
		r := faultSignUp(t, rc, rs.lb.base, newEmail("replicas"))
		const turns = 6
		session := ""
		var answers []faultRunAnswer
		served := map[string]int{}
		for i := range turns {
			q := fmt.Sprintf(faultQuestion+" [turn %d]", i)
			res := doHTTP(rc, "POST", rs.lb.base+"/api/agents/run", r.token, faultRunBody(q, session))
			var a faultRunAnswer
			if res.status != 200 || json.Unmarshal(res.body, &a) != nil || a.SessionID == "" || a.MessageID == "" {
				t.Fatalf("turn %d: %s", i, res)
			}
			if session != "" && a.SessionID != session {
				t.Fatalf("turn %d was answered in conversation %s, want %s", i, a.SessionID, session)
			}
			session = a.SessionID
			answers = append(answers, a)
			served[rs.servedBy(res.header.Get("X-Request-Id"))]++
		}
		res := doHTTP(rc, "GET", rs.lb.base+"/api/conversations/"+session+"/messages", r.token, "")
		var m struct {
			Messages []struct{ ID, Role, Content string }
		}
		if res.status != 200 || json.Unmarshal(res.body, &m) != nil {
			t.Fatalf("messages: %s", res)
		}
		if len(m.Messages) != 2*turns {
			t.Errorf("the conversation holds %d messages, want %d", len(m.Messages), 2*turns)
		}
		for i, a := range answers {
			j := slices.IndexFunc(m.Messages, func(x struct{ ID, Role, Content string }) bool { return x.ID == a.MessageID })
			switch {
			case j < 1:
				t.Errorf("answer %d (%s) is not in the conversation after its question", i, a.MessageID)
			case m.Messages[j].Role != "assistant" || m.Messages[j].Content != a.Message:
				t.Errorf("answer %d is stored as %+v", i, m.Messages[j])
			case !strings.Contains(m.Messages[j-1].Content, fmt.Sprintf("[turn %d]", i)):
				t.Errorf("answer %d follows %q", i, m.Messages[j-1].Content)
			}
		}
		delete(served, "")
		if len(served) < 2 {
			t.Errorf("the %d answers were served by %v (from the replicas' logs by X-Request-Id), want more than one replica", turns, served)
		}
		t.Logf("REPLICAS-SUMMARY conversation: %d turns answered by %v", turns, served)
	})

	t.Run("kill -9 under load", func(t *testing.T) {
		rs.ensure(t)
		const workers = 4
		l := startLoad(t, c, rs.lb.base, workers, 1)
		l.waitOK(t, 40)
		victim := 1
		rs.procs[victim].kill() // SIGKILL, by its PID
		killedAt := l.done()
		rs.lb.waitState(t, rs.name(victim), "DOWN", 30*time.Second)
		l.phase.Store(1) // requests started from now on: the balancer knows
		downAt := l.done()
		l.waitOK(t, downAt+40)
		failed, after := l.stop()
		if len(failed) > workers {
			t.Errorf("%d requests failed around the kill, more than the %d that could have been on the killed replica:\n%s", len(failed), workers, strings.Join(failed, "\n"))
		}
		if len(after) > 0 {
			t.Errorf("%d requests failed after the balancer marked the killed replica down:\n%s", len(after), strings.Join(after, "\n"))
		}
		t.Logf("REPLICAS-SUMMARY kill -9: %d requests (%d before the kill, %d before the balancer marked it down), %d failed: %v",
			l.done(), killedAt, downAt, len(failed)+len(after), slices.Concat(failed, after))
		if testing.Verbose() {
			t.Logf("the balancer's log of the kill:\n%s", rs.lb.unusual())
		}
	})

	t.Run("rolling restart under load fails no request", func(t *testing.T) {
		rs.ensure(t)
		l := startLoad(t, c, rs.lb.base, 4, 2)
		l.waitOK(t, 20)
		for i := range rs.procs {
			rs.stop(t, i, 30*time.Second)
			rs.start(t, i, nil)
			l.waitOK(t, l.done()+20)
		}
		failed, after := l.stop()
		failed = append(failed, after...)
		if len(failed) > 0 {
			t.Errorf("%d of %d requests failed during the rolling restart:\n%s", len(failed), l.done(), strings.Join(failed, "\n"))
		}
		t.Logf("REPLICAS-SUMMARY rolling restart: %d requests, %d failed", l.done(), len(failed))
	})

	t.Run("per-process sign-in limits are detected", func(t *testing.T) {
		// Without shared limits each replica counts on its own: through
		// a round robin of three, the fourth attempt meets a replica that
		// has counted one, and gets through. This shows the shared-limit
		// subtest can tell the difference.
		var wg sync.WaitGroup
		for _, p := range rs.procs {
			if p != nil && p.running() {
				p.cmd.Process.Signal(syscall.SIGTERM)
				wg.Go(func() { <-p.exited })
			}
		}
		wg.Wait()
		for i := range rs.procs {
			rs.start(t, i, map[string]string{"LECTERN_SHARED_LIMITS": "off"})
		}
		codes := wrongSignIns(t, c, rs.lb.base, "203.0.113.30", "203.0.113.31")
		if want := []int{401, 401, 401, 401}; !slices.Equal(codes, want) {
			t.Errorf("with LECTERN_SHARED_LIMITS=off, four wrong passwords through the balancer answered %v, want %v", codes, want)
		}
	})
}

// wrongSignIns makes an account from signUpAddr (its sign-up counted
// apart), then tries four wrong passwords for it from addr through the
// balancer, and returns their statuses.
func wrongSignIns(t *testing.T, c *http.Client, base, addr, signUpAddr string) []int {
	t.Helper()
	email := newEmail("limit")
	faultSignUp(t, forwardedFor(c, fixedAddr(signUpAddr)), base, email)
	from := forwardedFor(c, fixedAddr(addr))
	var codes []int
	for i := range 4 {
		res := doHTTP(from, "POST", base+"/api/auth/sign-in/email", "", `{"email":"`+email+`","password":"not the password, try `+strconv.Itoa(i)+`"}`)
		if res.err != nil {
			t.Fatalf("sign-in %d: %s", i+1, res)
		}
		codes = append(codes, res.status)
	}
	return codes
}

// load is a few readers, each in a loop: its session, its conversations,
// a question (every third starts a new conversation). Their requests run
// through the balancer; each failure is kept with the phase it started in.
type load struct {
	stopped atomic.Bool
	phase   atomic.Int32
	count   atomic.Int64
	mu      sync.Mutex
	failed  []string // started in phase 0
	after   []string // started in a later phase
	wg      sync.WaitGroup
}

// loadLimit bounds a load's requests, whatever happens.
const (
	loadMaxPerWorker = 3000
	loadMaxTime      = 2 * time.Minute
)

// startLoad signs workers readers up and starts them. Their addresses
// (X-Forwarded-For) change at every round, as many readers' would: the
// identity service's per-address limits are not under test.
func startLoad(t *testing.T, c *http.Client, base string, workers, id int) *load {
	t.Helper()
	l := &load{}
	readers := make([]faultReader, workers)
	for w := range workers {
		readers[w] = faultSignUp(t, forwardedFor(c, fixedAddr(fmt.Sprintf("198.18.%d.%d", id, w+1))), base, newEmail(fmt.Sprintf("load%d", id)))
	}
	deadline := time.Now().Add(loadMaxTime)
	for w, r := range readers {
		var round atomic.Int64
		wc := forwardedFor(c, func() string { return fmt.Sprintf("198.19.%d.%d", id*16+w, round.Load()%250+1) })
		l.wg.Go(func() {
			session := ""
			for n := 0; n < loadMaxPerWorker && !l.stopped.Load() && time.Now().Before(deadline); n++ {
				round.Store(int64(n))
				l.record(fmt.Sprintf("reader %d get-session", w), func() httpResult {
					return r.withSession(wc, "GET", base+"/api/auth/get-session")
				})
				l.record(fmt.Sprintf("reader %d conversations", w), func() httpResult {
					return doHTTP(wc, "GET", base+"/api/conversations?limit=5", r.token, "")
				})
				if n%3 == 0 {
					session = ""
				}
				res := l.record(fmt.Sprintf("reader %d question", w), func() httpResult {
					return doHTTP(wc, "POST", base+"/api/agents/run", r.token, faultRunBody(fmt.Sprintf(faultQuestion+" [load %d %d]", w, n), session))
				})
				var a faultRunAnswer
				if res.status == 200 && json.Unmarshal(res.body, &a) == nil {
					session = a.SessionID
				}
			}
		})
	}
	t.Cleanup(func() { l.stopped.Store(true); l.wg.Wait() })
	return l
}

func (l *load) record(what string, do func() httpResult) httpResult {
	p := l.phase.Load()
	res := do()
	l.count.Add(1)
	if res.status != 200 || res.err != nil {
		l.mu.Lock()
		msg := what + ": " + res.String()
		if p == 0 {
			l.failed = append(l.failed, msg)
		} else {
			l.after = append(l.after, msg)
		}
		l.mu.Unlock()
	}
	return res
}

// done is the number of requests answered so far, failed or not.
func (l *load) done() int64 { return l.count.Load() }

// waitOK waits until n requests in all have been answered.
func (l *load) waitOK(t *testing.T, n int64) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for l.done() < n {
		if time.Now().After(deadline) || l.stopped.Load() {
			t.Fatalf("the load made %d requests, not %d, within 60s", l.done(), n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// stop ends the load and returns its failures, by the phase they started in.
func (l *load) stop() (failed, after []string) {
	l.stopped.Store(true)
	l.wg.Wait()
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.failed), slices.Clone(l.after)
}
