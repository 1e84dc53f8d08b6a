package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// docusaurusSite is the small Docusaurus site of our own that the plugin's
// end-to-end test builds; Lectern serves the same site as its book.
var docusaurusSite = filepath.Join("..", "..", "integrations", "docusaurus", "testdata", "site")

// buildDocusaurus builds the test site with the plugin pointing at lectern
// (npm ci first when its packages are not installed) into a temporary
// folder. Without Node it skips, unless LECTERN_TEST_DOCUSAURUS=require (as
// CI sets it).
func buildDocusaurus(t *testing.T, lectern string) string {
	t.Helper()
	if testing.Short() && os.Getenv("LECTERN_TEST_DOCUSAURUS") != "require" {
		t.Skip("-short leaves the Docusaurus build out")
	}
	if _, err := exec.LookPath("npm"); err != nil {
		if os.Getenv("LECTERN_TEST_DOCUSAURUS") == "require" {
			t.Fatal("LECTERN_TEST_DOCUSAURUS=require but npm is not installed")
		}
		t.Skip("no npm; set LECTERN_TEST_DOCUSAURUS=require to make this a failure")
	}
	site, err := filepath.Abs(docusaurusSite)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	run := func(name string, args ...string) {
		cmd := exec.CommandContext(ctx, name, args...)
		cmd.Dir = site
		cmd.Env = append(os.Environ(), "LECTERN_URL="+lectern, "DOCUSAURUS_IGNORE_SSG_WARNINGS=true")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
		}
	}
	if _, err := os.Stat(filepath.Join(site, "node_modules", "@docusaurus", "core")); err != nil {
		cached := moduleCache(t, site)
		if cached == "" || linkTree(cached, filepath.Join(site, "node_modules")) != nil {
			os.RemoveAll(filepath.Join(site, "node_modules"))
			run("npm", "ci", "--no-audit", "--no-fund", "--loglevel=error")
			if cached != "" {
				keepModules(filepath.Join(site, "node_modules"), cached)
			}
		}
	}
	out := t.TempDir()
	run("npx", "docusaurus", "build", "--out-dir", out)
	return out
}

// moduleCache returns where the site's installed packages are kept for
// the next clone of the repository, as Go keeps its modules: a folder under
// the user's cache named for the lock file and the Node version, or "" when
// there is no cache folder. Installing them takes longer than the build.
func moduleCache(t *testing.T, site string) string {
	dir, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	lock, err := os.ReadFile(filepath.Join(site, "package-lock.json"))
	if err != nil {
		t.Fatal(err)
	}
	node, err := exec.Command("node", "--version").Output()
	if err != nil {
		return ""
	}
	sum := sha256.Sum256(append(lock, node...))
	return filepath.Join(dir, "lectern", "docusaurus-modules", hex.EncodeToString(sum[:12]))
}

// keepModules links the freshly installed packages into the cache; a
// concurrent test that kept them first wins, and a failure only means the
// next run installs them again.
func keepModules(installed, cached string) {
	tmp := cached + ".tmp-" + strconv.Itoa(os.Getpid())
	if err := linkTree(installed, tmp); err == nil {
		if os.Rename(tmp, cached) == nil {
			return
		}
	}
	os.RemoveAll(tmp)
}

// linkTree recreates the tree at src at dst, hard-linking its files (the
// packages are never written to after they are installed) and copying its
// symbolic links as they are, so that the relative link to the plugin
// points into the repository that dst is in.
func linkTree(src, dst string) error {
	if _, err := os.Stat(filepath.Join(src, "@docusaurus", "core")); err != nil {
		return err
	}
	return filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		to := filepath.Join(dst, rel)
		switch {
		case d.Type()&fs.ModeSymlink != 0:
			target, err := os.Readlink(path)
			if err != nil {
				return err
			}
			return os.Symlink(target, to)
		case d.IsDir():
			if rel == ".cache" {
				return filepath.SkipDir // the build's own cache stays with its clone
			}
			return os.MkdirAll(to, 0o755)
		default:
			return os.Link(path, to)
		}
	})
}

