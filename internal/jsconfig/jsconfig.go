// Package jsconfig evaluates a site's configuration module (a Docusaurus
// sidebars.ts or docusaurus.config.js) into plain values, the way the
// site's own build would see them, without Node.
//
// The module and the site files it imports are bundled with esbuild (which
// strips TypeScript and turns ESM into CommonJS) and run in goja, an
// ECMAScript engine written in Go. The engine has no file system, network
// or process access: every package the module imports (react, fs,
// @docusaurus/…) is a stub that accepts any use and does nothing, and the
// modules that start processes or open connections refuse to load. A run
// is bounded in time, heap growth and stack depth, and stopped with an
// error saying why when it goes beyond them.
//
// One JavaScript operation ("new Array(2**31).fill(0)") can allocate more
// than any check between operations can stop, so a server runs the engine
// in a child process of its own (Process) with its address space capped;
// InProcess is for code the caller trusts, such as tests.
package jsconfig

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"runtime/metrics"
	"strings"
	"sync"
	"time"

	"github.com/dop251/goja"
	"github.com/evanw/esbuild/pkg/api"
)

// Limits bound one evaluation.
type Limits struct {
	Timeout     time.Duration // wall time for bundling and running
	MaxHeap     uint64        // heap growth while running, in bytes
	MaxFile     int64         // one source file, in bytes
	MaxFiles    int           // source files in the bundle
	MaxResult   int           // the result as JSON, in bytes
	MaxCallDeep int           // JavaScript call stack depth
	MaxMemory   uint64        // a child process's address space, in bytes
}

// DefaultLimits suit a configuration file: they are far above what a real
// site needs and far below what would hurt the server.
func DefaultLimits() Limits {
	return Limits{
		Timeout: 2 * time.Second, MaxHeap: 256 << 20, MaxFile: 1 << 20, MaxFiles: 64,
		MaxResult: 4 << 20, MaxCallDeep: 2000, MaxMemory: 2 << 30,
	}
}

// Errors say why an evaluation stopped.
var (
	ErrTimeout = errors.New("jsconfig: took too long")
	ErrMemory  = errors.New("jsconfig: used too much memory")
)

// Object is a JavaScript object with its keys in their order, which
// Go's maps would lose and a sidebar's order depends on.
type Object struct {
	Keys   []string
	Values map[string]any // nil, bool, float64, string, []any or *Object
}

// Get is the value of key, nil if absent.
func (o *Object) Get(key string) any {
	if o == nil {
		return nil
	}
	return o.Values[key]
}

// String is the string value of key, "" if absent or not a string.
func (o *Object) String(key string) string {
	s, _ := o.Get(key).(string)
	return s
}

// Runner runs a bundled module and returns its export as JSON.
type Runner interface {
	Run(ctx context.Context, name, code string, lim Limits) (string, error)
}

// InProcess runs the engine in this process: bounded in time, stack and
// heap growth, but not against one huge allocation.
type InProcess struct{}

// Run implements Runner.
func (InProcess) Run(ctx context.Context, name, code string, lim Limits) (string, error) {
	return run(ctx, code, name, lim)
}

// Eval evaluates the module at name in fsys with r (InProcess if nil) and
// returns its export (the default export of an ES module) as JSON would
// carry it: nil, bool, float64, string, []any or *Object. An export that
// is a function is called with no arguments, and a promise is awaited, as
// Docusaurus does with a config that exports a function.
func Eval(ctx context.Context, fsys fs.FS, name string, lim Limits, r Runner) (any, error) {
	ctx, cancel := context.WithTimeout(ctx, lim.Timeout)
	defer cancel()
	code, err := bundle(fsys, name, lim)
	if err != nil {
		return nil, err
	}
	if r == nil {
		r = InProcess{}
	}
	out, err := r.Run(ctx, name, code, lim)
	if err != nil {
		return nil, err
	}
	if len(out) > lim.MaxResult {
		return nil, fmt.Errorf("jsconfig: %s: its export is larger than %d KiB", name, lim.MaxResult>>10)
	}
	return decode(out)
}

