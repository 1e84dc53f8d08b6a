package main

// End-to-end tests of the reader in headless Chromium: a real "lectern serve"
// started through run, a real browser driven over the DevTools protocol,
// and the front-end's DOM contract (ids and classes the scripts and these
// tests agree on) exercised as a reader would: typing, clicking, selecting.
//
// Without Chromium the tests skip, unless LECTERN_TEST_BROWSER=require (as
// in CI), where they fail instead. LECTERN_SCREENSHOTS=dir saves the
// screenshots there (docs/screenshots when run by a person); without it
// they go to a temporary directory, so the code path still runs.

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// stepTimeout bounds every browser step, so that a broken front-end fails a
// test quickly instead of hanging it.
const stepTimeout = 20 * time.Second

// The demo book's page the tests read, and a question its text answers.
const (
	docPath  = "/docs/foundations/leap-seconds"
	question = "Why do leap seconds exist?"
)

// chromiumPath finds the browser, or skips the test (fails it when
// LECTERN_TEST_BROWSER=require). The tests never download one.
func chromiumPath(t *testing.T) string {
	t.Helper()
	if testing.Short() && os.Getenv("LECTERN_TEST_BROWSER") != "require" {
		t.Skip("-short leaves the browser tests out")
	}
	candidates := []string{os.Getenv("LECTERN_CHROMIUM"), "/usr/lib/chromium/chromium"}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			candidates = append(candidates, p)
		}
	}
	for _, p := range candidates {
		if fi, err := os.Stat(p); p != "" && err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			return p
		}
	}
	if os.Getenv("LECTERN_TEST_BROWSER") == "require" {
		t.Fatal("LECTERN_TEST_BROWSER=require but no Chromium was found (install it with apt-get install chromium)")
	}
	t.Skip("no Chromium found; set LECTERN_TEST_BROWSER=require to make this a failure")
	return ""
}

// newBrowser starts headless Chromium with a fresh profile and returns its
// context; tabs are opened from it with newTab.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 800),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	bctx, cancelBrowser := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelBrowser(); cancelAlloc() })
	if err := chromedp.Do(bctx); err != nil { // starts the browser, with no timeout
		t.Fatalf("start Chromium: %v", err)
	}
	return bctx
}

// tab is one reader: a tab in a browser context of its own (its own cookies
// and storage), with the console messages it has seen.
type tab struct {
	ctx  context.Context
	mu   sync.Mutex
	logs []chromedp.ConsoleMessage
}

// newTab opens a tab in a new browser context, closed when t ends.
func newTab(t *testing.T, browser context.Context) *tab {
	t.Helper()
	ctx, cancel := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 800)); err != nil {
		t.Fatalf("open a tab: %v", err)
	}
	if _, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: shadowQueries}); err != nil {
		t.Fatalf("open a tab: %v", err)
	}
	b := &tab{ctx: ctx}
	msgs := chromedp.Console(ctx)
	go func() {
		for m, err := range msgs {
			if err != nil {
				return
			}
			b.mu.Lock()
			b.logs = append(b.logs, m)
			b.mu.Unlock()
		}
	}()
	return b
}

// mark returns the position in the console log, for errorsSince.
func (b *tab) mark() int { b.mu.Lock(); defer b.mu.Unlock(); return len(b.logs) }

// errorsSince returns the console errors and uncaught exceptions logged
// since mark.
func (b *tab) errorsSince(mark int) []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []string
	for _, m := range b.logs[mark:] {
		if m.Type == chromedp.ConsoleError || m.IsException() {
			where := m.URL
			if where != "" {
				where = fmt.Sprintf(" (%s:%d)", where, m.Line+1)
			}
			out = append(out, fmt.Sprintf("%s: %s%s", m.Type, m.Text, where))
		}
	}
	return out
}

// state describes where the tab is, for failure messages.
func (b *tab) state() string {
	ctx, cancel := context.WithTimeout(b.ctx, 3*time.Second)
	defer cancel()
	loc, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`location.href`))
	var s strings.Builder
	fmt.Fprintf(&s, "  at %s", loc)
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, m := range b.logs[max(0, len(b.logs)-8):] {
		fmt.Fprintf(&s, "\n  console %s", m)
	}
	return s.String()
}

// do runs actions with the step timeout, failing the test with what it was
// doing.
func (b *tab) do(t *testing.T, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatalf("%s: %v\n%s", what, err, b.state())
	}
}

// eval evaluates a JavaScript expression (awaiting a promise) and decodes
// its value.
func eval[T any](t *testing.T, b *tab, what, expr string) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("%s: %v\n%s", what, err, b.state())
	}
	return v
}

// waitFor evaluates expr until it is truthy and returns its value. It
// survives navigations, unlike a poll inside the page.
func waitFor[T any](t *testing.T, b *tab, what, expr string) T {
	t.Helper()
	v, err := tryWait[T](b, expr, stepTimeout)
	if err != nil {
		t.Fatalf("waiting until %s: %v\n%s", what, err, b.state())
	}
	return v
}

