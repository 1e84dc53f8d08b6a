// Package answer is Lectern's assistant: the rag, summarizer and triage
// agents, on top of the book's search. Each answer comes either from a
// language model behind an OpenAI-compatible API or, when none is
// configured, from the built-in extractive answerer, which quotes the
// sentences of the book that best answer the question and says so.
package answer

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/lectern/lectern/internal/chat"
	"github.com/lectern/lectern/internal/library"
	"github.com/lectern/lectern/internal/llm"
	"github.com/lectern/lectern/internal/store"
)

// Library is the book's search, as the agents use it.
type Library interface {
	Title() string
	Search(ctx context.Context, q library.Query) (library.Result, error)
	PageOf(current string) (*library.Page, bool)
	IDF(term string) float64
	Analyze(text string) []string
}

// Model is a chat model that streams its answer.
type Model interface {
	Stream(ctx context.Context, req llm.Request, onDelta func(string) error) (string, llm.Usage, error)
}

// Options tunes the assistant.
type Options struct {
	// K is how many sections an answer cites (default 3).
	K int
	// HistoryTokens bounds the earlier turns sent to the model (default
	// 1,500, estimated at four characters a token).
	HistoryTokens int
	// ContextTokens bounds the text a model is asked to summarize at once
	// (default 6,000); longer texts are summarized in parts first.
	ContextTokens int
	// MaxAnswerTokens bounds the model's answer (default 700).
	MaxAnswerTokens int
}

// Assistant answers readers' questions about the book. It implements
// chat.Answerer.
type Assistant struct {
	lib   Library
	model Model // nil: the extractive answerer
	opt   Options
}

var _ chat.Answerer = (*Assistant)(nil)

// New returns an assistant over lib. With a nil model it answers
// extractively.
func New(lib Library, model Model, opt Options) *Assistant {
	if opt.K <= 0 {
		opt.K = 3
	}
	if opt.HistoryTokens <= 0 {
		opt.HistoryTokens = 1500
	}
	if opt.ContextTokens <= 0 {
		opt.ContextTokens = 6000
	}
	if opt.MaxAnswerTokens <= 0 {
		opt.MaxAnswerTokens = 700
	}
	return &Assistant{lib: lib, model: model, opt: opt}
}

// summarizeIntent recognizes a request for a summary.
var summarizeIntent = regexp.MustCompile(`(?i)\b(summari[sz]e|summary|summarise|tl;?dr|sum (it |this |that )?up|recap|gist|in a nutshell|key points|main points)\b`)

// aboutHere are the words that point at what the reader is reading rather
// than name a subject: "summarize this page for me".
var aboutHere = regexp.MustCompile(`(?i)\b(summari[sz]e|summary|summarise|tl;?dr|sum|up|recap|gist|in|a|an|the|nutshell|key|main|points?|this|that|it|these|those|here|above|page|section|chapter|passage|selection|selected|text|part|article|doc|document|me|for|of|please|briefly|quickly|short|shortly|give|can|could|you|what|is|are|s|its|brief|bullet|bullets|quick)\b`)

// route is triage: the agent that answers q, decided by rules rather than
// a second model round-trip. A request to summarize what the reader is
// reading (the selection, or with none the page) goes to the summarizer;
// a summary or comparison of a subject ("summarize the difference between
// UTC and GMT") is a question like any other, for rag.
func route(q chat.Question) string {
	if q.Agent != chat.AgentTriage {
		return q.Agent
	}
	if summarizeIntent.MatchString(q.Query) && (hasSelection(q) || q.CurrentPage != "") && aboutWhatIsRead(q.Query) {
		return chat.AgentSummarizer
	}
	return chat.AgentRAG
}

// hasSelection reports whether the reader asks about a selected passage.
func hasSelection(q chat.Question) bool { return strings.TrimSpace(q.HighlightedText) != "" }

// aboutWhatIsRead reports whether a summary request names no subject of
// its own, only what the reader is reading.
func aboutWhatIsRead(query string) bool {
	rest := aboutHere.ReplaceAllString(query, " ")
	return strings.IndexFunc(rest, unicode.IsLetter) < 0
}