// bundle makes one CommonJS script of the module and the site files it
// imports; packages stay imports, for the stub.
func bundle(fsys fs.FS, name string, lim Limits) (string, error) {
	// esbuild calls the plugin from several goroutines.
	var mu sync.Mutex
	files := 0
	var readErr error
	site := api.Plugin{Name: "site", Setup: func(b api.PluginBuild) {
		b.OnResolve(api.OnResolveOptions{Filter: ".*"}, func(a api.OnResolveArgs) (api.OnResolveResult, error) {
			var p string
			switch {
			case a.Kind == api.ResolveJSRequireResolve:
				return api.OnResolveResult{Path: a.Path, External: true}, nil
			case a.Kind == api.ResolveEntryPoint:
				p = a.Path
			case strings.HasPrefix(a.Path, "@site/"):
				p = strings.TrimPrefix(a.Path, "@site/")
			case strings.HasPrefix(a.Path, "./") || strings.HasPrefix(a.Path, "../"):
				p = path.Join(path.Dir(a.Importer), a.Path)
			default:
				return api.OnResolveResult{Path: a.Path, External: true}, nil
			}
			found, ok := resolve(fsys, path.Clean(p))
			if !ok {
				return api.OnResolveResult{}, fmt.Errorf("%s: no such file in the site", a.Path)
			}
			return api.OnResolveResult{Path: found, Namespace: "site"}, nil
		})
		b.OnLoad(api.OnLoadOptions{Filter: ".*", Namespace: "site"}, func(a api.OnLoadArgs) (api.OnLoadResult, error) {
			mu.Lock()
			files++
			tooMany := files > lim.MaxFiles
			mu.Unlock()
			if tooMany {
				err := fmt.Errorf("jsconfig: imports more than %d files", lim.MaxFiles)
				mu.Lock()
				readErr = err
				mu.Unlock()
				return api.OnLoadResult{}, err
			}
			src, err := readLimited(fsys, a.Path, lim.MaxFile)
			if err != nil {
				mu.Lock()
				readErr = err
				mu.Unlock()
				return api.OnLoadResult{}, err
			}
			return api.OnLoadResult{Contents: &src, Loader: loaderFor(a.Path), ResolveDir: path.Dir(a.Path)}, nil
		})
	}}
	res := api.Build(api.BuildOptions{
		EntryPoints: []string{name},
		Bundle:      true,
		Write:       false,
		Format:      api.FormatCommonJS,
		Platform:    api.PlatformNeutral,
		Target:      api.ES2017,
		// goja has no import(): the packages a config imports that way
		// (await import('rehype-katex')) become require(), so the stub.
		Supported: map[string]bool{"dynamic-import": false},
		Plugins:   []api.Plugin{site},
		LogLevel:  api.LogLevelSilent,
		Outfile:   "out.js",
	})
	if readErr != nil {
		return "", readErr
	}
	if len(res.Errors) > 0 {
		m := res.Errors[0]
		where := ""
		if m.Location != nil {
			where = fmt.Sprintf("%s:%d: ", m.Location.File, m.Location.Line)
		}
		return "", fmt.Errorf("jsconfig: %s%s", strings.TrimPrefix(where, "site:"), m.Text)
	}
	if len(res.OutputFiles) == 0 {
		return "", errors.New("jsconfig: nothing was built")
	}
	return string(res.OutputFiles[0].Contents), nil
}

// resolve finds the file an import names, trying the extensions and index
// files a bundler would.
func resolve(fsys fs.FS, p string) (string, bool) {
	if !fs.ValidPath(p) {
		return "", false
	}
	for _, suffix := range []string{"", ".ts", ".tsx", ".js", ".mjs", ".cjs", ".json", "/index.ts", "/index.js"} {
		if fi, err := fs.Stat(fsys, p+suffix); err == nil && fi.Mode().IsRegular() {
			return p + suffix, true
		}
	}
	return "", false
}

func loaderFor(p string) api.Loader {
	switch strings.ToLower(path.Ext(p)) {
	case ".ts", ".mts", ".cts":
		return api.LoaderTS
	case ".tsx":
		return api.LoaderTSX
	case ".js", ".mjs", ".cjs":
		return api.LoaderJS
	case ".jsx":
		return api.LoaderJSX
	case ".json":
		return api.LoaderJSON
	default:
		return api.LoaderEmpty // styles, images: nothing a configuration reads
	}
}