func tryWait[T any](b *tab, expr string, timeout time.Duration) (T, error) {
	var zero T
	deadline := time.Now().Add(timeout)
	var last error
	for {
		ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
		raw, err := chromedp.Run(ctx, chromedp.Evaluate[[]byte](expr, chromedp.EvalAwaitPromise))
		cancel()
		if err == nil && truthy(raw) {
			if r, ok := any(&zero).(*[]byte); ok {
				*r = raw
				return zero, nil
			}
			var v T
			if err := json.Unmarshal(raw, &v); err != nil {
				return zero, err
			}
			return v, nil
		}
		if err != nil {
			last = err
		}
		if b.ctx.Err() != nil {
			return zero, b.ctx.Err()
		}
		if time.Now().After(deadline) {
			if last != nil {
				return zero, fmt.Errorf("timed out after %v (last error: %v)", timeout, last)
			}
			return zero, fmt.Errorf("timed out after %v", timeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func truthy(raw []byte) bool {
	switch strings.TrimSpace(string(raw)) {
	case "", "null", "false", "0", `""`:
		return false
	}
	return true
}

// js quotes s as a JavaScript string literal.
func js(s string) string { b, _ := json.Marshal(s); return string(b) }

// shadowQueries defines, in every page, queries that find an element in
// the document or else in the widget's shadow root, where the assistant
// lives on another site; and __inflight, the page's requests not yet
// settled.
const shadowQueries = `
window.__lq = s => document.querySelector(s) || document.querySelector('lectern-widget')?.shadowRoot?.querySelector(s) || null;
window.__lqa = s => [...document.querySelectorAll(s), ...(document.querySelector('lectern-widget')?.shadowRoot?.querySelectorAll(s) || [])];
window.__inflight = 0;
(() => { const f = window.fetch; window.fetch = (...a) => { window.__inflight++; return f(...a).finally(() => { window.__inflight--; }); }; })();
`

// Page-side helpers, prepended to expressions that need them.
const jsHelpers = `
const $ = s => __lq(s);
const visible = el => { if (!el || !el.isConnected || el.closest('[hidden]')) return false;
  const st = getComputedStyle(el); if (st.display === 'none' || st.visibility === 'hidden') return false;
  return el.getClientRects().length > 0; };
`

// in wraps a body of statements with the helpers into an expression.
func in(body string) string { return "(() => {" + jsHelpers + body + "})()" }

// visibleExpr is an expression true when the selector's element is visible.
func visibleExpr(sel string) string { return in("return visible($(" + js(sel) + "));") }

// waitVisible waits until the element is shown.
func (b *tab) waitVisible(t *testing.T, what, sel string) {
	t.Helper()
	waitFor[bool](t, b, what+" ("+sel+" visible)", visibleExpr(sel))
}

// waitGone waits until the element is absent or hidden.
func (b *tab) waitGone(t *testing.T, what, sel string) {
	t.Helper()
	waitFor[bool](t, b, what+" ("+sel+" hidden or absent)", in("return !visible($("+js(sel)+"));"))
}

func (b *tab) navigate(t *testing.T, url string) {
	t.Helper()
	b.do(t, "open "+url, chromedp.Navigate(url))
}

// click clicks the first visible match of a CSS selector with the mouse.
func (b *tab) click(t *testing.T, what, sel string) {
	t.Helper()
	b.waitVisible(t, what, sel)
	waitFor[bool](t, b, what+" ("+sel+" enabled)", in("const el = $("+js(sel)+"); return !!el && !el.disabled;"))
	// The element's own click, as a user's activation does: a mouse event
	// at coordinates measured a moment earlier misses when the page moves
	// in between (a list above it that has just loaded), and on a busy
	// machine that happened.
	eval[bool](t, b, what+" (click "+sel+")", in("const el = $("+js(sel)+"); el.scrollIntoView({block: 'center'}); el.focus(); el.click(); return true;"))
}

// fill types value into an input, replacing what it held.
func (b *tab) fill(t *testing.T, sel, value string) {
	t.Helper()
	b.waitVisible(t, "the field is shown", sel)
	eval[bool](t, b, "empty "+sel, `(() => { const el = __lq(`+js(sel)+`); el.focus(); el.select?.(); el.value = '';
		el.dispatchEvent(new Event('input', {bubbles: true})); return true; })()`)
	b.do(t, "type into "+sel, chromedp.SendKeys(chromedp.JSPath("__lq("+js(sel)+")"), value))
}

// submit submits a form with its submit button, as a click would.
func (b *tab) submit(t *testing.T, form string) {
	t.Helper()
	b.click(t, "submit "+form, form+` button:not([type=button]):not([type=reset]), `+form+` input[type=submit]`)
}

// waitSignedIn waits for the header of a signed-in reader: the account
// link and the sign-out button.
func (b *tab) waitSignedIn(t *testing.T, what string) {
	t.Helper()
	b.waitVisible(t, what+": the header shows the account link", "a#nav-account")
	b.waitVisible(t, what+": the header shows the sign-out button", "button#nav-signout")
}

// waitGuest waits for the header of a guest: the sign-in link, no account
// link. The server renders the guest's header for everyone and the script
// swaps it once the session is known, so the header counts only after the
// page's session request has finished, and must stay so a moment later.
func (b *tab) waitGuest(t *testing.T, what string) {
	t.Helper()
	guest := in(`return performance.getEntriesByType('resource').some(r => r.name.includes('/api/auth/get-session') && r.responseEnd > 0) &&
		visible($('a#nav-login')) && !visible($('a#nav-account'));`)
	waitFor[bool](t, b, what+": the header shows the sign-in link and no account link once the session is known", guest)
	time.Sleep(200 * time.Millisecond)
	if !eval[bool](t, b, "look at the header again", guest) {
		t.Errorf("%s: the header turned to a signed-in reader's\n%s", what, b.state())
	}
}

// signUpByAPI creates an account named "Reader" from inside the page (same
// origin, so the browser keeps the session cookie) without going through
// the form.
func (b *tab) signUpByAPI(t *testing.T, base, email, password string) {
	t.Helper()
	b.signUpAs(t, base, "Reader", email, password)
}

// signUpAs is signUpByAPI with a name.
func (b *tab) signUpAs(t *testing.T, base, name, email, password string) {
	t.Helper()
	b.navigate(t, base+"/")
	status := eval[int](t, b, "sign up by the API", `fetch('/api/auth/sign-up/email', {method: 'POST', credentials: 'include',
		headers: {'Content-Type': 'application/json'},
		body: JSON.stringify({name: `+js(name)+`, email: `+js(email)+`, password: `+js(password)+`})}).then(r => r.status)`)
	if status != 200 {
		t.Fatalf("sign-up of %s answered %d", email, status)
	}
}

// signInByAPI signs in from inside the page, as signUpByAPI signs up.
func (b *tab) signInByAPI(t *testing.T, base, email, password string) {
	t.Helper()
	b.navigate(t, base+"/")
	status := eval[int](t, b, "sign in by the API", `fetch('/api/auth/sign-in/email', {method: 'POST', credentials: 'include',
		headers: {'Content-Type': 'application/json'},
		body: JSON.stringify({email: `+js(email)+`, password: `+js(password)+`})}).then(r => r.status)`)
	if status != 200 {
		t.Fatalf("sign-in of %s answered %d", email, status)
	}
}

// failNext makes the browser answer the next request whose URL matches
// pattern with status and a JSON error body, as a failing server would,
// and lets later requests through.
func (b *tab) failNext(t *testing.T, pattern string, status int64, body string) {
	t.Helper()
	ctx, cancel := context.WithCancel(b.ctx)
	t.Cleanup(cancel)
	paused := chromedp.Events(ctx, fetch.RequestPaused)
	if _, err := chromedp.Call(ctx, fetch.Enable, fetch.EnableParams{Patterns: []*fetch.RequestPattern{{URLPattern: pattern}}}); err != nil {
		t.Fatalf("intercept %s: %v", pattern, err)
	}
	go func() {
		for ev, err := range paused {
			if err != nil {
				return
			}
			chromedp.Call(ctx, fetch.FulfillRequest, fetch.FulfillRequestParams{RequestID: ev.RequestID, ResponseCode: status,
				ResponseHeaders: []*fetch.HeaderEntry{{Name: "Content-Type", Value: "application/json"}, {Name: "Retry-After", Value: "5"}},
				Body:            []byte(body)})
			chromedp.Call(ctx, fetch.Disable, cdp.Empty{})
			return
		}
	}()
}

// apiGet calls the API from inside the page as the signed-in reader: a JWT
// from the identity service, then the request with it as bearer.
func (b *tab) apiGet(t *testing.T, path string) (int, string) {
	t.Helper()
	var r struct {
		Status int
		Body   string
	}
	raw := eval[[]byte](t, b, "GET "+path, `(async () => {
		const tok = await fetch('/api/auth/token', {credentials: 'include'}).then(r => r.json());
		const r = await fetch(`+js(path)+`, {headers: {Authorization: 'Bearer ' + tok.token}});
		return {status: r.status, body: await r.text()};
	})()`)
	json.Unmarshal(raw, &r)
	return r.Status, r.Body
}

// openPanel opens the chat panel unless it is open.
func (b *tab) openPanel(t *testing.T) {
	t.Helper()
	b.waitVisible(t, "the chat toggle is shown", "button#chat-toggle")
	if eval[string](t, b, "read aria-expanded", `__lq('#chat-toggle').getAttribute('aria-expanded') || ''`) != "true" {
		b.click(t, "open the chat panel", "button#chat-toggle")
	}
	b.waitVisible(t, "the chat panel opens", "aside#chat-panel")
	waitFor[bool](t, b, "the toggle reports the panel expanded", `__lq('#chat-toggle').getAttribute('aria-expanded') === 'true'`)
}

// chatAnswer is an assistant message as the panel shows it.
type chatAnswer struct {
	ID         string
	Body       string
	Sources    []string
	Error      string
	Count      int
	SawTyping  bool
	HasButtons map[string]bool
}

// watchTyping records whether a .typing indicator shows up from now on.
func (b *tab) watchTyping(t *testing.T) {
	t.Helper()
	eval[bool](t, b, "watch for the typing indicator", `(() => { window.__sawTyping = false;
		const o = new MutationObserver(() => { if (__lq('.typing')) window.__sawTyping = true; });
		o.observe(document.documentElement, {subtree: true, childList: true, attributes: true}); return true; })()`)
}

// assistantCount is the number of assistant messages in the panel.
func (b *tab) assistantCount(t *testing.T) int {
	t.Helper()
	return eval[int](t, b, "count the answers", `__lqa('#chat-messages .message.assistant').length`)
}

// waitAnswer waits for an assistant message after the first n to be
// complete (it has its data-id and nothing is typing) or for an error.
func (b *tab) waitAnswer(t *testing.T, what string, n int) chatAnswer {
	t.Helper()
	a := waitFor[chatAnswer](t, b, what, `(() => {
		const err = __lq('#chat-messages .message-error');
		const all = __lqa('#chat-messages .message.assistant');
		if (err) return {Error: err.textContent.trim() || 'a .message-error', Count: all.length};
		if (all.length <= `+fmt.Sprint(n)+` || __lq('#chat-panel .typing')) return null;
		const m = all[all.length - 1];
		if (!m.dataset.id) return null;
		const body = m.querySelector('.message-body');
		const buttons = {};
		for (const c of ['rate-up', 'rate-down', 'copy']) buttons[c] = !!m.querySelector('button.' + c);
		return {ID: m.dataset.id, Body: body ? body.textContent : '', Count: all.length, SawTyping: !!window.__sawTyping,
			Sources: [...m.querySelectorAll('ol.sources li a[href]')].map(a => a.href), HasButtons: buttons};
	})()`)
	if a.Error != "" {
		t.Fatalf("%s: the panel shows an error instead: %s\n%s", what, a.Error, b.state())
	}
	return a
}

// send types a question into the open panel and presses Enter.
func (b *tab) send(t *testing.T, q string) {
	t.Helper()
	b.waitVisible(t, "the chat input is shown", "textarea#chat-input")
	b.do(t, "type the question and press Enter", chromedp.SendKeys(chromedp.JSPath(`__lq("textarea#chat-input")`), q+kb.Enter))
	waitFor[bool](t, b, "the question shows as the reader's message",
		`[...__lqa('#chat-messages .message.user')].some(m => m.textContent.includes(`+js(q)+`))`)
}

// recordSent starts recording the bodies of the requests the page's
// scripts send, for sent.
func (b *tab) recordSent(t *testing.T) {
	t.Helper()
	eval[bool](t, b, "record what the page sends", `(() => { window.__sent = []; const f = window.fetch;
		window.fetch = (u, o) => { if (o && typeof o.body === 'string') window.__sent.push(o.body); return f(u, o); }; return true; })()`)
}

// sent is what the page's scripts sent since recordSent, a body a line.
func (b *tab) sent(t *testing.T) string {
	t.Helper()
	return strings.Join(eval[[]string](t, b, "read what was sent", `window.__sent`), "\n")
}

// selectText selects the text of the first element the selector finds in
// the page's document, as a reader's drag would.
func (b *tab) selectText(t *testing.T, sel string) {
	t.Helper()
	eval[bool](t, b, "select "+sel, `(() => { const p = document.querySelector(`+js(sel)+`), r = document.createRange();
		r.selectNodeContents(p); getSelection().removeAllRanges(); getSelection().addRange(r); return true; })()`)
}

// signUpThroughGate follows the panel's sign-up link and signs up on
// Lectern's form, as a guest of a site with the widget does.
func (b *tab) signUpThroughGate(t *testing.T, name, email string) {
	t.Helper()
	b.openPanel(t)
	b.click(t, "the gate's sign-up link", "a#chat-signup")
	b.waitVisible(t, "Lectern's sign-up form", "form#signup-form")
	b.fill(t, "#signup-name", name)
	b.fill(t, "#signup-email", email)
	b.fill(t, "#signup-password", browserPassword)
	b.submit(t, "#signup-form")
}

// ask types a question into the panel, sends it with Enter and waits for
// the answer.
func (b *tab) ask(t *testing.T, q string) chatAnswer {
	t.Helper()
	b.openPanel(t)
	b.waitVisible(t, "the chat input is shown", "textarea#chat-input")
	n := b.assistantCount(t)
	b.watchTyping(t)
	b.send(t, q)
	return b.waitAnswer(t, "the answer to "+js(q)+" arrives", n)
}

// selectParagraph selects the first plain paragraph of prose in the page's
// article as a reader would with the mouse (a Range over its text, then
// mouseup), waits for the selection menu, and returns the paragraph's
// text. The menu's script may still be loading just after the page is: a
// reader whose selection showed no menu selects again, and so does this.
func (b *tab) selectParagraph(t *testing.T) string {
	t.Helper()
	b.waitVisible(t, "the page's scripts ran", "button#chat-toggle")
	deadline := time.Now().Add(stepTimeout)
	for {
		text := eval[string](t, b, "select a paragraph", selectJS)
		if text == "" {
			t.Fatalf("no plain paragraph of prose in article.doc to select\n%s", b.state())
		}
		_, err := tryWait[bool](b, visibleExpr("div#selection-menu"), time.Second)
		if err == nil {
			return text
		}
		if time.Now().After(deadline) {
			t.Fatalf("waiting until the selection menu appears (div#selection-menu visible): %v\n%s", err, b.state())
		}
		eval[bool](t, b, "clear the selection", `(getSelection().removeAllRanges(), true)`)
	}
}

const selectJS = `(() => {
	const p = [...__lqa('article.doc p')].find(p =>
		p.childNodes.length === 1 && p.firstChild.nodeType === Node.TEXT_NODE &&
		p.textContent.length > 150 && /[.!?]\s+\S/.test(p.textContent));
	if (!p) return '';
	p.scrollIntoView({block: 'center'});
	const r = document.createRange();
	r.setStart(p.firstChild, 0);
	r.setEnd(p.firstChild, p.firstChild.length);
	const s = getSelection();
	s.removeAllRanges();
	s.addRange(r);
	const box = r.getBoundingClientRect();
	const at = {bubbles: true, cancelable: true, view: window, clientX: box.right - 2, clientY: box.bottom - 2, button: 0};
	p.dispatchEvent(new PointerEvent('pointerup', at));
	p.dispatchEvent(new MouseEvent('mouseup', at));
	document.dispatchEvent(new Event('selectionchange'));
	return s.toString();
})()`

// normalize makes book text and answer text comparable: typographic
// quotes and dashes as plain ones, whitespace collapsed.
func normalize(s string) string {
	s = strings.NewReplacer("’", "'", "‘", "'", "“", `"`, "”", `"`, "–", "-", "—", "-", " ", " ").Replace(s)
	return strings.Join(strings.Fields(s), " ")
}

var sentenceEnd = regexp.MustCompile(`[.!?]["')]?\s+`)

// sentences splits a paragraph into its sentences of four words or more.
func sentences(p string) []string {
	var out []string
	for _, s := range sentenceEnd.Split(normalize(p), -1) {
		s = strings.TrimRight(strings.TrimSpace(s), ".!?")
		if len(strings.Fields(s)) >= 4 {
			out = append(out, s)
		}
	}
	return out
}

// resetLink returns the last password-reset link logged for email.
func resetLink(logs *syncBuffer, email string) string {
	const marker = "/api/auth/reset-password/"
	link := ""
	for _, l := range strings.Split(logs.String(), "\n") {
		i := strings.Index(l, marker)
		if i < 0 || !strings.Contains(l, email) {
			continue
		}
		start := strings.LastIndex(l[:i], "http")
		if start < 0 {
			continue
		}
		end := strings.IndexAny(l[start:], "\\\" ")
		if end < 0 {
			end = len(l) - start
		}
		link = l[start : start+end]
	}
	return link
}

var emailSeq atomic.Int64

// newEmail returns an address no earlier test used.
func newEmail(who string) string {
	return fmt.Sprintf("%s-%d-%d@example.com", who, time.Now().UnixNano(), emailSeq.Add(1))
}

// a11yCheck is run in a page: it returns the accessibility problems the
// smoke check finds.
const a11yCheck = `(() => {
const roots = [document, document.querySelector('lectern-widget')?.shadowRoot].filter(Boolean);
const all = s => roots.flatMap(r => [...r.querySelectorAll(s)]);
const byId = id => roots.map(r => r.getElementById(id)).find(Boolean);` + jsHelpers + `
const problems = [];
const describe = el => {
  let d = el.tagName.toLowerCase();
  if (el.id) d += '#' + el.id;
  if (typeof el.className === 'string' && el.className.trim()) d += '.' + el.className.trim().split(/\s+/).join('.');
  if (el.getAttribute('name')) d += '[name=' + el.getAttribute('name') + ']';
  return d;
};
const byIds = ids => (ids || '').split(/\s+/).filter(Boolean).map(id => byId(id)?.textContent || '').join(' ').trim();
const accName = el => (el.getAttribute('aria-label') || '').trim() || byIds(el.getAttribute('aria-labelledby')) ||
  (el.textContent || '').trim() || (el.getAttribute('title') || '').trim() ||
  [...el.querySelectorAll('img[alt], svg[aria-label]')].map(i => i.getAttribute('alt') || i.getAttribute('aria-label')).join(' ').trim() ||
  (el.tagName === 'INPUT' ? (el.value || '').trim() : '');
const counts = new Map();
for (const el of all('[id]')) counts.set(el.id, (counts.get(el.id) || 0) + 1);
for (const [id, n] of counts) if (n > 1) problems.push('duplicate id "' + id + '" on ' + n + ' elements');
for (const el of all('input, select, textarea')) {
  const type = (el.getAttribute('type') || '').toLowerCase();
  if (type === 'hidden') continue;
  if (['submit', 'button', 'reset', 'image'].includes(type)) {
    if (!accName(el) && !el.getAttribute('alt')) problems.push(describe(el) + ' has no accessible name');
    continue;
  }
  const labelled = (el.id && [...all('label[for]')].some(l => l.htmlFor === el.id && l.textContent.trim())) ||
    (el.closest('label') && el.closest('label').textContent.trim()) ||
    (el.getAttribute('aria-label') || '').trim() || byIds(el.getAttribute('aria-labelledby'));
  if (!labelled) problems.push(describe(el) + ' has no label');
}
for (const img of all('img')) if (!img.hasAttribute('alt')) problems.push(describe(img) + ' (' + img.getAttribute('src') + ') has no alt');
for (const el of all('button, a[href], [role=button], [role=link]')) if (!accName(el)) problems.push(describe(el) + ' has no accessible name');
const focusable = 'a[href], button, input, select, textarea, summary, [tabindex], [contenteditable=""], [contenteditable=true]';
const opacity = el => { for (let e = el; e; e = e.parentElement) if (parseFloat(getComputedStyle(e).opacity) === 0) return 0; return 1; };
const active = document.activeElement;
for (const el of all(focusable)) {
  if (el.disabled || el.tabIndex < 0 || el.closest('[inert]') || !visible(el)) continue;
  if (el.closest('[aria-hidden="true"]')) { problems.push(describe(el) + ' is focusable inside aria-hidden="true"'); continue; }
  if (opacity(el) === 0) { problems.push(describe(el) + ' is focusable but transparent (opacity 0)'); continue; }
  const r = el.getBoundingClientRect();
  const off = r.right <= 0 || r.bottom <= -window.scrollY || r.left >= document.documentElement.scrollWidth || r.width < 2 || r.height < 2;
  if (off && !['INPUT', 'SELECT', 'TEXTAREA'].includes(el.tagName)) {
    // A skip link is off screen until focused; anything else must show itself when focused.
    el.focus({preventScroll: true});
    const f = el.getBoundingClientRect();
    if (f.right <= 0 || f.left >= document.documentElement.scrollWidth || f.width < 2 || f.height < 2) problems.push(describe(el) + ' is focusable but off screen or clipped even when focused');
    el.blur();
  }
}
if (active && active.focus) active.focus({preventScroll: true});
return problems;
})()`

// checkPage runs the accessibility smoke check in the tab's page and fails
// the test with what it finds, and with the console errors since mark.
func (b *tab) checkPage(t *testing.T, mark int) {
	t.Helper()
	problems := eval[[]string](t, b, "run the accessibility check", a11yCheck)
	problems = append(problems, b.errorsSince(mark)...)
	if len(problems) > 0 {
		t.Errorf("%d problems:\n  %s", len(problems), strings.Join(problems, "\n  "))
	}
}

// hostPage is another site's page embedding the widget.
func hostPage(lectern string) string {
	return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Another site</title><link rel="icon" href="data:,">
<style>/* A site's own style, which must not reach the assistant. */
body { color: rgb(200, 0, 0); font: 22px/1.1 serif; } h2 { color: rgb(255, 255, 255) !important; }
.message, .sources, .muted, .typing, button, aside { border: 5px solid rgb(0, 200, 0) !important; }</style></head>
<body><main><h1>A page on another site</h1>
<p>This page is served from another origin and embeds Lectern's reading assistant with one script tag.</p></main>
<script src="` + lectern + `/static/widget.js" data-lectern="` + lectern + `" defer></script>
</body></html>`
}

// screenshotDir is where screenshots go: LECTERN_SCREENSHOTS, or a
// temporary directory.
func screenshotDir(t *testing.T) string {
	if d := os.Getenv("LECTERN_SCREENSHOTS"); d != "" {
		if !filepath.IsAbs(d) {
			// go test runs in the package's directory; a relative
			// path is meant from the repository's root.
			d = filepath.Join("..", "..", d)
		}
		d, _ = filepath.Abs(d)
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		return d
	}
	return t.TempDir()
}

// bookOwner is the email of the book's owner in the browser tests.
const bookOwner = "owner@example.com"

// browserPassword is the password of every reader the browser tests make.
const browserPassword = "correct horse battery staple"

// browserEnv is what a browser test drives: a Lectern server, another
// site whose page embeds Lectern's widget, and a headless browser.
type browserEnv struct {
	browser context.Context
	base    string
	host    *httptest.Server
	logs    *syncBuffer
}

// newBrowserEnv starts the browser, the other site and a Lectern server
// that trusts it; on failure the server's warnings and errors are logged.
func newBrowserEnv(t *testing.T) *browserEnv {
	t.Helper()
	browser := newBrowser(t)

	// The page of another site for the widget; it needs Lectern's URL, and
	// Lectern needs its origin, so it starts first and learns the URL after.
	var lecternURL atomic.Value
	lecternURL.Store("")
	host := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var attrs string
		lectern := lecternURL.Load().(string)
		switch {
		case r.URL.Path == "/cookieless":
			// Lectern under another host name: a site apart from this
			// page's, to which the browser sends no cookie from here.
			lectern = strings.Replace(lectern, "127.0.0.1", "localhost", 1)
		case r.URL.Path == "/":
		case r.URL.Path == "/links" || strings.HasPrefix(r.URL.Path, "/docs/"):
			// A site that serves the book's pages itself.
			attrs = ` data-links="site" data-position="left"`
		default:
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, strings.Replace(hostPage(lectern), " defer>", attrs+" defer>", 1))
	}))
	t.Cleanup(host.Close)

	addr := freeAddr(t)
	base, logs, _ := startServe(t, map[string]string{
		"LECTERN_ADDR":            addr,
		"LECTERN_BASE_URL":        "http://" + addr,
		"LECTERN_SECRET":          strings.Repeat("b", 40),
		"LECTERN_AUTH_RATE_LIMIT": "off",
		"LECTERN_CHAT_RATE_LIMIT": "off",
		"LECTERN_CORS_ORIGINS":    host.URL,
		"LECTERN_TRUSTED_ORIGINS": host.URL + ",http://localhost:" + addr[strings.LastIndex(addr, ":")+1:],
		"LECTERN_DATA_DIR":        t.TempDir(),
		"LECTERN_ADMIN_EMAILS":    bookOwner,
	})
	lecternURL.Store(base)
	t.Cleanup(func() {
		if t.Failed() {
			var bad []string
			for _, l := range strings.Split(logs.String(), "\n") {
				if strings.Contains(l, "level=ERROR") || strings.Contains(l, "level=WARN") {
					bad = append(bad, l)
				}
			}
			t.Logf("the server's warnings and errors:\n%s", strings.Join(bad, "\n"))
		}
	})
	return &browserEnv{browser: browser, base: base, host: host, logs: logs}
}

// TestBrowserSignUp: a visitor signs up through the form and lands on the book, signed in.
func TestBrowserSignUp(t *testing.T) {
	e := newBrowserEnv(t)
	browser, base, password := e.browser, e.base, browserPassword
	b := newTab(t, browser)
	b.navigate(t, base+"/signup")
	b.waitGuest(t, "before signing up")
	b.fill(t, "form#signup-form input[name=name]", "Ada Reader")
	b.fill(t, "form#signup-form input[name=email]", newEmail("signup"))
	b.fill(t, "form#signup-form input[name=password]", password)
	b.submit(t, "form#signup-form")
	waitFor[bool](t, b, "the browser leaves the sign-up page for the book",
		`['home', 'page'].includes(document.body.dataset.view) && location.pathname !== '/signup'`)
	b.waitSignedIn(t, "after signing up")
	if eval[bool](t, b, "look for the sign-up link", visibleExpr("a#nav-signup")) {
		t.Error("a signed-in reader's header still shows a#nav-signup")
	}
}

// TestBrowserGuestGate: a guest who opens the chat panel sees the sign-in gate and no input.
func TestBrowserGuestGate(t *testing.T) {
	e := newBrowserEnv(t)
	browser, base := e.browser, e.base
	b := newTab(t, browser)
	b.navigate(t, base+docPath)
	b.waitVisible(t, "the panel is closed at first", "button#chat-toggle")
	if eval[bool](t, b, "look at the closed panel", visibleExpr("aside#chat-panel")) {
		t.Error("aside#chat-panel is visible before the toggle is pressed")
	}
	b.openPanel(t)
	b.waitVisible(t, "the gate is shown", "#chat-gate")
	b.waitVisible(t, "the gate links to sign-in", "#chat-gate a#chat-login")
	b.waitVisible(t, "the gate links to sign-up", "#chat-gate a#chat-signup")
	if eval[bool](t, b, "look for the input", visibleExpr("#chat-input")) {
		t.Error("a guest sees #chat-input")
	}
	b.do(t, "press Escape", chromedp.KeyEvent(kb.Escape))
	b.waitGone(t, "Escape closes the panel", "aside#chat-panel")
	waitFor[bool](t, b, "the toggle reports the panel collapsed", `__lq('#chat-toggle').getAttribute('aria-expanded') === 'false'`)
	waitFor[bool](t, b, "the focus is back on the toggle", `document.activeElement === __lq('#chat-toggle')`)

	// From the keyboard alone: Enter on the toggle opens the panel with
	// the focus in it; Escape closes it and gives the focus back.
	eval[bool](t, b, "focus the toggle", `(() => { __lq('#chat-toggle').focus(); return true; })()`)
	b.do(t, "press Enter", chromedp.KeyEvent(kb.Enter))
	b.waitVisible(t, "Enter opens the panel", "aside#chat-panel")
	waitFor[bool](t, b, "the focus in the panel", `__lq('aside#chat-panel').contains(document.activeElement)`)
	b.do(t, "press Escape", chromedp.KeyEvent(kb.Escape))
	b.waitGone(t, "Escape closes the panel", "aside#chat-panel")
	waitFor[bool](t, b, "the focus is back on the toggle", `document.activeElement === __lq('#chat-toggle')`)
}

// TestBrowserReaderConversation follows one reader who asks, summarizes a
// selection, reloads, renames, deletes, retries a failed answer and signs out.
func TestBrowserReaderConversation(t *testing.T) {
	e := newBrowserEnv(t)
	browser, base, password := e.browser, e.base, browserPassword

	// One reader asks, summarizes, reloads, renames, deletes and signs out;
	// each of those tests signs them up if an earlier one could not.
	readerTab := newTab(t, browser)
	readerUp := false
	signedInReader := func(t *testing.T) *tab {
		t.Helper()
		if !readerUp {
			readerTab.signUpByAPI(t, base, newEmail("reader"), password)
			readerUp = true
		}
		return readerTab
	}
	asked := false // the reader's conversation holds the question

	t.Run("a reader asks a question and follows a source link to its heading", func(t *testing.T) {
		b := signedInReader(t)
		b.navigate(t, base+docPath)
		b.waitSignedIn(t, "on the book page")
		a := b.ask(t, question)
		asked = true
		t.Logf("typing indicator observed: %v", a.SawTyping)
		if !strings.Contains(a.Body, "Quoted from the book") || strings.Contains(a.Body, "no language model") {
			t.Errorf("the answer's .message-body lacks %q or carries the no-model note: %.400s", "Quoted from the book", a.Body)
		}
		if !eval[bool](t, b, "look for the notice", visibleExpr("#chat-quoted-notice")) || eval[int](t, b, "count notices", `__lqa('.chat-notice').length`) != 1 {
			t.Errorf("the panel does not tell the reader, once, that answers quote the book\n%s", b.state())
		}
		if len(a.Sources) == 0 {
			t.Fatalf("the answer lists no sources (ol.sources li a[href])\n%s", b.state())
		}
		for _, s := range a.Sources {
			if u, err := url.Parse(s); err != nil || u.Fragment == "" {
				t.Errorf("source link %q has no #anchor", s)
			}
		}
		for _, c := range []string{"rate-up", "rate-down", "copy"} {
			if !a.HasButtons[c] {
				t.Errorf("the answer has no button.%s", c)
			}
		}

		if a.HasButtons["rate-up"] {
			sel := `#chat-messages .message.assistant[data-id="` + a.ID + `"]`
			b.click(t, "rate the answer up", sel+" button.rate-up")
			waitFor[bool](t, b, "the rate-up button is pressed", `__lq(`+js(sel+" button.rate-up")+`).getAttribute('aria-pressed') === 'true'`)
			if got := eval[string](t, b, "read rate-down", `__lq(`+js(sel+" button.rate-down")+`)?.getAttribute('aria-pressed') || ''`); got != "false" {
				t.Errorf("after rating up, rate-down has aria-pressed=%q, want false", got)
			}
		}

		first, _ := url.Parse(a.Sources[0])
		b.do(t, "click the first source link", chromedp.Click(chromedp.JSPath(
			`[...__lqa('#chat-messages .message.assistant')].at(-1).querySelector('ol.sources li a[href]')`)))
		waitFor[bool](t, b, "the page shows the source's section "+first.Path+"#"+first.Fragment,
			`location.pathname === `+js(first.EscapedPath())+` && location.hash === `+js("#"+first.EscapedFragment())+` && document.readyState === 'complete'`)
		tag := eval[string](t, b, "find the anchor", `(() => { const el = document.getElementById(decodeURIComponent(location.hash.slice(1))); return el ? el.tagName : ''; })()`)
		if !regexp.MustCompile(`^H[1-6]$`).MatchString(tag) {
			t.Errorf("the anchor #%s is %q on the page, want a heading", first.Fragment, tag)
		}
	})

	var selected string
	t.Run("a reader selects a paragraph and gets a summary of it", func(t *testing.T) {
		b := signedInReader(t)
		b.navigate(t, base+docPath)
		b.waitSignedIn(t, "on the book page")
		b.waitVisible(t, "the menu is hidden before a selection", "article.doc")
		n := b.assistantCount(t)
		selected = b.selectParagraph(t)
		b.click(t, "ask about the selection", "div#selection-menu button#ask-about")
		b.waitVisible(t, "the panel opens to ask about it", "textarea#chat-input")
		waitFor[bool](t, b, "the input quotes the selection", `(() => { const v = __lq('#chat-input').value;
			return v.startsWith('> ') && v.replace(/\s+/g, ' ').includes(`+js(strings.Join(strings.Fields(selected), " ")[:60])+`); })()`)
		b.do(t, "close the panel", chromedp.KeyEvent(kb.Escape))
		b.selectParagraph(t)
		b.watchTyping(t)
		b.click(t, "summarize the selection", "div#selection-menu button#summarize-selection")
		b.waitVisible(t, "the panel opens for the summary", "aside#chat-panel")
		a := b.waitAnswer(t, "the summary arrives", n)
		body := normalize(a.Body)
		found := false
		for _, s := range sentences(selected) {
			if strings.Contains(body, s) {
				found = true
				break
			}
		}
		if !found {
			t.Errorf("the summary quotes no sentence of the selected paragraph\nselected: %s\nsummary: %.600s", selected, a.Body)
		}
	})

	t.Run("the conversation survives a reload and can be renamed and deleted", func(t *testing.T) {
		b := signedInReader(t)
		if !asked { // run on its own, or after a failure
			b.navigate(t, base+docPath)
			b.ask(t, question)
		}
		b.do(t, "reload the page", chromedp.Reload())
		b.openPanel(t)
		waitFor[bool](t, b, "the reloaded page continues the conversation", `[...__lqa('#chat-messages .message.user')].some(m => m.textContent.includes(`+js(question)+`))`)
		b.click(t, "start a new conversation", "button#chat-new")
		waitFor[bool](t, b, "the new conversation is empty", `__lqa('#chat-messages .message').length === 0`)
		b.click(t, "open the history", "button#chat-history")
		b.waitVisible(t, "the history lists conversations", "ul#chat-conversations")
		id := waitFor[string](t, b, "the conversation of the question asked earlier is listed", `(() => {
			const li = [...__lqa('#chat-conversations li.conversation[data-id]')].find(li => li.textContent.includes(`+js(question[:20])+`));
			return li ? li.dataset.id : '';
		})()`)
		li := `#chat-conversations li.conversation[data-id="` + id + `"]`

		b.click(t, "open the conversation", li+" button.open")
		waitFor[bool](t, b, "its messages show", `[...__lqa('#chat-messages .message.user')].some(m => m.textContent.includes(`+js(question)+`))`)

		const title = "Leap seconds, renamed in the browser"
		if !eval[bool](t, b, "look for the list", visibleExpr(li)) {
			b.click(t, "reopen the history", "button#chat-history")
		}
		b.click(t, "rename the conversation", li+" button.rename")
		b.fill(t, li+" input.rename-input", title)
		b.do(t, "press Enter", chromedp.SendKeys(chromedp.CSS(li+" input.rename-input"), kb.Enter))
		waitFor[bool](t, b, "the new title shows", in(`const li = $(`+js(li)+`); return !!li && li.textContent.includes(`+js(title)+`) && !visible(li.querySelector('input.rename-input'));`))

		b.do(t, "reload the page", chromedp.Reload())
		b.openPanel(t)
		if !eval[bool](t, b, "look for the list", visibleExpr("ul#chat-conversations")) {
			b.click(t, "open the history", "button#chat-history")
		}
		waitFor[bool](t, b, "the new title shows after a reload", `(__lq(`+js(li)+`)?.textContent || '').includes(`+js(title)+`)`)
		if code, body := b.apiGet(t, "/api/conversations/"+id); code != 200 || !strings.Contains(body, js(title)) {
			t.Errorf("GET /api/conversations/%s: %d %s", id, code, body)
		}

		b.click(t, "delete the conversation", li+" button.delete")
		b.click(t, "confirm the deletion", li+" button.confirm-delete")
		waitFor[bool](t, b, "the conversation leaves the list", `!__lq(`+js(li)+`)`)
		if code, _ := b.apiGet(t, "/api/conversations/"+id); code != 404 {
			t.Errorf("GET /api/conversations/%s after deleting: %d, want 404", id, code)
		}
	})

	t.Run("a failed answer shows an error, and its retry button answers", func(t *testing.T) {
		b := newTab(t, browser)
		b.signUpByAPI(t, base, newEmail("retry"), password)
		b.navigate(t, base+docPath)
		b.openPanel(t)
		n := b.assistantCount(t)
		b.failNext(t, "*/api/agents/stream*", 503, `{"message":"Service unavailable","code":"SERVICE_UNAVAILABLE"}`)
		b.send(t, question)
		waitFor[bool](t, b, "the failure shows with a retry button", in(`return visible($('#chat-messages .message-error')) && visible($('#chat-messages .message-error button.retry, #chat-messages button.retry'));`))
		b.click(t, "retry", "#chat-messages button.retry")
		a := b.waitAnswer(t, "the retried question is answered", n)
		if !strings.Contains(a.Body, "Quoted from the book") {
			t.Errorf("the retried answer lacks %q: %.400s", "Quoted from the book", a.Body)
		}
	})

	t.Run("after signing out the panel shows the gate again", func(t *testing.T) {
		b := signedInReader(t)
		b.navigate(t, base+docPath)
		b.waitSignedIn(t, "before signing out")
		b.click(t, "sign out", "button#nav-signout")
		readerUp = false
		b.waitGuest(t, "after signing out")
		b.openPanel(t)
		b.waitVisible(t, "the gate is back", "#chat-gate")
		if eval[bool](t, b, "look for the input", visibleExpr("#chat-input")) {
			t.Error("a signed-out reader still sees #chat-input")
		}
	})
}

// TestBrowserPasswordReset: a reader resets a forgotten password and only the new one signs in.
func TestBrowserPasswordReset(t *testing.T) {
	e := newBrowserEnv(t)
	browser, base, logs, password := e.browser, e.base, e.logs, browserPassword
	email := newEmail("forgetful")
	if res, body := post(t, base+"/api/auth/sign-up/email", `{"name":"F","email":"`+email+`","password":"`+password+`"}`); res.StatusCode != 200 {
		t.Fatalf("sign-up: %d %s", res.StatusCode, body)
	}
	b := newTab(t, browser)
	b.navigate(t, base+"/login")
	b.click(t, "follow the forgot-password link", "a#forgot-link")
	waitFor[bool](t, b, "the forgot-password page opens", `location.pathname === '/forgot-password'`)
	b.fill(t, "form#forgot-form input[name=email]", email)
	b.submit(t, "form#forgot-form")
	waitFor[bool](t, b, "the form says the mail is on its way", in(`const s = $('#form-status'); return visible(s) && s.textContent.trim().length > 0;`))

	var link string
	for deadline := time.Now().Add(5 * time.Second); link == "" && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		link = resetLink(logs, email)
	}
	if link == "" {
		t.Fatalf("no reset link for %s in the log:\n%s", email, logs)
	}
	// The emailed link redirects to the reset page with the token (which
	// the page may then take out of the address bar).
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := noFollow.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if to, _ := url.Parse(res.Header.Get("Location")); res.StatusCode != http.StatusFound || to == nil || to.Path != "/reset-password" || to.Query().Get("token") == "" {
		t.Fatalf("the reset link answers %d to %q, want a redirect to /reset-password?token=…", res.StatusCode, res.Header.Get("Location"))
	}
	b.navigate(t, link)
	waitFor[bool](t, b, "the link lands on the reset page", `location.pathname === '/reset-password'`)
	const newPassword = "a brand new passphrase"
	b.fill(t, "form#reset-form input[name=password]", newPassword)
	b.submit(t, "form#reset-form")
	b.waitVisible(t, "the page confirms the reset", "#form-status")
	b.click(t, "go to sign-in", "a#login-after-reset")
	waitFor[bool](t, b, "the sign-in page opens", `location.pathname === '/login'`)

	b.fill(t, "form#login-form input[name=email]", email)
	b.fill(t, "form#login-form input[name=password]", password)
	b.submit(t, "form#login-form")
	waitFor[bool](t, b, "the old password is refused", in(`const e = $('#form-error'); return visible(e) && e.textContent.trim().length > 0;`))
	if eval[bool](t, b, "look at the header", visibleExpr("a#nav-account")) {
		t.Error("the old password signed in")
	}

	b.navigate(t, base+"/login?next="+url.QueryEscape(docPath+"#why-leap-seconds-exist"))
	b.fill(t, "form#login-form input[name=email]", email)
	b.fill(t, "form#login-form input[name=password]", newPassword)
	b.submit(t, "form#login-form")
	waitFor[bool](t, b, "the new password signs in and ?next= leads back to the page", `location.pathname === `+js(docPath))
	b.waitSignedIn(t, "after signing in with the new password")
}