// Answer answers q with the agent triage picks (or the one asked for),
// streaming through emit.
func (a *Assistant) Answer(ctx context.Context, q chat.Question, emit func(chat.Event) error) (chat.Reply, error) {
	if emit == nil {
		emit = func(chat.Event) error { return nil }
	}
	agent := route(q)
	if agent == chat.AgentSummarizer {
		return a.summarize(ctx, q, emit)
	}
	return a.rag(ctx, q, emit)
}

// NotCovered is how an answer starts when nothing in the book answers the
// question.
const NotCovered = "I couldn't find this in the book."

// notCovered is the answer when the search found nothing relevant enough:
// it says so, names what the book never mentions, and offers the closest
// sections as links, so the reader is never at a dead end.
func notCovered(res library.Result) string {
	var b strings.Builder
	b.WriteString(NotCovered)
	if len(res.Missing) > 0 {
		names := slices.Compact(slices.Clone(res.Missing))
		fmt.Fprintf(&b, " It never mentions %s.", strings.Join(names, ", "))
	} else {
		b.WriteString(" It doesn't seem to cover that question.")
	}
	if len(res.Closest) == 0 {
		b.WriteString(" Try asking it another way, or about a topic the book discusses.")
		return b.String()
	}
	b.WriteString(" The closest sections, in case they help:\n")
	for _, h := range res.Closest {
		label := h.Title
		if h.Heading != "" && h.Heading != h.Title {
			label += " › " + h.Heading
		}
		fmt.Fprintf(&b, "\n- [%s](%s)", markdownText(label), h.URL)
	}
	return b.String()
}