func readLimited(fsys fs.FS, name string, max int64) (string, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return "", fmt.Errorf("jsconfig: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return "", fmt.Errorf("jsconfig: %s: %w", name, err)
	}
	if int64(len(b)) > max {
		return "", fmt.Errorf("jsconfig: %s is larger than %d KiB", name, max>>10)
	}
	return string(b), nil
}

// prelude gives the script what a CommonJS module expects, with stubs
// for packages: a stub is any function, object and value at once, so that
// configuration code that builds plugin options from packages runs on.
// Node's path module is there for real (configurations join paths); the
// modules that start processes or open connections refuse to load, so a
// configuration that would use them stops with a reason.
const prelude = `
var __stub = (function () {
  var handler = {
    get: function (t, k) {
      if (k === 'prototype') return t.prototype; // the target's own, which a proxy must report as is
      if (k === Symbol.toPrimitive) return function () { return ''; };
      if (k === 'toString' || k === 'valueOf') return function () { return ''; };
      if (k === 'then') return undefined;
      if (k === '__esModule') return true;
      if (k === 'length') return 0;
      if (k === Symbol.iterator) return function () { return [][Symbol.iterator](); };
      if (typeof k === 'symbol') return undefined;
      return stub;
    },
    apply: function () { return stub; },
    construct: function () { return stub; },
    has: function (t, k) { return k in t; },
    ownKeys: function (t) { return Reflect.ownKeys(t); },
    getOwnPropertyDescriptor: function (t, k) { return Reflect.getOwnPropertyDescriptor(t, k); },
    set: function () { return true; }
  };
  var stub = new Proxy(function () {}, handler);
  return stub;
})();
var module = {exports: {}};
var exports = module.exports;
var __path = {
  sep: '/',
  join: function () { return __path.normalize(Array.prototype.join.call(arguments, '/')); },
  resolve: function () {
    var p = '';
    for (var i = 0; i < arguments.length; i++) { var a = String(arguments[i]); p = a.charAt(0) === '/' ? a : p + '/' + a; }
    return __path.normalize(p.charAt(0) === '/' ? p : '/' + p);
  },
  normalize: function (p) {
    var abs = p.charAt(0) === '/', out = [];
    p.split('/').forEach(function (s) {
      if (s === '' || s === '.') return;
      if (s === '..' && out.length && out[out.length - 1] !== '..') out.pop(); else if (s !== '..' || !abs) out.push(s);
    });
    return (abs ? '/' : '') + out.join('/');
  },
  dirname: function (p) { var i = String(p).lastIndexOf('/'); return i <= 0 ? (i === 0 ? '/' : '.') : p.slice(0, i); },
  basename: function (p, ext) { var b = String(p).slice(String(p).lastIndexOf('/') + 1); return ext && b.slice(-ext.length) === ext ? b.slice(0, -ext.length) : b; },
  extname: function (p) { var b = __path.basename(p), i = b.lastIndexOf('.'); return i <= 0 ? '' : b.slice(i); }
};
var __refused = ['child_process', 'cluster', 'dgram', 'dns', 'http', 'http2', 'https', 'inspector', 'net', 'tls', 'vm', 'worker_threads'];
var require = function (name) {
  var bare = String(name).replace(/^node:/, '');
  if (bare === 'path' || bare === 'path/posix') return __path;
  if (__refused.indexOf(bare) >= 0) throw new Error('it requires ' + bare + ', which is never run here');
  return __stub;
};
require.resolve = function (name) { return String(name); };
var process = {env: {}, argv: [], platform: 'linux', versions: {node: '20.0.0'}, cwd: function () { return '/'; }};
var __dirname = '/', __filename = '/config.js';
var console = {log: function () {}, info: function () {}, warn: function () {}, error: function () {}, debug: function () {}};
`

// finish turns the export into JSON, calling a function export and
// awaiting a promise; the host reads the result through __done.
const finish = `
(function () {
  var e = module.exports;
  if (e && e.__esModule && 'default' in e) e = e['default'];
  if (typeof e === 'function') e = e();
  var json = function (v) { return v === undefined ? 'null' : JSON.stringify(v); };
  if (e && typeof e.then === 'function') {
    e.then(function (v) { __done(json(v)); }, function (err) { __fail(String(err)); });
  } else {
    __done(json(e));
  }
})();
`

