package answer

import (
	"context"
	"fmt"
	"strings"

	"github.com/lectern/lectern/internal/chat"
	"github.com/lectern/lectern/internal/library"
	"github.com/lectern/lectern/internal/llm"
)

// summarize summarizes the reader's whole selection or, with none, the
// whole page they are on. A text too long for the model's context is
// summarized in parts, and the parts' summaries summarized: nothing is cut.
func (a *Assistant) summarize(ctx context.Context, q chat.Question, emit func(chat.Event) error) (chat.Reply, error) {
	reply := chat.Reply{Agent: chat.AgentSummarizer, Sources: []chat.Source{}, Quoted: a.model == nil}
	text := strings.TrimSpace(q.HighlightedText)
	what := "the selected passage"
	if text != "" {
		// The section that holds the passage is its source.
		if res, err := a.lib.Search(ctx, library.Query{Highlight: text, K: 1, Page: q.CurrentPage}); err == nil && res.Covered && len(res.Hits) > 0 {
			reply.Sources = sources(res.Hits[:1])
		}
	} else if p, ok := a.lib.PageOf(q.CurrentPage); ok {
		text, what = pageText(p), fmt.Sprintf("the page “%s”", p.Title)
		var ch *int
		if p.ChapterNumber > 0 {
			n := p.ChapterNumber
			ch = &n
		}
		reply.Sources = []chat.Source{{Slug: p.Slug, Title: p.Title, URL: p.URL, ChapterNumber: ch, PageNumber: p.PageNumber,
			Snippet: library.Snippet(text, nil, 200)}}
	} else {
		// Nothing to summarize: answer the question instead.
		return a.rag(ctx, q, emit)
	}
	if err := emit(chat.Event{Sources: reply.Sources, Agent: reply.Agent, Quoted: reply.Quoted}); err != nil {
		return reply, err
	}
	if a.model == nil {
		reply.Text = extractiveSummary(what, text, a.lib.Analyze)
		return reply, emitInPieces(reply.Text, emit)
	}
	title := a.lib.Title()
	var total int64
	for round := 0; round < 3 && tokens(text) > a.opt.ContextTokens; round++ {
		parts := splitText(text, a.opt.ContextTokens)
		var sums []string
		for i, part := range parts {
			s, usage, err := a.model.Stream(ctx, llm.Request{Messages: summaryPrompt(title, fmt.Sprintf("part %d of %d of %s", i+1, len(parts), what), part, ""),
				MaxTokens: a.opt.MaxAnswerTokens}, nil)
			total += int64(usage.TotalTokens)
			if err != nil {
				reply.Tokens = total
				return reply, err
			}
			sums = append(sums, strings.TrimSpace(s))
		}
		text, what = strings.Join(sums, "\n\n"), "these summaries of the parts of "+what
	}
	out, usage, err := a.model.Stream(ctx, llm.Request{Messages: summaryPrompt(title, what, text, q.Query), MaxTokens: a.opt.MaxAnswerTokens},
		func(d string) error { return emit(chat.Event{Delta: d}) })
	reply.Tokens = total + int64(usage.TotalTokens)
	if err != nil {
		return reply, err
	}
	reply.Text = strings.TrimSpace(out)
	return reply, nil
}

// pageText is a page's text with its headings, as the reader sees it.
func pageText(p *library.Page) string {
	var b strings.Builder
	for _, s := range p.Sections {
		if s.Anchor != "" {
			fmt.Fprintf(&b, "%s %s\n\n", strings.Repeat("#", max(s.Level, 2)), s.Heading)
		}
		if s.Text != "" {
			b.WriteString(s.Text + "\n\n")
		}
	}
	return strings.TrimSpace(b.String())
}

// splitText cuts text into parts of at most budget tokens, between
// paragraphs (a single longer paragraph is a part of its own).
func splitText(text string, budget int) []string {
	var parts []string
	var cur strings.Builder
	for _, para := range strings.Split(text, "\n\n") {
		if cur.Len() > 0 && tokens(cur.String())+tokens(para) > budget {
			parts = append(parts, cur.String())
			cur.Reset()
		}
		if cur.Len() > 0 {
			cur.WriteString("\n\n")
		}
		cur.WriteString(para)
	}
	if cur.Len() > 0 {
		parts = append(parts, cur.String())
	}
	return parts
}
