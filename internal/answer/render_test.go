package answer

import (
	"strings"
	"testing"

	"github.com/lectern/lectern/internal/library"
	"github.com/lectern/lectern/internal/retrieval"
)

func TestAListQuotedWholeIsNotQuotedAgain(t *testing.T) {
	hits := []library.Hit{{URL: "/docs/zst#zst", SectionText: "Zero-sized types break two things in our vector code:\n\n" +
		"- The raw allocator has undefined behaviour for zero-sized allocations.\n- Raw pointer offsets are no-ops for zero-sized types.\n\nSo we guard against both of them."}}
	text, _ := extractiveAnswer("what breaks with zero-sized types in the raw allocator and pointer offsets?", hits,
		retrieval.Analyze, func(string) float64 { return 1 }, nil)
	if n := strings.Count(text, "Raw pointer offsets are no-ops"); n != 1 || !strings.Contains(text, "> - The raw allocator") {
		t.Errorf("the list is quoted %d times, or not as a list:\n%s", n, text)
	}
}

// TestAChineseIntroductionIsQuotedWithItsList: a sentence ending in the
// full-width colon introduces the list after it, as one ending in ":"
// does.
func TestAChineseIntroductionIsQuotedWithItsList(t *testing.T) {
	analyze := retrieval.New(retrieval.Options{Language: retrieval.LanguageOf("zh")}).Analyze
	hits := []library.Hit{{URL: "/docs/unsafe", SectionText: "在不安全的代码中唯一不同的是，你可以：\n\n" +
		"- 对原始指针进行解引用\n- 访问或者修改可变的静态变量\n\n这就是全部了。"}}
	text, _ := extractiveAnswer("不安全的代码里多出了哪些能力？", hits, analyze, func(string) float64 { return 1 }, nil)
	if !strings.Contains(text, "> - 对原始指针进行解引用") || !strings.Contains(text, "> - 访问或者修改可变的静态变量") {
		t.Errorf("the list is not quoted with its introduction:\n%s", text)
	}
}
