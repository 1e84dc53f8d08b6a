package retrieval

import (
	"strings"
	"unicode"

	"github.com/kljensen/snowball/english"
	"github.com/kljensen/snowball/french"
	"github.com/kljensen/snowball/hungarian"
	"github.com/kljensen/snowball/norwegian"
	"github.com/kljensen/snowball/russian"
	"github.com/kljensen/snowball/spanish"
	"github.com/kljensen/snowball/swedish"
)

// Language is how the words of a book's language become index terms: its
// Snowball stemmer and stop words where Snowball has them, and for Chinese
// and Japanese, which do not separate words, pairs of characters.
type Language struct {
	code   string
	stem   func(string) string // nil: words are kept as they are
	stop   func(string) bool
	bigram bool // runs of Han, Hiragana and Katakana become overlapping pairs
	// ideographStop reports whether one to three ideographs are a stop
	// word, at which a run is cut before it becomes pairs; nil: none.
	ideographStop func(string) bool
}

// LanguageOf returns the analysis for a BCP 47 language tag ("en",
// "es-ES", "zh-Hans"). English is the default; a language Snowball does
// not cover is matched word for word, with no stop words.
func LanguageOf(tag string) Language {
	code := strings.ToLower(tag)
	if i := strings.IndexAny(code, "-_"); i >= 0 {
		code = code[:i]
	}
	snow := func(code string, stem func(string, bool) string, stop func(string) bool) Language {
		return Language{code: code, stem: func(w string) string { return stem(w, false) }, stop: stop}
	}
	switch code {
	case "", "en":
		return Language{code: "en", stem: func(w string) string { return english.Stem(w, true) }, stop: isStopWord}
	case "es":
		return snow(code, spanish.Stem, spanishStop)
	case "fr":
		return snow(code, french.Stem, french.IsStopWord)
	case "ru":
		return snow(code, russian.Stem, russian.IsStopWord)
	case "sv":
		return snow(code, swedish.Stem, swedish.IsStopWord)
	case "no", "nb", "nn":
		return snow("no", norwegian.Stem, norwegian.IsStopWord)
	case "hu":
		return snow(code, hungarian.Stem, hungarian.IsStopWord)
	case "zh":
		return Language{code: code, stop: func(string) bool { return false }, bigram: true, ideographStop: chineseStop}
	case "ja":
		return Language{code: code, stop: func(string) bool { return false }, bigram: true}
	}
	return Language{code: code, stop: func(string) bool { return false }}
}

// Code returns the language's code: "en", "es", "zh", ….
func (l Language) Code() string { return l.code }

// term maps a lowercase word to its index term, or "" for a stop word.
// Only words of letters are stemmed: numbers and identifiers like "utf8"
// are better matched exactly; English stems only plain ASCII words, for
// which its stemmer is made.
func (l Language) term(word string) string {
	if l.stop == nil {
		l = LanguageOf("en") // the zero Language
	}
	if l.stop(word) {
		return ""
	}
	if l.stem == nil {
		return word
	}
	for _, r := range word {
		if !unicode.IsLetter(r) || (l.code == "en" && (r < 'a' || r > 'z')) {
			return word
		}
	}
	return l.stem(word)
}

// chineseStop reports whether one to three characters are a Chinese
// function word or the frame of a question: particles (的, 了, 吗), the
// question words (什么, 怎么, 为什么, 哪些, 是否), pronouns and
// connectives. A character that begins content words is left out of the
// single ones: 在 is "at" but also half of 存在 and 现在.
func chineseStop(w string) bool {
	switch w {
	case "的", "了", "吗", "呢", "吧", "啊", "呀", "嘛", "么", "是", "也", "都",
		"什么", "怎么", "怎样", "怎么样", "怎么办", "为什么", "为何", "如何", "哪些", "哪个", "哪种", "哪里", "哪儿",
		"多少", "是否", "能否", "可否", "有没有", "是不是", "会不会", "能不能", "可不可以", "什么样",
		"请问", "一下", "具体", "到底", "究竟", "我们", "你们", "他们", "它们", "我的", "你的",
		"这个", "那个", "这些", "那些", "这样", "那样", "这种", "那种", "这里", "那里",
		"就是", "还是", "或者", "而且", "但是", "因为", "所以", "如果", "的话", "时候",
		"一个", "一些", "可以", "需要", "应该", "能够", "还有", "以及", "然后", "已经", "不是", "只是":
		return true
	}
	return false
}

// spanishStop is Snowball's Spanish stop words and the words that frame a
// question ("explica", "puedo"), which, like their English counterparts,
// say nothing of what is asked.
func spanishStop(w string) bool {
	if spanish.IsStopWord(w) {
		return true
	}
	switch w {
	case "cómo", "cuál", "cuáles", "cuándo", "dónde", "qué", "quién", "porqué", "explica", "explicar",
		"puedo", "puede", "pueden", "debo", "debe", "hay", "sirve", "significa":
		return true
	}
	return false
}

// DetectLanguage guesses the language of a sample of a book's text: "zh"
// or "ja" when Han and Kana make up a fifth of its letters (Kana making it
// Japanese), else the language Snowball covers whose stop words are the
// largest share of its words, if that is a fifth or more; "und" (no
// stemming, no stop words) when even English's stop words are under a
// tenth, and "en" otherwise. Stop words are a language's most frequent
// words, so a few thousand words of any prose decide it.
func DetectLanguage(sample string) string {
	var letters, han, kana int
	for _, r := range sample {
		switch {
		case unicode.In(r, unicode.Hiragana, unicode.Katakana):
			kana++
			letters++
		case unicode.Is(unicode.Han, r):
			han++
			letters++
		case unicode.IsLetter(r):
			letters++
		}
	}
	if letters > 0 && (han+kana)*5 >= letters {
		if kana*10 >= han+kana {
			return "ja"
		}
		return "zh"
	}
	candidates := []string{"en", "es", "fr", "ru", "sv", "no", "hu"}
	hits := make([]int, len(candidates))
	langs := make([]Language, len(candidates))
	for i, c := range candidates {
		langs[i] = LanguageOf(c)
	}
	words := 0
	scanWords(sample, nil, func(word []byte, _, _ int) {
		words++
		w := string(word)
		for i := range langs {
			if langs[i].stop(w) {
				hits[i]++
			}
		}
	})
	if words == 0 {
		return "en"
	}
	best := 0
	for i := range hits {
		if hits[i] > hits[best] {
			best = i
		}
	}
	switch {
	case hits[best]*5 >= words:
		return candidates[best]
	case hits[0]*10 < words:
		return "und"
	}
	return "en"
}