// TestDocusaurusPlugin builds a real Docusaurus 3 site with
// docusaurus-plugin-lectern, serves it on one loopback port and Lectern
// (with the same site as its book) on another, and checks in Chromium what
// a reader of the site meets: the assistant's colours follow the site's
// theme both ways; none of its ids or classes are in the site's DOM; a
// guest signs up through the gate and comes back to the same page; a
// question asked after client-side navigation carries the new page; its
// citations open the site's page at the heading; Summarize on a selection
// summarizes the selection; a wrong origin is told it cannot reach
// Lectern. With LECTERN_SCREENSHOTS set, it saves the screenshots of the
// plugin's README.
func TestDocusaurusPlugin(t *testing.T) {
	browser := newBrowser(t)
	siteAddr := freeAddr(t)
	siteURL := "http://" + siteAddr
	book, err := filepath.Abs(docusaurusSite)
	if err != nil {
		t.Fatal(err)
	}
	base, _, _ := startServe(t, map[string]string{
		"LECTERN_SECRET":          strings.Repeat("d", 40),
		"LECTERN_BOOK":            book,
		"LECTERN_AUTH_RATE_LIMIT": "off",
		"LECTERN_CORS_ORIGINS":    siteURL,
		"LECTERN_TRUSTED_ORIGINS": siteURL,
	})
	build := buildDocusaurus(t, base)
	ln, err := net.Listen("tcp", siteAddr)
	if err != nil {
		t.Fatal(err)
	}
	site := &http.Server{Handler: http.FileServer(http.Dir(build)), ReadHeaderTimeout: 10 * time.Second}
	go site.Serve(ln)
	t.Cleanup(func() { site.Close() })

	const page = "/hive/frames"
	const question = "How much space should be left between frames?"
	t.Run("a guest signs up through the gate and comes back to the page", func(t *testing.T) {
		b := newTab(t, browser)
		b.navigate(t, siteURL+page)
		b.signUpThroughGate(t, "Site Reader", newEmail("docusaurus"))
		back := waitFor[string](t, b, "back on the site's page", `location.origin === `+js(siteURL)+` ? location.pathname : null`)
		if strings.TrimSuffix(back, "/") != page {
			t.Errorf("after signing up the reader is on %q, want %q", back, page)
		}
	})
	t.Run("the assistant keeps apart from the site and follows its theme", func(t *testing.T) {
		b := newTab(t, browser)
		b.signUpByAPI(t, base, newEmail("theme"), browserPassword)
		b.navigate(t, siteURL+page)
		b.ask(t, question)
		if n := eval[int](t, b, "look for the assistant in the site's document",
			`document.querySelectorAll('[id^="chat"], [class*="chat-"], .message, .sources, .typing, .lectern-widget').length`); n != 0 {
			t.Errorf("%d of the assistant's elements are in the site's document", n)
		}
		for _, theme := range []string{"dark", "light", "dark"} {
			waitFor[string](t, b, "the panel follows the site's data-theme="+theme, `(() => {
				document.documentElement.setAttribute('data-theme', `+js(theme)+`);
				const c = getComputedStyle(__lq('#chat-panel')).backgroundColor;
				const v = c.match(/\d+/g).slice(0, 3).map(Number).reduce((a, b) => a + b) / 3;
				return (`+js(theme)+` === 'dark' ? v < 80 : v > 200) ? c : null; })()`)
		}
	})
	t.Run("citations open the site's page at the heading", func(t *testing.T) {
		b := newTab(t, browser)
		b.signUpByAPI(t, base, newEmail("cite"), browserPassword)
		b.navigate(t, siteURL+page)
		a := b.ask(t, question)
		var cited string
		for _, s := range a.Sources {
			if strings.Contains(s, "#spacing-the-frames") {
				cited = s
			}
		}
		if cited != siteURL+page+"#spacing-the-frames" {
			t.Fatalf("sources %q, want %s", a.Sources, siteURL+page+"#spacing-the-frames")
		}
		b.click(t, "follow the citation", `ol.sources a[href$="#spacing-the-frames"]`)
		waitFor[bool](t, b, "the site's page at the heading", `location.pathname.replace(/\/$/, '') === `+js(page)+
			` && location.hash === '#spacing-the-frames' && !!document.getElementById('spacing-the-frames')`)
	})
	t.Run("a question after client-side navigation carries the new page", func(t *testing.T) {
		b := newTab(t, browser)
		b.signUpByAPI(t, base, newEmail("spa"), browserPassword)
		b.navigate(t, siteURL+page)
		b.waitVisible(t, "the assistant", "#chat-toggle")
		b.recordSent(t)
		b.click(t, "the sidebar's link to Smoke", `nav a[href="/hive/smoke"]`)
		waitFor[bool](t, b, "the site navigated without loading", `location.pathname.replace(/\/$/, '') === '/hive/smoke' && !!window.__sent`)
		b.ask(t, "Why does smoke calm the bees?")
		sent := b.sent(t)
		if !strings.Contains(sent, `"current_page":"/hive/smoke`) {
			t.Errorf("the question did not carry the page navigated to:\n%s", sent)
		}
	})
	t.Run("summarize on a selection summarizes the selection", func(t *testing.T) {
		b := newTab(t, browser)
		b.signUpByAPI(t, base, newEmail("summary"), browserPassword)
		b.navigate(t, siteURL+page)
		b.waitVisible(t, "the assistant", "#chat-toggle")
		b.recordSent(t)
		b.selectText(t, "article p")
		b.click(t, "Summarize", "#summarize-selection")
		b.waitAnswer(t, "the summary", 0)
		sent := b.sent(t)
		if !strings.Contains(sent, `"agent_type":"summarizer"`) || !strings.Contains(sent, `"highlighted_text":"A brood box holds ten frames.`) {
			t.Errorf("the summary was not asked of the selection:\n%s", sent)
		}
	})
	t.Run("a wrong origin is told it cannot reach Lectern", func(t *testing.T) {
		b := newTab(t, browser)
		b.navigate(t, strings.Replace(siteURL, "127.0.0.1", "localhost", 1)+page)
		b.openPanel(t)
		b.waitVisible(t, "the message that Lectern cannot be reached", "#chat-unreachable")
	})
	if dir := os.Getenv("LECTERN_SCREENSHOTS"); dir != "" {
		shootDocusaurus(t, browser, base, siteURL+page, question)
	}
}