// run executes the bundle and returns the export as JSON.
func run(ctx context.Context, code, name string, lim Limits) (out string, err error) {
	vm := goja.New()
	vm.SetMaxCallStackSize(lim.MaxCallDeep)
	var result *string
	var failure error
	if err := vm.Set("__done", func(s string) { result = &s }); err != nil {
		return "", err
	}
	if err := vm.Set("__fail", func(s string) { failure = fmt.Errorf("jsconfig: %s: the promise failed: %s", name, s) }); err != nil {
		return "", err
	}
	stop := watch(ctx, vm, lim.MaxHeap)
	defer func() {
		reason := stop()
		if p := recover(); p != nil {
			err = fmt.Errorf("jsconfig: %s: the engine failed: %v", name, p)
		}
		if reason != nil {
			err = fmt.Errorf("%w (%s)", reason, name)
		}
	}()
	if _, err := vm.RunScript(name, prelude+code+finish); err != nil {
		var deep *goja.StackOverflowError
		if errors.As(err, &deep) {
			return "", fmt.Errorf("jsconfig: %s: calls nested too deep (stack overflow)", name)
		}
		var ex *goja.Exception
		if errors.As(err, &ex) {
			return "", fmt.Errorf("jsconfig: %s: %s", name, firstLine(ex.Value().String()))
		}
		return "", fmt.Errorf("jsconfig: %s: %w", name, err)
	}
	if failure != nil {
		return "", failure
	}
	if result == nil {
		return "", fmt.Errorf("jsconfig: %s: its export never settled", name)
	}
	return *result, nil
}

// watch interrupts vm when ctx ends or the heap grows by more than
// maxHeap; stop ends the watch and says which, if either, happened.
func watch(ctx context.Context, vm *goja.Runtime, maxHeap uint64) (stop func() error) {
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	heap := func() uint64 {
		metrics.Read(sample)
		if sample[0].Value.Kind() != metrics.KindUint64 {
			return 0
		}
		return sample[0].Value.Uint64()
	}
	base := heap()
	done := make(chan struct{})
	reason := make(chan error, 1)
	go func() {
		t := time.NewTicker(2 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				reason <- nil
				return
			case <-ctx.Done():
				vm.Interrupt(ErrTimeout)
				reason <- ErrTimeout
				return
			case <-t.C:
				if h := heap(); h > base && h-base > maxHeap {
					vm.Interrupt(ErrMemory)
					reason <- ErrMemory
					return
				}
			}
		}
	}()
	return func() error {
		close(done)
		return <-reason
	}
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// decode reads JSON keeping the order of object keys.
func decode(s string) (any, error) {
	d := json.NewDecoder(strings.NewReader(s))
	d.UseNumber()
	v, err := decodeValue(d, 0)
	if err != nil {
		return nil, fmt.Errorf("jsconfig: the export: %w", err)
	}
	return v, nil
}

const maxDepth = 64

func decodeValue(d *json.Decoder, depth int) (any, error) {
	if depth > maxDepth {
		return nil, errors.New("nested too deep")
	}
	tok, err := d.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '[':
			list := []any{}
			for d.More() {
				v, err := decodeValue(d, depth+1)
				if err != nil {
					return nil, err
				}
				list = append(list, v)
			}
			_, err := d.Token()
			return list, err
		case '{':
			o := &Object{Values: map[string]any{}}
			for d.More() {
				k, err := d.Token()
				if err != nil {
					return nil, err
				}
				key, _ := k.(string)
				v, err := decodeValue(d, depth+1)
				if err != nil {
					return nil, err
				}
				if _, dup := o.Values[key]; !dup {
					o.Keys = append(o.Keys, key)
				}
				o.Values[key] = v
			}
			_, err := d.Token()
			return o, err
		}
		return nil, fmt.Errorf("unexpected %v", t)
	case json.Number:
		return t.Float64()
	default:
		return t, nil // nil, bool, string
	}
}
