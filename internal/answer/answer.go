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
	"strings"

	"github.com/lectern/lectern/internal/chat"
	"github.com/lectern/lectern/internal/library"
	"github.com/lectern/lectern/internal/llm"
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

// route is triage: the agent that answers q, decided by rules rather than
// a second model round-trip. A highlighted passage with no question, or a
// request to summarize, goes to the summarizer; everything else to rag.
func route(q chat.Question) string {
	if q.Agent != chat.AgentTriage {
		return q.Agent
	}
	hl := strings.TrimSpace(q.HighlightedText) != ""
	if summarizeIntent.MatchString(q.Query) && (hl || q.CurrentPage != "") {
		return chat.AgentSummarizer
	}
	return chat.AgentRAG
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

// NotCovered is the answer when nothing in the book is relevant.
const NotCovered = "I couldn't find this in the book. It doesn't seem to cover that question — try asking it another way, or about a topic the book discusses."

// rag answers from the sections the search finds.
func (a *Assistant) rag(ctx context.Context, q chat.Question, emit func(chat.Event) error) (chat.Reply, error) {
	reply := chat.Reply{Agent: chat.AgentRAG}
	res, err := a.lib.Search(ctx, library.Query{Text: searchText(q), K: a.opt.K, Highlight: q.HighlightedText, Page: q.CurrentPage})
	if err != nil {
		return reply, fmt.Errorf("search: %w", err)
	}
	if !res.Covered {
		reply.Sources = []chat.Source{}
		if err := emit(chat.Event{Sources: reply.Sources, Agent: reply.Agent}); err != nil {
			return reply, err
		}
		reply.Text = NotCovered
		return reply, emit(chat.Event{Delta: reply.Text})
	}
	reply.Sources = sources(res.Hits)
	if err := emit(chat.Event{Sources: reply.Sources, Agent: reply.Agent}); err != nil {
		return reply, err
	}
	if a.model == nil {
		reply.Text = extractiveAnswer(q.Query, res.Hits, a.lib.Analyze, a.lib.IDF)
		return reply, emitInPieces(reply.Text, emit)
	}
	msgs := ragPrompt(a.lib.Title(), q, res.Hits, a.opt.HistoryTokens)
	text, usage, err := a.model.Stream(ctx, llm.Request{Messages: msgs, MaxTokens: a.opt.MaxAnswerTokens}, func(d string) error {
		return emit(chat.Event{Delta: d})
	})
	reply.Tokens = int64(usage.TotalTokens)
	if err != nil {
		return reply, err
	}
	reply.Text = strings.TrimSpace(text)
	return reply, nil
}

// followUp recognizes a question that leans on the previous one: short,
// and opening with a connective or pointing back with a pronoun.
var followUp = regexp.MustCompile(`(?i)^(and|but|so|also|what about|how about|why|then)\b|\b(it|its|that|this|these|those|they|them|their|one|ones|second|first|third|last|other|former|latter|same|else|more)\b`)

// searchText is what the search looks for: the question, joined by the
// previous question of the conversation when it is a short follow-up
// ("and what about the second one?").
func searchText(q chat.Question) string {
	if len(strings.Fields(q.Query)) > 12 || !followUp.MatchString(q.Query) {
		return q.Query
	}
	for i := len(q.History) - 1; i >= 0; i-- {
		if m := q.History[i]; m.Role == "user" {
			return m.Content + " " + q.Query
		}
	}
	return q.Query
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
