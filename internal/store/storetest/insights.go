package storetest

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lectern/lectern/internal/randid"
	"github.com/lectern/lectern/internal/store"
)

func insightsTests() []test {
	return []test{
		{"Volume counts questions, readers and answers per day and agent, NotCoveredQuestions lists those the book did not cover, PagesAskedFrom where they were asked, and all forget what readers delete", func(t *testing.T, s store.Store) {
			day1 := time.Date(2025, time.May, 1, 0, 0, 0, 0, time.UTC)
			day2, day3 := day1.AddDate(0, 0, 1), day1.AddDate(0, 0, 2)
			ada, bo := createUser(t, s, day1), createUser(t, s, day1)
			// ask stores a question of u at "at" in a new conversation,
			// answered by agent ("" leaves it unanswered).
			ask := func(u store.User, at time.Time, agent string, notCovered bool) store.Conversation {
				t.Helper()
				c := newConversation(u.ID, at)
				q, err := s.StartConversation(t.Context(), c, store.Message{ID: randid.New(), Role: store.RoleUser,
					Content: "question at " + at.Format(time.RFC3339), Page: "/docs/a", CreatedAt: at})
				noErr(t, "StartConversation", err)
				if agent != "" {
					_, err = s.AppendMessage(t.Context(), store.Message{ID: randid.New(), ConversationID: c.ID, UserID: u.ID, Role: store.RoleAssistant,
						Content: "a", AgentType: agent, ParentID: q.ID, NotCovered: notCovered, CreatedAt: at.Add(time.Second)})
					noErr(t, "AppendMessage", err)
				}
				return c
			}
			ask(ada, day1.Add(time.Hour), "rag", false)
			ask(ada, day1.Add(2*time.Hour), "rag", true)
			ask(bo, day1.Add(23*time.Hour), "summarizer", false)
			ask(bo, day2.Add(time.Hour), "", false) // unanswered
			gone := ask(ada, day2.Add(2*time.Hour), "rag", true)
			ask(bo, day3.Add(time.Hour), "rag", false)     // after the span
			ask(ada, day1.Add(-time.Minute), "rag", false) // before it
			noErr(t, "DeleteConversation", s.DeleteConversation(t.Context(), ada.ID, gone.ID))

			v, err := s.Volume(t.Context(), day1, day3)
			noErr(t, "Volume", err)
			got := fmt.Sprint(v.Days, v.Agents)
			want := fmt.Sprint([]store.DayVolume{{Day: day1, Questions: 3, Readers: 2}, {Day: day2, Questions: 1, Readers: 1}},
				[]store.AgentVolume{{Day: day1, Agent: "rag", Answered: 1, NotCovered: 1}, {Day: day1, Agent: "summarizer", Answered: 1}})
			if got != want {
				t.Errorf("Volume:\n got %s\nwant %s", got, want)
			}

			pages, err := s.PagesAskedFrom(t.Context(), day1, day3, 1, 10)
			noErr(t, "PagesAskedFrom", err)
			if want := []store.PageCount{{Page: "/docs/a", Questions: 4, Readers: 2}}; fmt.Sprint(pages) != fmt.Sprint(want) {
				t.Errorf("PagesAskedFrom = %+v, want %+v", pages, want)
			}
			// A page fewer readers than asked for asked from is left out, in a
			// past span and in one that reaches the newest question alike.
			for _, to := range []time.Time{day3, day3.AddDate(0, 0, 1)} {
				for minReaders, want := range map[int]int{2: 1, 3: 0} {
					if pages, err := s.PagesAskedFrom(t.Context(), day1, to, minReaders, 10); err != nil || len(pages) != want {
						t.Errorf("PagesAskedFrom to %v by %d readers at least = %+v, %v; want %d pages", to, minReaders, pages, err, want)
					}
				}
			}

			nc, err := s.NotCoveredQuestions(t.Context(), day1, day3, 10)
			noErr(t, "NotCoveredQuestions", err)
			at := day1.Add(2 * time.Hour)
			if len(nc) != 1 || nc[0].Text != "question at "+at.Format(time.RFC3339) || nc[0].Page != "/docs/a" || nc[0].UserID != ada.ID || !nc[0].AskedAt.Equal(at) {
				t.Errorf("NotCoveredQuestions = %+v, want ada's question at %v", nc, at)
			}

			noErr(t, "DeleteUser", s.DeleteUser(t.Context(), bo.ID))
			v, err = s.Volume(t.Context(), day1, day3)
			noErr(t, "Volume", err)
			got = fmt.Sprint(v.Days, v.Agents)
			want = fmt.Sprint([]store.DayVolume{{Day: day1, Questions: 2, Readers: 1}},
				[]store.AgentVolume{{Day: day1, Agent: "rag", Answered: 1, NotCovered: 1}})
			if got != want {
				t.Errorf("Volume after a reader deleted their account:\n got %s\nwant %s", got, want)
			}
			pages, err = s.PagesAskedFrom(t.Context(), day1, day3, 1, 10)
			noErr(t, "PagesAskedFrom", err)
			if want := []store.PageCount{{Page: "/docs/a", Questions: 2, Readers: 1}}; fmt.Sprint(pages) != fmt.Sprint(want) {
				t.Errorf("PagesAskedFrom after a reader deleted their account = %+v, want %+v", pages, want)
			}
			noErr(t, "DeleteUser", s.DeleteUser(t.Context(), ada.ID))
			if nc, err := s.NotCoveredQuestions(t.Context(), day1, day3, 10); err != nil || len(nc) != 0 {
				t.Errorf("NotCoveredQuestions after its reader deleted their account = %+v, %v", nc, err)
			}
			if pages, err := s.PagesAskedFrom(t.Context(), day1, day3, 1, 10); err != nil || len(pages) != 0 {
				t.Errorf("PagesAskedFrom after every reader deleted their account = %+v, %v", pages, err)
			}
		}},
		{"SectionsCited counts the sections the answers of a span cited, and forgets deleted conversations", func(t *testing.T, s store.Store) {
			day := time.Date(2025, time.May, 1, 0, 0, 0, 0, time.UTC)
			ada, bo := createUser(t, s, day), createUser(t, s, day)
			answer := func(u store.User, at time.Time, sources string) store.Conversation {
				t.Helper()
				c, q := startConversation(t, s, u.ID, at)
				a := newMessage(c, store.RoleAssistant, at.Add(time.Second))
				a.ParentID, a.Sources = q.ID, []byte(sources)
				_, err := s.AppendMessage(t.Context(), a)
				noErr(t, "AppendMessage", err)
				return c
			}
			intro := `{"slug": "intro", "url": "/docs/intro#setup", "heading": "Setup", "snippet": "s", "chapter_number": null, "page_number": null}`
			api := `{"slug": "api", "url": "/docs/api", "title": "API", "snippet": "s", "chapter_number": null, "page_number": null}`
			answer(ada, day.Add(time.Hour), "["+intro+","+api+"]")
			answer(bo, day.Add(2*time.Hour), "["+intro+"]")
			answer(bo, day.Add(3*time.Hour), `[{"slug": "old-shape"}, {"book": "b1"}, 7]`) // no url: the page's; no slug: no section
			answer(bo, day.Add(3*time.Hour), `{"slug": "not-a-list", "url": "/docs/x"}`)   // not a list of sources: none
			gone := answer(ada, day.Add(4*time.Hour), "["+api+"]")
			answer(ada, day.AddDate(0, 0, 1), "["+api+"]") // after the span
			noErr(t, "DeleteConversation", s.DeleteConversation(t.Context(), ada.ID, gone.ID))

			got, err := s.SectionsCited(t.Context(), day, day.AddDate(0, 0, 1), 1, 10)
			noErr(t, "SectionsCited", err)
			want := []store.SectionCount{
				{URL: "/docs/intro#setup", Slug: "intro", Heading: "Setup", Citations: 2, Readers: 2},
				{URL: "/docs/api", Slug: "api", Citations: 1, Readers: 1},
				{URL: "/docs/old-shape", Slug: "old-shape", Citations: 1, Readers: 1},
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("SectionsCited =\n %+v\nwant\n %+v", got, want)
			}
			if got, err := s.SectionsCited(t.Context(), day, day.AddDate(0, 0, 1), 1, 1); err != nil || len(got) != 1 || got[0].Slug != "intro" {
				t.Errorf("SectionsCited with limit 1 = %+v, %v; want the most cited", got, err)
			}
			// Fewer readers than asked for: left out, in a past span and in
			// one that reaches the newest answer alike.
			for _, to := range []time.Time{day.AddDate(0, 0, 1), day.AddDate(0, 0, 2)} {
				if got, err := s.SectionsCited(t.Context(), day, to, 2, 10); err != nil || len(got) != 1 || got[0].Slug != "intro" {
					t.Errorf("SectionsCited to %v by 2 readers at least = %+v, %v; want the one section two readers got", to, got, err)
				}
			}
			noErr(t, "DeleteUser", s.DeleteUser(t.Context(), bo.ID))
			got, err = s.SectionsCited(t.Context(), day, day.AddDate(0, 0, 1), 1, 10)
			noErr(t, "SectionsCited", err)
			if want := []store.SectionCount{{URL: "/docs/api", Slug: "api", Citations: 1, Readers: 1}, {URL: "/docs/intro#setup", Slug: "intro", Heading: "Setup", Citations: 1, Readers: 1}}; fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("SectionsCited after a reader deleted their account =\n %+v\nwant\n %+v", got, want)
			}
		}},
		{"PagesAskedFrom and SectionsCited count, for every span of days, the questions and citations left after deletions", func(t *testing.T, s store.Store) {
			day0 := time.Date(2025, time.June, 1, 0, 0, 0, 0, time.UTC)
			const days = 6
			r := rand.New(rand.NewPCG(18, 13))
			type event struct {
				key, user string
				day       int
			}
			// Each conversation's questions and citations, to count those
			// of the conversations that are not deleted.
			type conversation struct {
				c               store.Conversation
				pages, sections []event
			}
			var convs []conversation
			var users []store.User
			for range 5 {
				u := createUser(t, s, day0)
				users = append(users, u)
				for range 3 {
					at := day0.Add(time.Duration(r.Int64N(int64(days * 24 * time.Hour / 2))))
					c := newConversation(u.ID, at)
					cv := conversation{c: c}
					for turn := range 1 + r.IntN(5) {
						page := fmt.Sprintf("/docs/p%d", r.IntN(4))
						q := store.Message{ID: randid.New(), ConversationID: c.ID, UserID: u.ID, Role: store.RoleUser, Content: "q", Page: page, CreatedAt: at}
						var err error
						if turn == 0 {
							q, err = s.StartConversation(t.Context(), c, q)
						} else {
							q, err = s.AppendMessage(t.Context(), q)
						}
						noErr(t, "store a question", err)
						d := int(at.Sub(day0) / (24 * time.Hour))
						cv.pages = append(cv.pages, event{page, u.ID, d})
						var sources []string
						for range r.IntN(4) {
							url := fmt.Sprintf("/docs/s%d#h", r.IntN(5))
							sources = append(sources, fmt.Sprintf(`{"slug": "s", "url": %q, "heading": "H"}`, url))
							cv.sections = append(cv.sections, event{url, u.ID, d})
						}
						a := store.Message{ID: randid.New(), ConversationID: c.ID, UserID: u.ID, Role: store.RoleAssistant, Content: "a",
							AgentType: "rag", ParentID: q.ID, CreatedAt: at.Add(time.Second), Sources: []byte("[" + strings.Join(sources, ",") + "]")}
						_, err = s.AppendMessage(t.Context(), a)
						noErr(t, "store an answer", err)
						at = at.Add(time.Duration(r.Int64N(int64(30 * time.Hour))))
					}
					convs = append(convs, cv)
				}
			}
			gone := map[string]bool{}
			for _, i := range []int{1, 7} {
				noErr(t, "DeleteConversation", s.DeleteConversation(t.Context(), convs[i].c.UserID, convs[i].c.ID))
				gone[convs[i].c.ID] = true
			}
			noErr(t, "DeleteUser", s.DeleteUser(t.Context(), users[3].ID))
			// want counts the events of the conversations left in [from, to)
			// by key: the most first, then by key.
			want := func(of func(conversation) []event, from, to, minReaders int) []store.KeyCount {
				n, readers := map[string]int64{}, map[string]map[string]bool{}
				for _, cv := range convs {
					if gone[cv.c.ID] || cv.c.UserID == users[3].ID {
						continue
					}
					for _, e := range of(cv) {
						if e.day >= from && e.day < to {
							n[e.key]++
							if readers[e.key] == nil {
								readers[e.key] = map[string]bool{}
							}
							readers[e.key][e.user] = true
						}
					}
				}
				var out []store.KeyCount
				for k := range n {
					if len(readers[k]) >= minReaders {
						out = append(out, store.KeyCount{Key: k, N: n[k], Readers: int64(len(readers[k]))})
					}
				}
				slices.SortFunc(out, func(a, b store.KeyCount) int { return cmp.Or(cmp.Compare(b.N, a.N), strings.Compare(a.Key, b.Key)) })
				return out
			}
			for from := range days + 3 {
				for to := from + 1; to <= days+3; to++ {
					for _, minReaders := range []int{1, 2} {
						f, e := day0.AddDate(0, 0, from), day0.AddDate(0, 0, to)
						pages, err := s.PagesAskedFrom(t.Context(), f, e, minReaders, 100)
						noErr(t, "PagesAskedFrom", err)
						var got []store.KeyCount
						for _, p := range pages {
							got = append(got, store.KeyCount{Key: p.Page, N: p.Questions, Readers: p.Readers})
						}
						if w := want(func(cv conversation) []event { return cv.pages }, from, to, minReaders); fmt.Sprint(got) != fmt.Sprint(w) {
							t.Errorf("PagesAskedFrom days %d-%d, %d readers at least = %v, want %v", from, to, minReaders, got, w)
						}
						sections, err := s.SectionsCited(t.Context(), f, e, minReaders, 100)
						noErr(t, "SectionsCited", err)
						got = nil
						for _, c := range sections {
							got = append(got, store.KeyCount{Key: c.URL, N: c.Citations, Readers: c.Readers})
						}
						if w := want(func(cv conversation) []event { return cv.sections }, from, to, minReaders); fmt.Sprint(got) != fmt.Sprint(w) {
							t.Errorf("SectionsCited days %d-%d, %d readers at least = %v, want %v", from, to, minReaders, got, w)
						}
					}
				}
			}
		}},
		{"RatedDown lists the answers rated down in a span, with their questions and the comment", func(t *testing.T, s store.Store) {
			day := time.Date(2025, time.May, 1, 0, 0, 0, 0, time.UTC)
			u := createUser(t, s, day)
			c, q := startConversation(t, s, u.ID, day)
			var answers []store.Message
			for i := range 3 {
				a := newMessage(c, store.RoleAssistant, day.Add(time.Duration(i+1)*time.Minute))
				a.ParentID = q.ID
				a, err := s.AppendMessage(t.Context(), a)
				noErr(t, "AppendMessage", err)
				answers = append(answers, a)
			}
			rate := func(a store.Message, rating, comment string, at time.Time) {
				t.Helper()
				noErr(t, "SetFeedback", s.SetFeedback(t.Context(), store.Feedback{MessageID: a.ID, UserID: u.ID, Rating: rating, Comment: comment, CreatedAt: at, UpdatedAt: at}))
			}
			rate(answers[0], "down", "wrong chapter", day.Add(time.Hour))
			rate(answers[1], "up", "", day.Add(2*time.Hour))
			rate(answers[2], "down", "", day.AddDate(0, 0, 2)) // after the span

			got, err := s.RatedDown(t.Context(), day, day.AddDate(0, 0, 1), 10)
			noErr(t, "RatedDown", err)
			if len(got) != 1 || got[0].Question != q.Content || got[0].Answer != answers[0].Content || got[0].Comment != "wrong chapter" || !got[0].RatedAt.Equal(day.Add(time.Hour)) {
				t.Fatalf("RatedDown = %+v, want the first answer, rated down with a comment", got)
			}
			checkJSON(t, "RatedAnswer.Sources", got[0].Sources, answers[0].Sources)

			// A rating changed: down to up leaves the list, up to down
			// joins it, a new comment replaces the old one.
			rate(answers[0], "up", "", day.Add(3*time.Hour))
			rate(answers[1], "down", "too vague", day.Add(4*time.Hour))
			got, err = s.RatedDown(t.Context(), day, day.AddDate(0, 0, 1), 10)
			noErr(t, "RatedDown", err)
			if len(got) != 1 || got[0].Answer != answers[1].Content || got[0].Comment != "too vague" || !got[0].RatedAt.Equal(day.Add(4*time.Hour)) {
				t.Fatalf("RatedDown after the ratings changed = %+v, want the second answer only", got)
			}
			rate(answers[1], "down", "wrong section", day.Add(5*time.Hour))
			if got, err := s.RatedDown(t.Context(), day, day.AddDate(0, 0, 1), 10); err != nil || len(got) != 1 || got[0].Comment != "wrong section" || !got[0].RatedAt.Equal(day.Add(5*time.Hour)) {
				t.Errorf("RatedDown after the comment changed = %+v, %v; want the new comment", got, err)
			}

			noErr(t, "DeleteConversation", s.DeleteConversation(t.Context(), u.ID, c.ID))
			if got, err := s.RatedDown(t.Context(), day, day.AddDate(0, 0, 1), 10); err != nil || len(got) != 0 {
				t.Errorf("after the conversation was deleted: %+v, %v", got, err)
			}
		}},
	}
}
