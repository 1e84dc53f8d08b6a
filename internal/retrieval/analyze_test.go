package retrieval

import (
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func TestAnalyze(t *testing.T) {
	tests := []struct {
		name string
		text string
		want []string
	}{
		{"splits identifiers on punctuation and keeps numbers", "time.Parse in 1972", []string{"time", "pars", "1972"}},
		{"lowercases and stems English words", "Running RUNS runner", []string{"run", "run", "runner"}},
		{"drops stop words", "what is the meaning of this", []string{"mean"}},
		{"drops a possessive s", "the reader's guide", []string{"reader", "guid"}},
		{"joins a contraction and drops it as a stop word", "don’t panic", []string{"panic"}},
		{"splits on hyphens, slashes and underscores", "well-known Europe/Paris snake_case", []string{"well", "known", "europ", "pari", "snake", "case"}},
		{"keeps mixed letters and digits unstemmed", "utf8 h2 x86", []string{"utf8", "h2", "x86"}},
		{"keeps accented words whole", "naïve café", []string{"naïve", "café"}},
		{"makes each Chinese or Japanese character a term", "日本語", []string{"日", "本", "語"}},
		{"skips very long words", strings.Repeat("a", maxWordBytes+1) + " short", []string{"short"}},
		{"ignores invalid UTF-8", "abc\xffdef", []string{"abc", "def"}},
		{"gives nothing for punctuation and space", " ... --- !? ", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Analyze(tt.text); !slices.Equal(got, tt.want) {
				t.Errorf("Analyze(%q) = %q, want %q", tt.text, got, tt.want)
			}
		})
	}
}

func TestTokenize(t *testing.T) {
	tests := []struct {
		name  string
		text  string
		words []string // the source words, text[Start:End]
		terms []string
	}{
		{"points at each source word", "Parsing time.Parse", []string{"Parsing", "time", "Parse"}, []string{"pars", "time", "pars"}},
		{"covers a possessive but not a trailing apostrophe", "Reader's books' end", []string{"Reader's", "books", "end"}, []string{"reader", "book", "end"}},
		{"counts bytes of multibyte words", "é café", []string{"é", "café"}, []string{"é", "café"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			toks := Tokenize(tt.text)
			var words, terms []string
			for _, tok := range toks {
				words = append(words, tt.text[tok.Start:tok.End])
				terms = append(terms, tok.Term)
			}
			if !slices.Equal(words, tt.words) || !slices.Equal(terms, tt.terms) {
				t.Errorf("Tokenize(%q): words %q terms %q, want %q %q", tt.text, words, terms, tt.words, tt.terms)
			}
		})
	}
}

func TestAnalyzerCacheAgreesWithAnalyze(t *testing.T) {
	an := newAnalyzer(Language{})
	text := "The runners were running; the runner runs. Daylight-saving time's changes."
	for pass := range 2 { // the second pass is served from the cache
		var got []string
		an.each(text, true, nil, nil, func(term string, _ int) { got = append(got, term) })
		if want := Analyze(text); !slices.Equal(got, want) {
			t.Fatalf("pass %d: analyzer gave %q, Analyze gave %q", pass, got, want)
		}
	}
}

func FuzzAnalyze(f *testing.F) {
	for _, s := range []string{
		"time.Parse(\"2006-01-02\", s) in 1972",
		"The reader's guide: don't panic! rock'n'roll o'clock ''' 'x x'",
		"naïve CAFÉ İstanbul ǅ Σίσυφος 日本語のテキスト e\u0301cole",
		"abc\xff\xfe def \u2019s",
		strings.Repeat("supercalifragilistic", 5),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		toks := Tokenize(text)
		terms := Analyze(text)
		if len(toks) != len(terms) {
			t.Fatalf("Tokenize gave %d tokens, Analyze %d terms", len(toks), len(terms))
		}
		prevEnd := 0
		for i, tok := range toks {
			if tok.Term == "" {
				t.Fatalf("token %d is empty", i)
			}
			if tok.Term != terms[i] {
				t.Fatalf("token %d is %q, term is %q", i, tok.Term, terms[i])
			}
			if !utf8.ValidString(tok.Term) {
				t.Fatalf("token %q is not valid UTF-8", tok.Term)
			}
			for _, r := range tok.Term {
				if unicode.ToLower(r) != r {
					t.Fatalf("token %q is not lowercase", tok.Term)
				}
			}
			if tok.Start < prevEnd || tok.End <= tok.Start || tok.End > len(text) {
				t.Fatalf("token %q has offsets [%d,%d) after %d in %d bytes", tok.Term, tok.Start, tok.End, prevEnd, len(text))
			}
			prevEnd = tok.End
		}
		norm, _ := appendNormalized(nil, text, nil)
		if len(norm) == 0 || norm[0] != ' ' || norm[len(norm)-1] != ' ' || strings.Contains(string(norm), "  ") {
			t.Fatalf("normalized form %q is not single-space separated", norm)
		}
	})
}

