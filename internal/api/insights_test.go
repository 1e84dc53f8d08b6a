package api_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/lectern/lectern/internal/chat"
	"github.com/lectern/lectern/internal/insights"
	"github.com/lectern/lectern/internal/store"
)

// breadlessAnswerer answers every question but those about bread, which
// the book does not cover, from the book's section on leap seconds.
type breadlessAnswerer struct{ echoAnswerer }

func (a breadlessAnswerer) Answer(ctx context.Context, q chat.Question, emit func(chat.Event) error) (chat.Reply, error) {
	if strings.Contains(q.Query, "bread") {
		return chat.Reply{Text: "I couldn't find this in the book.", Sources: []chat.Source{}, Agent: chat.AgentRAG, NotCovered: true}, nil
	}
	r, err := a.echoAnswerer.Answer(ctx, q, emit)
	r.Sources = []chat.Source{{Slug: "clocks", Title: "Clocks", Heading: "Leap seconds", URL: "/docs/clocks#leap-seconds", Snippet: "…"}}
	return r, err
}

type volumeJSON struct {
	From, To string
	Days     []struct {
		Day                string
		Questions, Readers int64
	}
	Agents []struct {
		Day, Agent string
		Answered   int64
		NotCovered int64 `json:"not_covered"`
	}
}

