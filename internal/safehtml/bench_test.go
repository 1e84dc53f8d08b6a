package safehtml

import "testing"

// benchAnswer is a typical answer of about 2 KB: headings, emphasis, lists,
// a table, code and citations.
const benchAnswer = `## What the chapter argues

The author's central claim is that **memory is reconstructive** rather than
reproductive [1]. Each recollection is *rebuilt* from fragments, which is why
witnesses can be confidently wrong [2][3].

### Key points

1. Recall is shaped by expectations formed *after* the event [1].
2. Repetition strengthens a memory's confidence, not its accuracy [2, 3].
3. Context at retrieval matters as much as context at encoding [4].

- [x] Summarise the experiments
- [ ] Compare with the previous chapter

| Study | Participants | Finding |
|:------|-------------:|:-------:|
| Bartlett (1932) | 20 | Stories drift toward familiar forms |
| Loftus & Palmer (1974) | 45 | Wording changes speed estimates |
| Roediger & McDermott (1995) | 36 | False recall of related words |

> "Remembering is not the re-excitation of innumerable fixed, lifeless and
> fragmentary traces." — Bartlett [1]

The book's own summary is on [its website](https://example.com/book/summary),
and the term ~~engram~~ *trace* is used throughout. A short sketch of the
spacing idea from section 4:

` + "```python" + `
def review_schedule(days):
    return [d * 2 for d in days if d > 0]
` + "```" + `

Use ` + "`review_schedule([1, 2, 4])`" + ` to reproduce the table in the
appendix. For more, see https://example.org/notes or write to
author@example.com. Later chapters build on this [5].

### How this connects to your notes

Your highlight on page 14 questions whether *confidence* should be trusted at
all; the chapter's answer is **no, not on its own** [4]. Two practical
consequences follow from the studies above:

- Write things down *before* discussing them with others, since
  conversation reshapes what you recall [2].
- When two accounts conflict, prefer the one recorded closest to the event,
  even if it is less detailed [3].

If you want to go further, the next chapter's experiments on *source
monitoring* answer the question you left in the margin [1-3].
`

var benchCitations = []Citation{
	{URL: "https://example.com/book/ch3#p12", Title: "Chapter 3, p. 12"},
	{URL: "https://example.com/book/ch3#p19", Title: "Chapter 3, p. 19"},
	{URL: "https://example.com/book/ch4#p2", Title: "Chapter 4, p. 2"},
	{URL: "/library/books/42/notes", Title: "Your notes"},
}

func BenchmarkAnswer(b *testing.B) {
	b.SetBytes(int64(len(benchAnswer)))
	for b.Loop() {
		Answer(benchAnswer, benchCitations)
	}
}

func BenchmarkNewRenderer(b *testing.B) {
	for b.Loop() {
		NewRenderer()
	}
}