func TestIndexAnalyzeMatchesAnalyze(t *testing.T) {
	ix := New(Options{})
	ix.Add(Doc{ID: "a", Group: "a", Page: "p", Text: "Running clocks drifted; the reader's timestamps."})
	for _, s := range []string{"running clocks drifted", "The reader's timestamps were parsed", "words never indexed: zebras galloping"} {
		if got, want := ix.Analyze(s), Analyze(s); !slices.Equal(got, want) {
			t.Errorf("%q: index %q, package %q", s, got, want)
		}
	}
}

func TestIDFWeighsRareTermsMore(t *testing.T) {
	ix := New(Options{})
	ix.Add(Doc{ID: "a", Group: "a", Page: "p", Text: "clock drift in quartz"},
		Doc{ID: "b", Group: "b", Page: "p", Text: "clock sync over the network"},
		Doc{ID: "c", Group: "c", Page: "p", Text: "clock faces"})
	common, rare, absent := ix.IDF(Analyze("clock")[0]), ix.IDF(Analyze("quartz")[0]), ix.IDF("zebra")
	if !(common < rare && rare <= absent && common > 0) {
		t.Errorf("idf clock %.3f, quartz %.3f, absent %.3f", common, rare, absent)
	}
}

// TestLanguages checks each language's analysis on text of our own: its
// stop words go, its words are stemmed by its own rules (accents and all),
// and Chinese is cut into overlapping pairs of characters between its
// stop words.
func TestLanguages(t *testing.T) {
	terms := func(lang, text string) []string {
		an := newAnalyzer(LanguageOf(lang))
		var out []string
		an.each(text, true, nil, nil, func(term string, _ int) { out = append(out, term) })
		return out
	}
	for _, tc := range []struct {
		lang, a, b string // two texts that must give the same terms
	}{
		{"es", "¿Cómo se configuran las opciones del servidor?", "configuración opción servidores"},
		{"es-ES", "las compilaciones rápidas", "compilación rápida"},
		{"fr", "des configurations du serveur", "configuration serveurs"},
		{"en", "the servers were configured", "server configure"},
	} {
		if a, b := terms(tc.lang, tc.a), terms(tc.lang, tc.b); strings.Join(a, " ") != strings.Join(b, " ") {
			t.Errorf("%s: %q gives %v, %q gives %v", tc.lang, tc.a, a, tc.b, b)
		}
	}
	if got := strings.Join(terms("zh", "时间戳和时区"), " "); got != "时间 间戳 戳和 和时 时区" {
		t.Errorf("zh: %q", got)
	}
	if got := strings.Join(terms("zh-Hans", "使用 Rust 写 unsafe 代码"), " "); got != "使用 rust 写 unsafe 代码" {
		t.Errorf("zh with Latin words and a lone character: %q", got)
	}
	// Stop words cut the run: no pair holds a part of one.
	if got := strings.Join(terms("zh", "这个函数有什么风险？"), " "); got != "函数 数有 风险" {
		t.Errorf("zh stop words: %q", got)
	}
	if got := terms("es", "el de la que en y"); len(got) != 0 {
		t.Errorf("Spanish stop words kept: %v", got)
	}
	if LanguageOf("de").Code() != "de" || len(terms("de", "die Zeitzonen")) != 2 {
		t.Errorf("a language without a stemmer keeps its words: %v", terms("de", "die Zeitzonen"))
	}
}

func TestDetectLanguage(t *testing.T) {
	for _, tc := range []struct{ text, want string }{
		{"The clock in your computer counts seconds since an epoch, and the operating system turns them into a date for you.", "en"},
		{"El reloj de tu ordenador cuenta los segundos desde una época, y el sistema operativo los convierte en una fecha para ti.", "es"},
		{"L'horloge de votre ordinateur compte les secondes depuis une époque, et le système les convertit en une date pour vous.", "fr"},
		{"计算机中的时钟从某个纪元开始计算秒数，操作系统会把它们转换成日期。", "zh"},
		{"コンピューターの時計は、ある時点からの秒数を数えています。", "ja"},
		{"Die Uhr im Rechner zählt Sekunden seit einer Epoche und das Betriebssystem macht daraus ein Datum.", "und"},
	} {
		if got := DetectLanguage(tc.text); got != tc.want {
			t.Errorf("DetectLanguage(%.30q…) = %q, want %q", tc.text, got, tc.want)
		}
	}
}