// TestBrowserAccountSettings: a reader renames themselves, signs out another device, changes the password and deletes the account.
func TestBrowserAccountSettings(t *testing.T) {
	e := newBrowserEnv(t)
	browser, base, password := e.browser, e.base, browserPassword
	email := newEmail("account")
	b := newTab(t, browser)
	b.signUpByAPI(t, base, email, password)
	other := newTab(t, browser)
	other.signInByAPI(t, base, email, password)

	b.navigate(t, base+"/account")
	waitFor[bool](t, b, "both devices are listed, the other with a sign-out button",
		`__lqa('#sessions-list li').length === 2 && __lqa('#sessions-list li button.revoke').length === 1`)

	b.fill(t, "form#name-form input[name=name]", "Grace Reader")
	b.submit(t, "form#name-form")
	waitFor[bool](t, b, "the header shows the new name", `__lq('#nav-account')?.textContent.trim() === 'Grace Reader'`)

	b.click(t, "sign the other device out", "#sessions-list li button.revoke")
	waitFor[bool](t, b, "only this device is left", `__lqa('#sessions-list li').length === 1`)
	other.navigate(t, base+docPath)
	other.waitGuest(t, "on the signed-out device")

	const newPassword = "another long passphrase"
	b.fill(t, "form#password-form input[name=currentPassword]", password)
	b.fill(t, "form#password-form input[name=newPassword]", newPassword)
	b.submit(t, "form#password-form")
	waitFor[bool](t, b, "the page confirms the change", in(`const s = $('#password-status'); return visible(s) && s.textContent.trim().length > 0 && !s.classList.contains('error');`))
	signIn := func(pw string) int {
		res, _ := post(t, base+"/api/auth/sign-in/email", `{"email":"`+email+`","password":"`+pw+`"}`)
		return res.StatusCode
	}
	if got := signIn(newPassword); got != 200 {
		t.Errorf("sign-in with the changed password: %d", got)
	}
	if got := signIn(password); got == 200 {
		t.Error("the old password still signs in after the change")
	}

	other.signInByAPI(t, base, email, newPassword)
	b.navigate(t, base+"/account")
	b.click(t, "sign out everywhere", "button#sign-out-everywhere")
	b.waitGuest(t, "after signing out everywhere")
	other.navigate(t, base+docPath)
	other.waitGuest(t, "the other device after signing out everywhere")

	b.signInByAPI(t, base, email, newPassword)
	b.navigate(t, base+"/account")
	b.fill(t, "form#delete-form input[name=password]", newPassword)
	b.submit(t, "form#delete-form")
	b.waitGuest(t, "after deleting the account")
	if got := signIn(newPassword); got == 200 {
		t.Error("the deleted account still signs in")
	}
}

