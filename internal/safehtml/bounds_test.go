package safehtml

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/net/html"
)

// nestingDepth returns how deeply the named elements nest in out.
func nestingDepth(t testing.TB, out string, names ...string) int {
	t.Helper()
	counted := map[string]bool{}
	for _, n := range names {
		counted[n] = true
	}
	z := html.NewTokenizer(strings.NewReader(out))
	depth, deepest := 0, 0
	for {
		switch z.Next() {
		case html.ErrorToken:
			return deepest
		case html.StartTagToken:
			if name, _ := z.TagName(); counted[string(name)] {
				depth++
				deepest = max(deepest, depth)
			}
		case html.EndTagToken:
			if name, _ := z.TagName(); counted[string(name)] {
				depth--
			}
		}
	}
}

func TestAnswerBoundsStructure(t *testing.T) {
	containers := []string{"blockquote", "ul", "ol"}
	tests := []struct {
		name     string
		in       string
		want     string // a substring of the output, if not empty
		maxDepth int    // of containers, if not zero
	}{
		{"fifty nested raw HTML tables are dropped",
			strings.Repeat("<table><tr><td>", 50) + "x" + strings.Repeat("</td></tr></table>", 50), "", 0},
		{"fifty inline raw HTML tables are dropped",
			"text " + strings.Repeat("<table><tr><td>", 50) + "x" + strings.Repeat("</td></tr></table>", 50), "text", 0},
		{"a Markdown table fifty quotes deep stays text within the nesting bound",
			strings.Repeat("> ", 50) + "| a |\n" + strings.Repeat("> ", 50) + "|---|\n" + strings.Repeat("> ", 50) + "| 1 |\n",
			"| 1 |", maxNesting},
		{"fifty tables each inside a deeper list stay within the nesting bound",
			func() string {
				var b strings.Builder
				for i := range 50 {
					ind := strings.Repeat("  ", i)
					fmt.Fprintf(&b, "%s- item\n\n%s  | h |\n%s  |---|\n%s  | %d |\n\n", ind, ind, ind, ind, i)
				}
				return b.String()
			}(), "<td>0</td>", maxNesting},
		{"ten thousand nested quote markers are cut to the nesting bound",
			strings.Repeat(">", 10000) + " deep", "deep", maxNesting},
		{"ten thousand lines of deep quotes are cut to the nesting bound",
			strings.Repeat(strings.Repeat("> ", 1000)+"x\n", 10), "x", maxNesting},
		{"ten thousand nested list markers are cut to the nesting bound",
			strings.Repeat("- ", 10000) + "deep", "deep", maxNesting},
		{"alternating quotes and lists are cut to the nesting bound",
			strings.Repeat("> 1. ", 5000) + "deep", "deep", maxNesting},
		{"ordinary nesting below the bound is kept",
			"> - a\n>   > - b\n>   >   1. c", "<li>c</li>", 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := Answer(tt.in, nil)
			assertSafe(t, out)
			if tt.want != "" && !strings.Contains(out, tt.want) {
				t.Errorf("output lacks %q:\n%.2000s", tt.want, out)
			}
			if tt.maxDepth > 0 {
				if d := nestingDepth(t, out, containers...); d > tt.maxDepth {
					t.Errorf("containers nest %d deep, want at most %d", d, tt.maxDepth)
				}
			}
		})
	}
}

func TestAnswerBoundsInputSize(t *testing.T) {
	t.Run("input over 64 KiB is cut to 64 KiB", func(t *testing.T) {
		out := Answer(strings.Repeat("a ", MaxInput/2)+"TAIL", nil)
		assertSafe(t, out)
		if strings.Contains(out, "TAIL") {
			t.Error("text past MaxInput was rendered")
		}
		if n := strings.Count(out, "a"); n != MaxInput/2 {
			t.Errorf("rendered %d of %d words before the cut", n, MaxInput/2)
		}
	})
	t.Run("the cut does not split a multi-byte character", func(t *testing.T) {
		out := Answer("x"+strings.Repeat("é", MaxInput), nil)
		assertSafe(t, out)
		if !utf8.ValidString(out) || strings.ContainsRune(out, utf8.RuneError) {
			t.Error("output has a broken character at the cut")
		}
	})
	t.Run("long runs of blank lines are shortened but code keeps a few", func(t *testing.T) {
		out := Answer("```\na\n\n\n\n\n\n\nb\n```", nil)
		if want := "<pre><code>a\n\n\n\nb\n</code></pre>"; !strings.Contains(out, want) {
			t.Errorf("got %q, want it to contain %q", out, want)
		}
	})
}