// shootDocusaurus saves the plugin README's screenshots: the site with an
// answer in the panel, light and dark, on a desktop and a phone.
func shootDocusaurus(t *testing.T, browser context.Context, base, url, question string) {
	dir := filepath.Join("..", "..", "integrations", "docusaurus", "screenshots")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, size := range []struct {
		name          string
		width, height int64
		mobile        bool
	}{{"desktop", 1280, 800, false}, {"phone", 390, 844, true}} {
		for _, theme := range []string{"light", "dark"} {
			b := newTab(t, browser)
			opts := []chromedp.EmulateViewportOption{chromedp.EmulateScale(1)}
			if size.mobile {
				opts = append(opts, chromedp.EmulateMobile, chromedp.EmulatePortrait)
			}
			b.do(t, "size the page", chromedp.EmulateViewport(size.width, size.height, opts...))
			b.signUpByAPI(t, base, newEmail("shot"), browserPassword)
			b.navigate(t, url)
			eval[bool](t, b, "set the site's theme", `(() => { localStorage.setItem('theme', `+js(theme)+`);
				document.documentElement.setAttribute('data-theme', `+js(theme)+`); return true; })()`)
			b.ask(t, question)
			ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
			png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
			cancel()
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, size.name+"-"+theme+".png"), png, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}