// TestInsightsVolume: the book's owner sees today's questions, readers and
// answers as the readers' history holds them, and no reader's identity; a
// reader gets the 404 of an unknown route; a granted owner loses access at
// the next request after a revocation; with insights off, nobody sees them.
func TestInsightsVolume(t *testing.T) {
	forEachEngine(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st, options{owners: []string{"Owner@example.com"}, answerer: breadlessAnswerer{}})
		owner := e.signUp("owner@example.com")
		ada, bo := e.signUp("ada@example.com"), e.signUp("bo@example.com")
		ada.run(t, "", "why do leap seconds exist?")
		ada.run(t, "", "how do I bake bread?")
		bo.run(t, "", "which bread goes with cheese?")
		today := time.Now().UTC().Format(time.DateOnly)

		res := owner.do("GET", "/api/insights/volume", nil)
		var v volumeJSON
		res.decode(t, &v)
		if res.status != 200 || v.To != today || len(v.Days) != 1 || v.Days[0].Day != today || v.Days[0].Questions != 3 || v.Days[0].Readers != 2 ||
			len(v.Agents) != 1 || v.Agents[0].Agent != "rag" || v.Agents[0].Answered != 1 || v.Agents[0].NotCovered != 2 {
			t.Errorf("the owner's volume: %d %s", res.status, res.body)
		}
		for _, who := range []*user{ada, bo} {
			for _, id := range []string{who.id, "ada@example.com", "bo@example.com"} {
				if bytes.Contains(res.body, []byte(id)) {
					t.Errorf("the insights name a reader (%s): %s", id, res.body)
				}
			}
		}

		res = owner.do("GET", "/api/insights/not-covered", nil)
		var nc struct {
			Groups []struct {
				Terms, Examples []string
				Count, Readers  int
			}
		}
		res.decode(t, &nc)
		if res.status != 200 || len(nc.Groups) != 2 || nc.Groups[0].Count != 1 || nc.Groups[0].Readers != 1 {
			t.Errorf("the questions the book did not cover: %d %s", res.status, res.body)
		}
		for _, id := range []string{ada.id, bo.id, "ada@example.com", "bo@example.com"} {
			if bytes.Contains(res.body, []byte(id)) {
				t.Errorf("the questions not covered name a reader (%s): %s", id, res.body)
			}
		}

		answer := ada.run(t, "", "what is a leap second?")
		if r := ada.do("POST", "/api/messages/"+answer.MessageID+"/feedback", map[string]string{"rating": "down", "comment": "not what I asked"}); r.status != 200 {
			t.Fatalf("rate down: %d %s", r.status, r.body)
		}
		res = owner.do("GET", "/api/insights/rated-down", nil)
		var rated struct {
			Answers []struct{ Question, Answer, Comment string }
		}
		res.decode(t, &rated)
		if res.status != 200 || len(rated.Answers) != 1 || rated.Answers[0].Question != "what is a leap second?" ||
			rated.Answers[0].Comment != "not what I asked" || !strings.Contains(rated.Answers[0].Answer, "leap second") {
			t.Errorf("the answers rated down: %d %s", res.status, res.body)
		}
		if bytes.Contains(res.body, []byte(ada.id)) {
			t.Errorf("the answers rated down name the reader: %s", res.body)
		}

		ada.do("POST", "/api/agents/run", map[string]string{"query": "and the bread?", "current_page": "/docs/baking"})
		bo.do("POST", "/api/agents/run", map[string]string{"query": "and the cheese?", "current_page": "/docs/baking"})
		ada.do("POST", "/api/agents/run", map[string]string{"query": "and the clocks?", "current_page": "/docs/clocks"})
		res = owner.do("GET", "/api/insights/pages", nil)
		var pages struct {
			Pages []struct {
				Page               string
				Questions, Readers int64
			}
		}
		res.decode(t, &pages)
		if got := fmt.Sprint(pages.Pages); res.status != 200 || got != "[{/docs/baking 2 2} {/docs/clocks 1 1}]" {
			t.Errorf("the pages asked from: %d %s", res.status, res.body)
		}

		res = owner.do("GET", "/api/insights/cited", nil)
		var cited struct {
			Sections []struct {
				URL, Slug, Heading string
				Citations, Readers int64
			}
		}
		res.decode(t, &cited)
		if got := fmt.Sprint(cited.Sections); res.status != 200 || got != "[{/docs/clocks#leap-seconds clocks Leap seconds 4 2}]" {
			t.Errorf("the sections cited: %d %s", res.status, res.body)
		}

		views := []string{"/api/insights/volume", "/api/insights/not-covered", "/api/insights/rated-down", "/api/insights/pages", "/api/insights/cited"}
		for _, path := range views {
			body := owner.do("GET", path, nil).body
			for _, id := range []string{ada.id, bo.id, "ada@example.com", "bo@example.com", `"Reader"`} {
				if bytes.Contains(body, []byte(id)) {
					t.Errorf("%s names a reader (%s): %s", path, id, body)
				}
			}
		}

		unknown := ada.do("GET", "/api/no-such-route", nil)
		for _, path := range views {
			if got := ada.do("GET", path, nil); got.status != 404 || !bytes.Equal(got.body, unknown.body) {
				t.Errorf("a reader asking for %s: %d %s; an unknown route: %d %s", path, got.status, got.body, unknown.status, unknown.body)
			}
		}
		if got := owner.do("GET", "/api/insights/volume?from=2026-01-31&to=2026-01-01", nil); got.status != 400 {
			t.Errorf("a span that ends before it starts: %d %s", got.status, got.body)
		}

		roles := insights.NewRoles(st, nil, nil)
		if _, err := roles.Grant(t.Context(), "bo@example.com"); err != nil {
			t.Fatal(err)
		}
		if got := bo.do("GET", "/api/insights/volume", nil); got.status != 200 {
			t.Errorf("a granted owner: %d %s", got.status, got.body)
		}
		if _, err := roles.Revoke(t.Context(), "bo@example.com"); err != nil {
			t.Fatal(err)
		}
		if got := bo.do("GET", "/api/insights/volume", nil); got.status != 404 {
			t.Errorf("a revoked owner at the next request: %d %s", got.status, got.body)
		}

		off := newEnv(t, st, options{owners: []string{"dee@example.com"}, noInsights: true})
		if got := off.signUp("dee@example.com").do("GET", "/api/insights/volume", nil); got.status != 404 {
			t.Errorf("an owner with insights off: %d %s", got.status, got.body)
		}
	})
}