// TestBrowserWidget: the widget adds the panel to a page on another origin.
func TestBrowserWidget(t *testing.T) {
	e := newBrowserEnv(t)
	browser, base, host, password := e.browser, e.base, e.host, browserPassword
	t.Run("a guest sees the gate", func(t *testing.T) {
		b := newTab(t, browser)
		b.navigate(t, host.URL)
		b.openPanel(t)
		b.waitVisible(t, "the gate is shown", "#chat-gate")
		b.waitVisible(t, "the gate links to sign-in", "a#chat-login")
		href := eval[string](t, b, "read the sign-in link", `__lq('#chat-login').href`)
		if !strings.HasPrefix(href, base+"/") {
			t.Errorf("the widget's sign-in link is %q, want one on %s", href, base)
		}
	})
	t.Run("a site Lectern does not allow is told so, not shown the gate", func(t *testing.T) {
		b := newTab(t, browser)
		other := strings.Replace(host.URL, "127.0.0.1", "localhost", 1) // another origin to the browser
		mark := b.mark()
		b.navigate(t, other)
		b.openPanel(t)
		b.waitVisible(t, "the message that Lectern cannot be reached", "#chat-unreachable")
		if eval[bool](t, b, "look for the gate", visibleExpr("#chat-gate")) {
			t.Error("the gate is shown as if the reader were only signed out")
		}
		console := strings.Join(b.errorsSince(mark), "\n")
		if !strings.Contains(console, "LECTERN_TRUSTED_ORIGINS") || !strings.Contains(console, other) {
			t.Errorf("the console does not name the setting and the origin:\n%s", console)
		}
	})
	t.Run("a reader whose session the site cannot get is told so, not shown the gate again", func(t *testing.T) {
		b := newTab(t, browser)
		mark := b.mark()
		b.navigate(t, host.URL+"/cookieless")
		b.signUpThroughGate(t, "Cookieless Reader", newEmail("cookieless"))
		waitFor[bool](t, b, "back on the site's page", `location.origin === `+js(host.URL)+``)
		b.openPanel(t)
		b.waitVisible(t, "the message that the session does not reach the site", "#chat-no-session")
		if !strings.Contains(strings.Join(b.errorsSince(mark), "\n"), "SameSite=Lax") {
			t.Errorf("the console does not say why the session is not sent")
		}
	})
	t.Run("a guest who signs up from the gate comes back to the page", func(t *testing.T) {
		b := newTab(t, browser)
		page := host.URL + "/?chapter=2#reading"
		b.navigate(t, page)
		b.signUpThroughGate(t, "Widget Reader", newEmail("roundtrip"))
		back := waitFor[string](t, b, "back on the page the reader came from", `location.origin === `+js(host.URL)+` ? location.href : null`)
		if back != page {
			t.Errorf("after signing up the reader is on %q, want %q", back, page)
		}
	})
	t.Run("the assistant keeps apart from the site and follows its theme", func(t *testing.T) {
		b := newTab(t, browser)
		b.signUpByAPI(t, base, newEmail("apart"), password)
		b.navigate(t, host.URL)
		b.ask(t, question)
		leaked := eval[int](t, b, "look for the assistant in the site's document",
			`document.querySelectorAll('[id^="chat"], [class*="chat"], .message, .sources, .muted, .typing, .lectern-widget').length`)
		if leaked != 0 {
			t.Errorf("%d of the assistant's elements are in the site's document", leaked)
		}
		style := eval[[]string](t, b, "read the heading's style", `(() => { const h = __lq('#chat-heading'), a = __lq('#chat-panel');
			const s = getComputedStyle(h); return [s.color, s.fontFamily, getComputedStyle(a).borderLeftColor]; })()`)
		if style[0] == "rgb(255, 255, 255)" || style[0] == "rgb(200, 0, 0)" || strings.Contains(style[1], "serif") && !strings.Contains(style[1], "sans") || style[2] == "rgb(0, 200, 0)" {
			t.Errorf("the site's style reached the assistant: color %s, font %s, border %s", style[0], style[1], style[2])
		}
		bg := func(theme string) string {
			return waitFor[string](t, b, "the panel follows data-theme="+theme, `(() => {
				document.documentElement.setAttribute('data-theme', `+js(theme)+`);
				const c = getComputedStyle(__lq('#chat-panel')).backgroundColor;
				const [r, g, bl] = c.match(/\d+/g).map(Number);
				return (r + g + bl) / 3 `+map[string]string{"dark": "< 80", "light": "> 200"}[theme]+` ? c : null; })()`)
		}
		bg("dark")
		bg("light")
		bg("dark")
		code := eval[[]string](t, b, "read a code span's colours in the dark", `(() => {
			const c = document.createElement('code'); __lq('.message.assistant .message-body').append(c); c.textContent = 'x';
			const s = getComputedStyle(c); return [s.color, s.backgroundColor]; })()`)
		if code[0] == code[1] {
			t.Errorf("code in an answer is unreadable: %s on %s", code[0], code[1])
		}
	})
	t.Run("a question after the site navigates carries the new page", func(t *testing.T) {
		b := newTab(t, browser)
		b.signUpByAPI(t, base, newEmail("navigate"), password)
		b.navigate(t, host.URL)
		b.recordSent(t)
		eval[bool](t, b, "navigate without loading", `(() => { history.pushState({}, '', '/docs/time-zones'); return true; })()`)
		b.ask(t, question)
		if sent := b.sent(t); !strings.Contains(sent, `"current_page":"/docs/time-zones"`) {
			t.Errorf("no question carried the page navigated to:\n%s", sent)
		}
	})
	t.Run("summarize on a selection of the site's page summarizes the selection", func(t *testing.T) {
		b := newTab(t, browser)
		b.signUpByAPI(t, base, newEmail("select"), password)
		b.navigate(t, host.URL)
		b.waitVisible(t, "the toggle", "#chat-toggle")
		b.recordSent(t)
		b.selectText(t, "main p")
		b.click(t, "Summarize in the selection menu", "#summarize-selection")
		b.waitAnswer(t, "the summary", 0)
		sent := b.sent(t)
		if !strings.Contains(sent, `"agent_type":"summarizer"`) || !strings.Contains(sent, `"highlighted_text":"This page is served from another origin`) {
			t.Errorf("the summary was not asked of the selection:\n%s", sent)
		}
	})
	t.Run("on a site that serves the book's pages, citations open them there", func(t *testing.T) {
		b := newTab(t, browser)
		b.signUpByAPI(t, base, newEmail("links"), password)
		b.navigate(t, host.URL+"/links")
		a := b.ask(t, question)
		if len(a.Sources) == 0 {
			t.Fatal("no sources")
		}
		for _, s := range a.Sources {
			if !strings.HasPrefix(s, host.URL+"/docs/") {
				t.Errorf("the source link %q does not point at the site's own page", s)
			}
		}
		targets := eval[[]string](t, b, "read the sources' targets", `__lqa('ol.sources a').map(a => a.target)`)
		for _, tg := range targets {
			if tg != "" {
				t.Errorf("a source opens in target %q, want the same tab", tg)
			}
		}
		left := eval[bool](t, b, "where the button is", `__lq('#chat-toggle').getBoundingClientRect().left < innerWidth / 2`)
		if !left {
			t.Errorf("data-position=left did not put the button on the left")
		}
		b.click(t, "follow the first source", "ol.sources a")
		waitFor[bool](t, b, "the site's page opens, at the heading", `location.origin === `+js(host.URL)+` && location.pathname.startsWith('/docs/')`)
	})
	t.Run("a reader signed in to Lectern gets an answer", func(t *testing.T) {
		b := newTab(t, browser)
		b.signUpByAPI(t, base, newEmail("widget"), password)
		b.navigate(t, host.URL)
		a := b.ask(t, question)
		if !strings.Contains(a.Body, "Quoted from the book") {
			t.Errorf("the widget's answer lacks %q: %.400s", "Quoted from the book", a.Body)
		}
		for _, s := range a.Sources {
			if !strings.HasPrefix(s, base+"/docs/") {
				t.Errorf("the widget's source link %q does not point into the book at %s", s, base)
			}
		}
	})
}