// markdownText escapes the characters that would make text into Markdown
// markup inside a link's label.
func markdownText(s string) string {
	return strings.NewReplacer(`\`, `\\`, "[", `\[`, "]", `\]`, "*", `\*`, "_", `\_`, "`", "\\`", "<", "&lt;").Replace(s)
}

// rag answers from the sections the search finds.
func (a *Assistant) rag(ctx context.Context, q chat.Question, emit func(chat.Event) error) (chat.Reply, error) {
	reply := chat.Reply{Agent: chat.AgentRAG, Quoted: a.model == nil}
	text, tokens := a.searchText(ctx, q)
	reply.Tokens = tokens
	lq := library.Query{Text: text, K: a.opt.K, Highlight: q.HighlightedText, Page: q.CurrentPage}
	res, err := a.lib.Search(ctx, lq)
	if err == nil && !res.Covered && text != q.Query {
		// A rewrite can lose the question (a model's odd reply): the
		// question as asked has the last word.
		lq.Text = q.Query
		res, err = a.lib.Search(ctx, lq)
	}
	if err != nil {
		return reply, fmt.Errorf("search: %w", err)
	}
	if !res.Covered {
		reply.Sources = []chat.Source{}
		if err := emit(chat.Event{Sources: reply.Sources, Agent: reply.Agent, Quoted: reply.Quoted}); err != nil {
			return reply, err
		}
		reply.Text, reply.NotCovered = notCovered(res), true
		return reply, emit(chat.Event{Delta: reply.Text})
	}
	hits := res.Hits
	if a.model == nil {
		question := text // with a follow-up ("and why?"), the previous question too
		if hasSelection(q) {
			question = q.Query + " " + q.HighlightedText // "what does this mean?" is about the selection
		}
		var order []int
		reply.Text, order = extractiveAnswer(question, res.Hits, a.lib.Analyze, a.lib.IDF, quotedBefore(q.History))
		// The sources in the order the answer cites them, so [1] comes first.
		if len(order) == len(hits) {
			hits = make([]library.Hit, len(order))
			for i, h := range order {
				hits[i] = res.Hits[h]
			}
		}
	}
	reply.Sources = sources(hits)
	if err := emit(chat.Event{Sources: reply.Sources, Agent: reply.Agent, Quoted: reply.Quoted}); err != nil {
		return reply, err
	}
	if a.model == nil {
		return reply, emitInPieces(reply.Text, emit)
	}
	msgs := ragPrompt(a.lib.Title(), q, res.Hits, a.opt.HistoryTokens)
	out, usage, err := a.model.Stream(ctx, llm.Request{Messages: msgs, MaxTokens: a.opt.MaxAnswerTokens}, func(d string) error {
		return emit(chat.Event{Delta: d})
	})
	reply.Tokens += int64(usage.TotalTokens)
	if err != nil {
		return reply, err
	}
	reply.Text = strings.TrimSpace(out)
	return reply, nil
}

// followUp recognizes a question that leans on the previous one: opening
// with a connective or pointing back with a pronoun.
var followUp = regexp.MustCompile(`(?i)^(and|but|so|also|what about|how about|why|then)\b|\b(it|its|that|this|these|those|they|them|their|one|ones|second|first|third|last|other|former|latter|same|else|more)\b`)

// searchText is what the search looks for. With a model, the model rewrites
// the question into a standalone query (see rewrite); without one, a short
// follow-up ("and what about the second one?") is joined by the previous
// question of the conversation. A question about a selection is searched
// as it is: the selection is its context, not the earlier turns. It also
// returns the tokens a rewrite used.
func (a *Assistant) searchText(ctx context.Context, q chat.Question) (string, int64) {
	if hasSelection(q) {
		return q.Query, 0
	}
	if a.model != nil {
		return a.rewrite(ctx, q)
	}
	if len(strings.Fields(q.Query)) > 12 || !followUp.MatchString(q.Query) {
		return q.Query, 0
	}
	for i := len(q.History) - 1; i >= 0; i-- {
		if m := q.History[i]; m.Role == "user" {
			return m.Content + " " + q.Query, 0
		}
	}
	return q.Query, 0
}

// rewrite asks the model for a standalone search query for q; on failure,
// or an empty or overlong reply, the search uses the question itself.
func (a *Assistant) rewrite(ctx context.Context, q chat.Question) (string, int64) {
	ctx, cancel := context.WithTimeout(ctx, rewriteTimeout)
	defer cancel()
	out, usage, err := a.model.Stream(ctx, llm.Request{Messages: rewritePrompt(a.lib.Title(), q, a.opt.HistoryTokens), MaxTokens: 60}, nil)
	line, _, _ := strings.Cut(strings.TrimSpace(out), "\n")
	line = strings.Trim(strings.TrimSpace(line), `"'“”`)
	if err != nil || line == "" || len(line) > 400 {
		return q.Query, int64(usage.TotalTokens)
	}
	return line, int64(usage.TotalTokens)
}

// rewriteTimeout bounds the query rewrite, so a slow model delays the
// search by at most this before it goes on with the question as asked.
const rewriteTimeout = 15 * time.Second

// quotedBefore returns the assistant's earlier answers, whose quotations a
// follow-up's answer should not repeat.
func quotedBefore(history []store.Message) []string {
	var out []string
	for _, m := range history {
		if m.Role == "assistant" {
			out = append(out, m.Content)
		}
	}
	return out
}

// sources are the citations of an answer, in the order [1], [2]…
func sources(hits []library.Hit) []chat.Source {
	out := make([]chat.Source, len(hits))
	for i, h := range hits {
		var ch *int
		if h.ChapterNumber > 0 {
			n := h.ChapterNumber
			ch = &n
		}
		out[i] = chat.Source{Slug: h.Slug, Title: h.Title, Heading: h.Heading, URL: h.URL, ChapterNumber: ch,
			PageNumber: h.PageNumber, Snippet: h.Snippet, Score: h.Score}
	}
	return out
}

// emitInPieces streams a finished text paragraph by paragraph, so clients
// of the extractive answerer see the same stream of events as with a model.
func emitInPieces(text string, emit func(chat.Event) error) error {
	parts := strings.SplitAfter(text, "\n\n")
	for _, p := range parts {
		if p == "" {
			continue
		}
		if err := emit(chat.Event{Delta: p}); err != nil {
			return err
		}
	}
	return nil
}
