// Package internal_test holds the rules that keep Lectern's layout true:
// which package may import which, and where HTTP belongs. See
// docs/architecture.md for the picture they describe.
package internal_test

import (
	"go/parser"
	"go/token"
	"io/fs"
	"maps"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/lectern/lectern/"

// layers lists every package of the module from the bottom up. A package
// may import packages of the layers below its own, never its own layer or
// one above: what is low knows nothing of what is built on it.
var layers = [][]string{
	// Foundations: each knows no other package of Lectern.
	{"internal/fault", "internal/randid", "internal/backoff", "internal/thesaurus", "internal/password",
		"internal/ratelimit", "internal/safehtml", "internal/retrieval", "internal/book/epub", "internal/metrics",
		"internal/jsconfig"},
	// Records and their contract; books; settings; clients of outside services.
	{"internal/store", "internal/book", "internal/llm", "internal/embeddings", "internal/config", "internal/loadtest"},
	// Storage engines and the services (no HTTP).
	{"internal/store/postgres", "internal/store/sqlite", "internal/store/pgtest", "internal/store/storetest",
		"internal/keys", "internal/account", "internal/chat", "internal/library", "internal/insights"},
	// Services built on services; HTTP plumbing shared by every server.
	{"internal/store/testdb", "internal/answer", "internal/quality", "internal/httpx"},
	{"internal/authn"},
	// The HTTP servers: the API, the identity service, the reader's pages.
	{"internal/api", "internal/identity", "internal/web"},
	// Commands, which wire everything together.
	{"cmd/lectern", "internal/thesaurus/gen"},
}

// noHTTP are the packages that must not import net/http: services say what
// went wrong with fault kinds and leave the wire to the servers.
var noHTTP = []string{
	"internal/fault", "internal/randid", "internal/thesaurus", "internal/password", "internal/ratelimit",
	"internal/retrieval", "internal/book", "internal/book/epub", "internal/store", "internal/store/postgres",
	"internal/store/sqlite", "internal/keys", "internal/account", "internal/chat", "internal/library", "internal/answer",
	"internal/quality", "internal/config", "internal/jsconfig", "internal/insights",
}

// httpxMay is all that the shared HTTP plumbing may import of Lectern: it
// maps fault kinds to responses and must not know any store or service.
var httpxMay = []string{"internal/fault", "internal/randid"}

func TestLayout(t *testing.T) {
	imports := map[string][]string{}
	for _, dir := range []string{"internal", "cmd"} {
		maps.Copy(imports, readImports(t, "..", dir))
	}
	layer := map[string]int{}
	for i, l := range layers {
		for _, p := range l {
			layer[p] = i
		}
	}
	for pkg := range imports {
		if _, ok := layer[pkg]; !ok {
			t.Errorf("package %s is in no layer: add it to layers in internal/layout_test.go", pkg)
		}
	}
	for pkg, imps := range imports {
		for _, imp := range imps {
			own, ok := strings.CutPrefix(imp, module)
			switch {
			case imp == "net/http" && slices.Contains(noHTTP, pkg):
				t.Errorf("%s imports net/http: a service speaks in fault kinds, the servers speak HTTP", pkg)
			case !ok:
			case pkg == "internal/httpx" && !slices.Contains(httpxMay, own):
				t.Errorf("internal/httpx imports %s: it may import only %v", own, httpxMay)
			case layer[own] >= layer[pkg]:
				t.Errorf("%s (layer %d) imports %s (layer %d): imports go down the layers only", pkg, layer[pkg], own, layer[own])
			}
		}
	}
}

// readImports returns the imports of the non-test Go files of every
// package below dir of the module at root, by package path relative to
// root.
func readImports(t *testing.T, root, dir string) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	fset := token.NewFileSet()
	err := filepath.WalkDir(filepath.Join(root, dir), func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); name == "testdata" || name == "node_modules" {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, filepath.Dir(path))
		if err != nil {
			return err
		}
		pkg := filepath.ToSlash(rel)
		for _, is := range f.Imports {
			imp, err := strconv.Unquote(is.Path.Value)
			if err != nil {
				return err
			}
			if !slices.Contains(out[pkg], imp) {
				out[pkg] = append(out[pkg], imp)
			}
		}
		if out[pkg] == nil {
			out[pkg] = []string{}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out) == 0 {
		t.Fatalf("found no package below %s", dir)
	}
	return out
}