// TestBrowserAccessibility: every page passes the accessibility smoke check without console errors.
func TestBrowserAccessibility(t *testing.T) {
	e := newBrowserEnv(t)
	browser, base, host, password := e.browser, e.base, e.host, browserPassword
	guest := newTab(t, browser)
	member := newTab(t, browser)
	member.signUpByAPI(t, base, newEmail("a11y"), password)
	newcomer := newTab(t, browser) // a reader with no conversation yet
	newcomer.signUpByAPI(t, base, newEmail("a11y-new"), password)
	phone := newTab(t, browser)
	phone.do(t, "set a phone viewport", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(1), chromedp.EmulateMobile, chromedp.EmulatePortrait))
	owner := newTab(t, browser)
	owner.signUpByAPI(t, base, bookOwner, password)
	for _, tc := range []struct {
		name   string
		who    *tab
		path   string
		ready  string                     // a selector shown once the scripts ran
		action func(t *testing.T, b *tab) // after loading, before checking
	}{
		{"the home page", guest, "/", "button#chat-toggle", nil},
		{"a book page", guest, docPath, "button#chat-toggle", nil},
		{"the search page", guest, "/search?q=leap+second", "button#chat-toggle", nil},
		{"the sign-in page", guest, "/login", "form#login-form", nil},
		{"the sign-up page", guest, "/signup", "form#signup-form", nil},
		{"the forgot-password page", guest, "/forgot-password", "form#forgot-form", nil},
		{"the reset-password page", guest, "/reset-password?token=" + strings.Repeat("x", 32), "form#reset-form", nil},
		{"the account page", member, "/account", "form#name-form", nil},
		{"the owners' insights", owner, "/insights", "figure.chart svg", nil},
		{"a book page with the guest's chat panel open", guest, docPath, "button#chat-toggle", func(t *testing.T, b *tab) {
			b.openPanel(t)
			b.waitVisible(t, "the gate", "#chat-gate")
		}},
		{"a book page with a reader's chat panel and an answer", member, docPath, "button#chat-toggle", func(t *testing.T, b *tab) {
			b.ask(t, question)
		}},
		{"a book page with the selection menu", member, docPath, "button#chat-toggle", func(t *testing.T, b *tab) {
			b.selectParagraph(t)
			b.waitVisible(t, "the selection menu", "div#selection-menu")
		}},
		{"another site's page with the widget's panel open", member, host.URL, "button#chat-toggle", func(t *testing.T, b *tab) {
			b.openPanel(t)
		}},
		{"a book page with an empty panel and its suggested questions", newcomer, docPath, "button#chat-toggle", func(t *testing.T, b *tab) {
			b.openPanel(t)
			b.waitVisible(t, "the suggested questions", ".chat-suggestions button")
		}},
		{"a book page on a phone with the contents drawer open", phone, docPath, "button#toc-toggle", func(t *testing.T, b *tab) {
			b.click(t, "open the contents", "#toc-toggle")
			b.waitVisible(t, "the drawer", "#toc")
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := tc.who
			mark := b.mark()
			u := tc.path
			if strings.HasPrefix(u, "/") {
				u = base + u
			}
			b.navigate(t, u)
			b.waitVisible(t, "the page is ready", tc.ready)
			if tc.action != nil {
				tc.action(t, b)
			}
			// Requests the scripts start on load (the session, the
			// conversation) report their failures when they settle.
			waitFor[bool](t, b, "the page's requests settled", `document.readyState === 'complete' && window.__inflight === 0`)
			b.checkPage(t, mark)
		})
	}
}