// TestAnswerCostIsLinear renders, at MaxInput, the constructs that make
// Markdown parsers slow or their output huge, and compares each with plain
// prose of the same size. Without the bounds in bounds.go several of these
// cost 15 to 200 times the baseline (the wide table exhausts memory); with
// them none costs more than about 4 times, under the race detector too.
// pathological are inputs on which goldmark alone goes superlinear in time
// or memory, each MaxInput long.
func pathological() []struct{ name, in string } {
	repeat := func(s string) string { return strings.Repeat(s, MaxInput/len(s)+1)[:MaxInput] }
	return []struct{ name, in string }{
		{"ordinary prose (the baseline)", repeat("Some ordinary **prose** with a [link](https://example.com/) and `code`, as an answer would have. [1]\n\n")},
		{"repeated inline link openers", repeat("[a](")},
		{"repeated bracketed link destinations", repeat("[a](<")},
		{"repeated link titles across lines", repeat("[a](x (\n")},
		{"nested brackets", repeat("[")[:MaxInput/2] + repeat("]")[:MaxInput/2]},
		{"nested image brackets", repeat("![")[:MaxInput/2] + repeat("](b)")[:MaxInput/2]},
		{"alternating emphasis", repeat("*a **a ")},
		{"unclosed emphasis", repeat("*_")},
		{"unclosed strikethrough", repeat("~~a ")},
		{"backtick runs of growing length", func() string {
			var b strings.Builder
			for i := 1; b.Len() < MaxInput; i++ {
				b.WriteString(strings.Repeat("`", i) + " ")
			}
			return b.String()
		}()},
		{"unclosed raw HTML", repeat("<a a=\"")},
		{"blank lines in a deep list", repeat("- ")[:60] + "a\n" + repeat("\n  ")},
		{"lazy lines after a deep quote", repeat(">")[:1000] + " a\n" + repeat("b\n")},
		{"a wide table header over short rows", "|" + repeat("a|")[:MaxInput/8] + "\n|" + repeat("-|")[:MaxInput/8] + "\n" + repeat("x\n")},
		{"escaped pipes in table code spans", "|a|b|\n|-|-|\n" + repeat("|`\\|`|`\\|`|\n")},
		{"many reference definitions and uses", repeat("[a]: /u\n")[:MaxInput/2] + repeat("[a] ")[:MaxInput/2]},
		{"many citation markers", repeat("[1]")},
		{"many citation ranges", repeat("[1-30]")},
		{"many bare URLs", repeat("www.a.b ")},
	}
}

var costCites = []Citation{{URL: "https://example.com/source/with/a/fairly/long/path/to/make/links/expensive", Title: "A source"}}

// TestAnswerMemoryIsBounded renders inputs that make goldmark blow up
// without the bounds and checks, by bytes allocated (deterministic, unlike
// time), that none costs more than a small multiple of ordinary prose of the
// same size, and that the output stays proportionate. Their time is in
// BenchmarkPathological.
func TestAnswerMemoryIsBounded(t *testing.T) {
	r := NewRenderer()
	allocated := func(in string) (uint64, int) {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		out := r.Render(in, costCites)
		runtime.ReadMemStats(&after)
		return after.TotalAlloc - before.TotalAlloc, len(out)
	}
	cases := pathological()
	baseline, _ := allocated(cases[0].in)
	for _, tt := range cases[1:] {
		t.Run(tt.name, func(t *testing.T) {
			bytes, size := allocated(tt.in)
			if bytes > 16*baseline {
				t.Errorf("allocated %d bytes, ordinary prose %d", bytes, baseline)
			}
			if size > 12*MaxInput {
				t.Errorf("output is %d bytes for %d of input", size, len(tt.in))
			}
		})
	}
}

// BenchmarkPathological times the inputs of TestAnswerMemoryIsBounded; with
// the bounds each stays within a few times the baseline.
//
//	go test -run '^$' -bench Pathological ./internal/safehtml/
func BenchmarkPathological(b *testing.B) {
	r := NewRenderer()
	for _, tt := range pathological() {
		b.Run(tt.name, func(b *testing.B) {
			for b.Loop() {
				r.Render(tt.in, costCites)
			}
		})
	}
}