// TestBrowserScreenshots: screenshots of the main states at desktop and phone widths.
func TestBrowserScreenshots(t *testing.T) {
	e := newBrowserEnv(t)
	browser, base, host, password := e.browser, e.base, e.host, browserPassword
	dir := screenshotDir(t)
	guest := newTab(t, browser)
	member := newTab(t, browser)
	member.signUpAs(t, base, "Ada", "ada@example.com", password) // the only Ada: each run has a fresh database
	shoot := func(t *testing.T, b *tab, name string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
		defer cancel()
		png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
		if err != nil {
			t.Fatalf("screenshot %s: %v", name, err)
		}
		if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, vp := range []struct {
		name          string
		width, height int64
		mobile        bool
	}{{"desktop", 1280, 800, false}, {"phone", 390, 844, true}} {
		t.Run(vp.name, func(t *testing.T) {
			for _, b := range []*tab{guest, member} {
				opts := []chromedp.EmulateViewportOption{chromedp.EmulateScale(1)}
				if vp.mobile {
					opts = append(opts, chromedp.EmulateMobile, chromedp.EmulatePortrait)
				}
				b.do(t, "set the viewport", chromedp.EmulateViewport(vp.width, vp.height, opts...))
			}
			for _, st := range []struct {
				name  string // of the file, after the viewport's
				who   *tab
				setUp func(t *testing.T, b *tab)
			}{
				{"book-page", member, func(t *testing.T, b *tab) {
					b.navigate(t, base+docPath)
					b.waitSignedIn(t, "on the book page")
					// The panel stays open from page to page: this shot is of the page alone.
					eval[bool](t, b, "close the panel", `(() => { const t = __lq('#chat-toggle');
						if (t.getAttribute('aria-expanded') === 'true') t.click(); return true; })()`)
					b.waitGone(t, "the panel closed", "#chat-panel")
				}},
				{"chat-answer", member, func(t *testing.T, b *tab) {
					b.navigate(t, base+docPath)
					b.ask(t, question)
				}},
				{"selection-menu", member, func(t *testing.T, b *tab) {
					b.navigate(t, base+docPath)
					b.selectParagraph(t)
				}},
				{"account", member, func(t *testing.T, b *tab) {
					b.navigate(t, base+"/account")
					b.waitVisible(t, "the account page", "form#name-form")
					b.waitVisible(t, "the sessions", "ul#sessions-list li")
				}},
				{"widget", member, func(t *testing.T, b *tab) {
					b.navigate(t, host.URL)
					b.ask(t, question)
				}},
				{"login", guest, func(t *testing.T, b *tab) {
					b.navigate(t, base+"/login")
					b.waitVisible(t, "the sign-in form", "form#login-form")
				}},
				{"signup", guest, func(t *testing.T, b *tab) {
					b.navigate(t, base+"/signup")
					b.waitVisible(t, "the sign-up form", "form#signup-form")
				}},
			} {
				t.Run(st.name, func(t *testing.T) {
					st.setUp(t, st.who)
					shoot(t, st.who, vp.name+"-"+st.name)
				})
			}
		})
	}
	if os.Getenv("LECTERN_SCREENSHOTS") != "" {
		t.Logf("screenshots in %s", dir)
	}
}

// TestBrowserFirstPaint: first paint, chat readiness and bytes shipped are measured.
func TestBrowserFirstPaint(t *testing.T) {
	e := newBrowserEnv(t)
	browser, base := e.browser, e.base
	// Each load is a fresh reader (a new browser context: no cache);
	// the line reports the median of a few, as timings on a shared
	// machine vary.
	const loads = 3
	var runs []paintTimes
	for range loads {
		b := newTab(t, browser)
		if _, err := chromedp.Call(b.ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: chatShownJS}); err != nil {
			t.Fatal(err)
		}
		b.navigate(t, base+docPath)
		b.waitVisible(t, "the chat toggle", "button#chat-toggle")
		runs = append(runs, waitFor[paintTimes](t, b, "the paint and load timings are recorded", paintJS))
	}
	med := func(f func(paintTimes) float64) float64 {
		v := make([]float64, len(runs))
		for i, r := range runs {
			v[i] = f(r)
		}
		slices.Sort(v)
		return v[len(v)/2]
	}
	m := runs[0] // the sizes are the same on every load
	t.Logf("FIRSTPAINT page=%s median of %d fresh loads: first-contentful-paint=%.0fms domcontentloaded=%.0fms load=%.0fms "+
		"chat-ready=%.0fms (toggle shown by chat.js) last-js-responseEnd=%.0fms; "+
		"document=%.0fB css=%.0fB (%d files) js=%.0fB (%d files) (encoded = decoded: no compression)",
		docPath, loads, med(func(r paintTimes) float64 { return r.FCP }), med(func(r paintTimes) float64 { return r.DCL }),
		med(func(r paintTimes) float64 { return r.Load }), med(func(r paintTimes) float64 { return r.ChatShown }),
		med(func(r paintTimes) float64 { return r.JSEnd }),
		m.Doc, m.CSS, m.CSSFiles, m.JS, m.JSFiles)
	if m.Doc != m.DocRaw || m.CSS != m.CSSRaw || m.JS != m.JSRaw {
		t.Logf("compressed sizes differ from decoded: document %.0f/%.0fB css %.0f/%.0fB js %.0f/%.0fB", m.Doc, m.DocRaw, m.CSS, m.CSSRaw, m.JS, m.JSRaw)
	}
}

// paintTimes is what a page load measured, in milliseconds from the start
// of navigation, and bytes.
type paintTimes struct {
	FCP, DCL, Load, ChatShown, JSEnd    float64
	Doc, DocRaw, CSS, CSSRaw, JS, JSRaw float64
	CSSFiles, JSFiles                   int
}

// chatShownJS runs before the page's own scripts and records when the
// chat toggle is first shown (the server renders it hidden; chat.js shows
// it once mounted).
const chatShownJS = `new MutationObserver(() => {
	const t = document.getElementById('chat-toggle');
	if (t && !t.hidden && !window.__chatShownAt) window.__chatShownAt = performance.now();
}).observe(document, {subtree: true, childList: true, attributes: true, attributeFilter: ['hidden']});`

// paintJS reads the paint, navigation and resource timings once the page
// has loaded and painted.
const paintJS = `(() => {
	const fcp = performance.getEntriesByName('first-contentful-paint')[0];
	const nav = performance.getEntriesByType('navigation')[0];
	if (!fcp || !nav || !nav.loadEventEnd || !window.__chatShownAt) return null;
	const res = performance.getEntriesByType('resource');
	const js = res.filter(r => /\.m?js$/.test(new URL(r.name).pathname));
	const css = res.filter(r => /\.css$/.test(new URL(r.name).pathname));
	const sum = (a, k) => a.reduce((s, r) => s + (r[k] || 0), 0);
	return {FCP: fcp.startTime, DCL: nav.domContentLoadedEventEnd, Load: nav.loadEventEnd, ChatShown: window.__chatShownAt,
		JSEnd: Math.max(0, ...js.map(r => r.responseEnd)),
		Doc: nav.encodedBodySize, DocRaw: nav.decodedBodySize,
		CSS: sum(css, 'encodedBodySize'), CSSRaw: sum(css, 'decodedBodySize'), CSSFiles: css.length,
		JS: sum(js, 'encodedBodySize'), JSRaw: sum(js, 'decodedBodySize'), JSFiles: js.length};
})()`

// TestBrowserSiteBook serves a small Docusaurus site of our own (its
// sidebars.ts, static/ and co-located images, MDX) and checks what a
// reader sees: the contents the sidebars give, "Start reading" on the
// first page of the sidebar, a generated index page, and every image of
// a page decoded, with no error and no blocked load in the console.
func TestBrowserSiteBook(t *testing.T) {
	site, err := filepath.Abs(filepath.Join("..", "..", "internal", "book", "testdata", "site"))
	if err != nil {
		t.Fatal(err)
	}
	browser := newBrowser(t)
	base, _, _ := startServe(t, map[string]string{
		"LECTERN_SECRET":   strings.Repeat("c", 40),
		"LECTERN_DATA_DIR": t.TempDir(),
		"LECTERN_BOOK":     site,
	})
	b := newTab(t, browser)
	mark := b.mark()
	b.navigate(t, base+"/")
	start := waitFor[string](t, b, "the start link", `(() => { const a = __lq('a.start'); return a && a.getAttribute('href') + ' ' + a.textContent; })()`)
	if start != "/docs/ Start reading: Welcome" {
		t.Errorf("start link %q, want the first page of the sidebar", start)
	}
	nav := eval[[]string](t, b, "read the contents", `[...__lqa('nav.sidebar a, nav.sidebar .label')].map(e => e.textContent.trim())`)
	if got, want := strings.Join(nav, "|"), "Welcome|Lighting Up|Wicks|Choosing oil|Care|Cleaning|Lantern makers|API reference|API overview|reference|dim()|light()"; !strings.Contains(got, want) {
		t.Errorf("contents\n%s\nwant\n%s", got, want)
	}

	b.navigate(t, base+"/docs/guides/wicks")
	images := waitFor[[]string](t, b, "the page's images are loaded", `(() => {
		const imgs = [...__lqa('article img, main img')];
		if (imgs.length === 0 || imgs.some(i => !i.complete)) return null;
		return imgs.map(i => i.alt + ' ' + (i.naturalWidth > 0 ? 'decoded' : 'broken'));
	})()`)
	if got, want := strings.Join(images, "|"), "A lit lantern decoded|The wick, drawn decoded|A flame decoded"; got != want {
		t.Errorf("images\n%s\nwant\n%s", got, want)
	}
	b.navigate(t, base+"/docs/category/lighting-up")
	index := waitFor[string](t, b, "the generated index", `(() => { const m = __lq('main'); return m && m.textContent.includes('Choosing oil') ? m.textContent : null; })()`)
	if !strings.Contains(index, "Everything about wicks, oil and the first flame.") {
		t.Errorf("the generated index page:\n%s", index)
	}
	// An answer that streams in shows as the Markdown it will be: no raw
	// marks, and nothing of it parsed as HTML.
	draft := waitFor[string](t, b, "the streaming draft of an answer", `(async () => {
		const base = __lq('script[type=module]').src.replace(/app\.js$/, '');
		const m = await import(base + 'messages.js');
		return m.draft("**Trim** the wick, *then* run `+"`lantern --on`"+`:\n\n- first <img src=x onerror=alert(1)>\n- second\n\n`+"```sh\\nlantern --on\\n\\nlantern --dim\\n```"+`\n\nAnd **unclosed").map(n => n.outerHTML).join('');
	})()`)
	want := "<p><strong>Trim</strong> the wick, <em>then</em> run <code>lantern --on</code>:</p>" +
		"<ul><li>first &lt;img src=x onerror=alert(1)&gt;</li><li>second</li></ul>" +
		"<pre><code>lantern --on\n\nlantern --dim</code></pre><p>And **unclosed</p>"
	if draft != want {
		t.Errorf("draft\n%s\nwant\n%s", draft, want)
	}
	external := eval[string](t, b, "read the sidebar's link", `(() => { const a = [...__lqa('nav.sidebar a')].find(a => a.textContent === 'Lantern makers'); return a ? a.href + ' ' + a.rel : ''; })()`)
	if external != "https://lantern.example/makers noopener noreferrer" {
		t.Errorf("the sidebar's link to another site: %q", external)
	}
	if errs := b.errorsSince(mark); len(errs) > 0 {
		t.Errorf("console:\n  %s", strings.Join(errs, "\n  "))
	}
}

// TestBrowserSuggestedQuestions: an empty conversation offers questions
// drawn from the page's headings, which ask when clicked; the account page
// has the Ask button too.
func TestBrowserSuggestedQuestions(t *testing.T) {
	e := newBrowserEnv(t)
	b := newTab(t, e.browser)
	b.signUpByAPI(t, e.base, newEmail("suggest"), browserPassword)
	b.navigate(t, e.base+docPath)
	headings := eval[[]string](t, b, "read the page's headings", `[...document.querySelectorAll('article.doc h2, article.doc h3')].map(h => h.textContent.trim())`)
	b.openPanel(t)
	got := waitFor[[]string](t, b, "the suggested questions", `(() => { const q = __lqa('.chat-suggestions button').map(b => b.textContent); return q.length ? q : null; })()`)
	if len(got) != min(3, len(headings)) {
		t.Fatalf("%d suggestions %q for the headings %q", len(got), got, headings)
	}
	for i, q := range got {
		if !strings.Contains(q, headings[i]) {
			t.Errorf("suggestion %q is not about the heading %q", q, headings[i])
		}
	}
	b.click(t, "the first suggestion", ".chat-suggestions button")
	a := b.waitAnswer(t, "the answer to the suggestion", 0)
	if len(a.Sources) == 0 {
		t.Errorf("the suggested question got no sources: %.300s", a.Body)
	}
	if eval[bool](t, b, "look for the suggestions", visibleExpr(".chat-suggestions button")) {
		t.Error("the suggestions stay once the conversation has begun")
	}
	b.navigate(t, e.base+"/account")
	b.waitVisible(t, "the Ask button on the account page", "#chat-toggle")
}

// TestBrowserPanelMakesRoom: on a desktop the open panel narrows the
// article instead of covering it, and close gives the room back; following
// a source keeps the panel open on the cited page with the cited heading
// in view beside it (marked for a moment); on a phone the sheet then only
// peeks, below the cited heading, and rises when the reader turns to it.
func TestBrowserPanelMakesRoom(t *testing.T) {
	e := newBrowserEnv(t)
	boxes := `(() => { const m = document.querySelector('main').getBoundingClientRect(), p = __lq('#chat-panel');
		const r = p && !p.hidden ? p.getBoundingClientRect() : null;
		const h = location.hash ? document.getElementById(decodeURIComponent(location.hash.slice(1))) : null;
		const hr = h ? h.getBoundingClientRect() : null;
		return {MainRight: m.right, PanelLeft: r ? r.left : 0, PanelTop: r ? r.top : 0, PanelHeight: r ? r.height : 0,
			TargetLeft: hr ? hr.left : -1, TargetRight: hr ? hr.right : -1, TargetTop: hr ? hr.top : -1, TargetBottom: hr ? hr.bottom : -1,
			Width: innerWidth, Height: innerHeight, Marked: h ? getComputedStyle(h).animationName : ''}; })()`
	type geometry struct {
		MainRight, PanelLeft, PanelTop, PanelHeight             float64
		TargetLeft, TargetRight, TargetTop, TargetBottom, Width float64
		Height                                                  float64
		Marked                                                  string
	}
	followSource := func(t *testing.T, b *tab) {
		t.Helper()
		b.ask(t, question)
		b.do(t, "follow the last answer's first source", chromedp.Click(chromedp.JSPath(
			`[...__lqa('#chat-messages .message.assistant')].at(-1).querySelector('ol.sources li a[href*="#"]')`)))
		waitFor[bool](t, b, "the cited page loaded, the panel open again", `!!location.hash && document.readyState === 'complete' &&
			__lq('#chat-toggle')?.getAttribute('aria-expanded') === 'true'`)
	}
	t.Run("desktop", func(t *testing.T) {
		b := newTab(t, e.browser)
		b.do(t, "set a desktop viewport", chromedp.EmulateViewport(1280, 800))
		b.signUpByAPI(t, e.base, newEmail("room"), browserPassword)
		b.navigate(t, e.base+"/search?q=leap") // the sources are other pages: following one loads it
		closed := eval[geometry](t, b, "measure with the panel closed", boxes)
		b.openPanel(t)
		open := waitFor[geometry](t, b, "the article makes room", `(() => { const g = `+boxes+`; return g.MainRight <= g.PanelLeft + 1 ? g : null; })()`)
		if open.MainRight >= closed.MainRight && closed.MainRight > open.PanelLeft+1 {
			t.Errorf("the article was not narrowed: right edge %.0f, panel from %.0f", open.MainRight, open.PanelLeft)
		}
		followSource(t, b)
		g := waitFor[geometry](t, b, "the cited heading beside the panel", `(() => { const g = `+boxes+`;
			return g.TargetTop >= 0 && g.TargetBottom <= g.Height && g.TargetRight <= g.PanelLeft + 1 && g.MainRight <= g.PanelLeft + 1 ? g : null; })()`)
		if g.Marked != "cited" {
			t.Errorf("the cited heading is not marked (animation %q)", g.Marked)
		}
		b.click(t, "close the panel", "button.chat-close, #chat-panel [aria-label='Close the assistant']")
		waitFor[bool](t, b, "the article has its room back", `(() => { const g = `+boxes+`; return g.PanelHeight === 0 && g.MainRight > `+fmt.Sprint(open.PanelLeft+1)+`; })()`)
	})
	t.Run("phone", func(t *testing.T) {
		b := newTab(t, e.browser)
		b.do(t, "set a phone viewport", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(1), chromedp.EmulateMobile, chromedp.EmulatePortrait))
		b.signUpByAPI(t, e.base, newEmail("peek"), browserPassword)
		b.navigate(t, e.base+docPath)
		followSource(t, b)
		g := waitFor[geometry](t, b, "the sheet peeks below the cited heading", `(() => { const g = `+boxes+`;
			return g.PanelHeight > 0 && g.PanelHeight <= g.Height * 0.4 && g.TargetTop >= 0 && g.TargetBottom <= g.PanelTop ? g : null; })()`)
		_ = g
		b.click(t, "turn to the sheet", "#chat-input")
		waitFor[bool](t, b, "the sheet rises", `(() => { const g = `+boxes+`; return g.PanelHeight > g.Height * 0.5; })()`)
	})
}

// TestBrowserContentsDrawer: on a phone the contents wait behind a button,
// so that a page starts with its title; the drawer opens with the focus in
// it and closes with Escape, giving the focus back. On a desktop the
// contents stay in their column.
func TestBrowserContentsDrawer(t *testing.T) {
	e := newBrowserEnv(t)
	b := newTab(t, e.browser)
	b.do(t, "set a phone viewport", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(1), chromedp.EmulateMobile, chromedp.EmulatePortrait))
	b.navigate(t, e.base+docPath)
	b.waitVisible(t, "the contents button", "#toc-toggle")
	if eval[bool](t, b, "look for the contents", visibleExpr("#toc")) {
		t.Error("the contents are shown above the page on a phone")
	}
	top := eval[float64](t, b, "where the title is", `document.querySelector('main h1').getBoundingClientRect().top`)
	if top > 250 { // the header and the chapter line; the contents took some 340 px more
		t.Errorf("the page's title starts %.0f px down, want it near the top", top)
	}
	b.click(t, "open the contents", "#toc-toggle")
	b.waitVisible(t, "the contents drawer", "#toc")
	waitFor[bool](t, b, "the focus in the drawer", `document.getElementById('toc').contains(document.activeElement) &&
		document.getElementById('toc-toggle').getAttribute('aria-expanded') === 'true'`)
	b.do(t, "press Escape", chromedp.KeyEvent(kb.Escape))
	waitFor[bool](t, b, "the drawer closed, the focus back on its button", `!document.getElementById('toc').classList.contains('open') &&
		document.activeElement === document.getElementById('toc-toggle')`)

	desk := newTab(t, e.browser)
	desk.do(t, "set a desktop viewport", chromedp.EmulateViewport(1280, 800))
	desk.navigate(t, e.base+docPath)
	desk.waitVisible(t, "the contents in their column", "#toc")
	if eval[bool](t, desk, "look for the contents button", visibleExpr("#toc-toggle")) {
		t.Error("the contents button shows on a desktop")
	}
}

// askByAPI asks the assistant from inside the page as the signed-in reader,
// from the book's page at page, and returns the answer's message id.
func (b *tab) askByAPI(t *testing.T, q, page string) string {
	t.Helper()
	var r struct {
		Status int
		ID     string
	}
	raw := eval[[]byte](t, b, "ask "+js(q), `(async () => {
		const tok = await fetch('/api/auth/token', {credentials: 'include'}).then(r => r.json());
		const r = await fetch('/api/agents/run', {method: 'POST', headers: {Authorization: 'Bearer ' + tok.token, 'Content-Type': 'application/json'},
			body: JSON.stringify({query: `+js(q)+`, current_page: `+js(page)+`})});
		const body = await r.json();
		return {status: r.status, id: body.message_id || ''};
	})()`)
	if err := json.Unmarshal(raw, &r); err != nil || r.Status != 200 || r.ID == "" {
		t.Fatalf("asking %q: %s", q, raw)
	}
	return r.ID
}

// TestBrowserInsights: the book's owner opens /insights and sees the
// question the book did not cover that a reader just asked, without the
// reader's name or email; follows a page link into the book; downloads the
// table as CSV. A reader who is not an owner finds no such page.
func TestBrowserInsights(t *testing.T) {
	e := newBrowserEnv(t)
	browser, base, password := e.browser, e.base, browserPassword
	const notCovered = "How long should sourdough bread rise before baking?"
	readers := []struct{ name, email string }{{"Ada Lovelace", newEmail("insights-ada")}, {"Bo Reader", newEmail("insights-bo")}}

	// Readers' history: questions from the book's page, a paraphrase the
	// book does not cover either, and an answer rated down.
	other := newTab(t, browser)
	other.signUpAs(t, base, readers[1].name, readers[1].email, password)
	other.askByAPI(t, question, docPath)
	other.askByAPI(t, "What is UTC?", docPath)
	other.askByAPI(t, "How long must sourdough bread rise before it is baked?", docPath)
	down := other.askByAPI(t, "Who decides when a leap second is added?", docPath)
	if status := eval[int](t, other, "rate the answer down", `(async () => {
		const tok = await fetch('/api/auth/token', {credentials: 'include'}).then(r => r.json());
		return (await fetch('/api/messages/`+down+`/feedback', {method: 'POST',
			headers: {Authorization: 'Bearer ' + tok.token, 'Content-Type': 'application/json'},
			body: JSON.stringify({rating: 'down', comment: 'not the body that decides'})})).status;
	})()`); status != 200 {
		t.Fatalf("rating down answered %d", status)
	}

	// A reader asks, in the panel, what the book does not cover.
	reader := newTab(t, browser)
	reader.signUpAs(t, base, readers[0].name, readers[0].email, password)
	reader.navigate(t, base+docPath)
	if a := reader.ask(t, notCovered); !strings.Contains(a.Body, "couldn't find") {
		t.Fatalf("the book answered %q: %q; the test needs a question it does not cover", notCovered, a.Body)
	}
	reader.navigate(t, base+"/insights")
	waitFor[bool](t, reader, "a reader gets the page of an unknown address", `document.title.startsWith('Not found')`)

	owner := newTab(t, browser)
	owner.signUpAs(t, base, "The Author", bookOwner, password)
	owner.navigate(t, base+"/insights")
	waitFor[bool](t, owner, "the owner sees the question the book did not cover",
		in(`return [...document.querySelectorAll('table.groups li')].some(li => li.textContent === `+js(notCovered)+`);`))
	text := eval[string](t, owner, "read the page", `document.documentElement.outerHTML`)
	for _, r := range readers {
		for _, id := range []string{r.name, r.email} {
			if strings.Contains(text, id) {
				t.Errorf("the owner's page names a reader: %q", id)
			}
		}
	}
	if !strings.Contains(text, "not the body that decides") || !strings.Contains(text, "Who decides when a leap second is added?") {
		t.Error("the owner's page does not show the answer rated down with its comment")
	}
	if n := eval[int](t, owner, "count the chart's bars", `document.querySelectorAll('figure.chart svg rect.q').length`); n != 30 {
		t.Errorf("the chart has %d bars, want one a day of the last 30", n)
	}
	if desc := eval[string](t, owner, "read the chart's text alternative", `__lq('figure.chart svg desc').textContent`); !strings.Contains(desc, "5 questions") {
		t.Errorf("the chart's text alternative: %q, want it to count the 5 questions", desc)
	}

	// The CSV, as the download link fetches it with the owner's cookie.
	var csv struct {
		Status                  int
		Type, Disposition, Body string
	}
	raw := eval[[]byte](t, owner, "download the CSV", `(async () => {
		const a = [...document.querySelectorAll('a[download]')].find(a => a.textContent === 'CSV' && a.href.includes('/insights/not-covered.csv'));
		const r = await fetch(a.href, {credentials: 'include'});
		return {status: r.status, type: r.headers.get('Content-Type'), disposition: r.headers.get('Content-Disposition'), body: await r.text()};
	})()`)
	json.Unmarshal(raw, &csv)
	if csv.Status != 200 || !strings.HasPrefix(csv.Type, "text/csv") || !strings.Contains(csv.Disposition, "attachment") ||
		!strings.Contains(csv.Body, notCovered) || strings.Contains(csv.Body, readers[0].email) {
		t.Errorf("the CSV download: %d %q %q\n%s", csv.Status, csv.Type, csv.Disposition, csv.Body)
	}

	// A page link leads into the book.
	owner.click(t, "follow the page readers asked from", `table a[href="`+docPath+`"]`)
	waitFor[bool](t, owner, "the book's page opens", `location.pathname === `+js(docPath)+` && !!document.querySelector('article.doc')`)

	// Screenshots of the owner's page, for the README.
	dir := screenshotDir(t)
	for _, vp := range []struct {
		name          string
		width, height int64
		mobile        bool
	}{{"desktop", 1280, 1400, false}, {"phone", 390, 1600, true}} {
		opts := []chromedp.EmulateViewportOption{chromedp.EmulateScale(1)}
		if vp.mobile {
			opts = append(opts, chromedp.EmulateMobile, chromedp.EmulatePortrait)
		}
		owner.do(t, "set the viewport", chromedp.EmulateViewport(vp.width, vp.height, opts...))
		owner.navigate(t, base+"/insights")
		owner.waitVisible(t, "the chart", "figure.chart svg")
		ctx, cancel := context.WithTimeout(owner.ctx, stepTimeout)
		png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
		cancel()
		if err != nil {
			t.Fatalf("screenshot: %v", err)
		}
		if err := os.WriteFile(filepath.Join(dir, vp.name+"-insights.png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
