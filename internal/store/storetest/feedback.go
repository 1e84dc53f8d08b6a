package storetest

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lectern/lectern/internal/randid"
	"github.com/lectern/lectern/internal/store"
)

// rated is a conversation of one user to rate answers in: a question and
// two answers to it.
type rated struct {
	user     store.User
	conv     store.Conversation
	question store.Message
	answers  [2]store.Message
}

// newRated stores a user with a conversation of a question and two answers,
// all at now.
func newRated(t testing.TB, s store.Store, now time.Time) rated {
	t.Helper()
	u := createUser(t, s, now)
	c, q := startConversation(t, s, u.ID, now)
	r := rated{user: u, conv: c, question: q}
	for i := range r.answers {
		r.answers[i] = appendMessage(t, s, c, store.RoleAssistant, now.Add(time.Duration(i+1)*time.Second))
	}
	return r
}

// feedback returns the rating of m by its owner at now, with a comment.
func feedback(m store.Message, rating string, now time.Time) store.Feedback {
	return store.Feedback{
		MessageID: m.ID,
		UserID:    m.UserID,
		Rating:    rating,
		Comment:   "Rated " + rating + " at " + now.Format(time.TimeOnly),
		CreatedAt: now,
		UpdatedAt: now,
	}
}

// setFeedback stores f, failing the test if it cannot.
func setFeedback(t testing.TB, s store.Store, f store.Feedback) {
	t.Helper()
	if err := s.SetFeedback(t.Context(), f); err != nil {
		t.Fatalf("SetFeedback: %v", err)
	}
}

// ratings returns the ratings ListMessages reports for every message of
// userID's conversation, in order.
func ratings(t *testing.T, s store.Store, userID, conversationID string) []string {
	t.Helper()
	ms := allMessages(t, s, userID, conversationID)
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.Rating
	}
	return out
}

// checkRatings reports ratings of r's question and answers that differ from
// want.
func checkRatings(t *testing.T, s store.Store, r rated, want ...string) {
	t.Helper()
	if got := ratings(t, s, r.user.ID, r.conv.ID); !slices.Equal(got, want) {
		t.Errorf("ratings of the question and answers = %q, want %q", got, want)
	}
}

// usage reads userID's totals for day, failing the test if it cannot.
func usage(t *testing.T, s store.Store, userID, day string) store.Usage {
	t.Helper()
	u, err := s.AddUsage(t.Context(), userID, day, 0, 0)
	if err != nil {
		t.Fatalf("AddUsage of zeros: %v", err)
	}
	return u
}

// checkUsage reports totals that differ from want.
func checkUsage(t *testing.T, what string, got, want store.Usage) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %+v, want %+v", what, got, want)
	}
}

// wantRefused fails the test unless err is an error other than
// store.ErrNotFound and store.ErrConflict: the arguments were refused, not
// found missing.
func wantRefused(t *testing.T, what string, err error) {
	t.Helper()
	if err == nil || errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrConflict) {
		t.Fatalf("%s: got error %v, want a refusal of the arguments", what, err)
	}
}

func feedbackTests() []test {
	return []test{
		{"SetFeedback rates an answer and ListMessages shows the rating to its owner", func(t *testing.T, s store.Store) {
			now := base()
			r := newRated(t, s, now)
			checkRatings(t, s, r, "", "", "")

			setFeedback(t, s, feedback(r.answers[0], "up", now))
			checkRatings(t, s, r, "", "up", "")
			setFeedback(t, s, feedback(r.answers[1], "down", now))
			checkRatings(t, s, r, "", "up", "down")

			// Every field but the rating is the message as stored, and a
			// page after a cursor carries the rating too.
			want := []store.Message{r.question, r.answers[0], r.answers[1]}
			want[1].Rating, want[2].Rating = "up", "down"
			checkMessages(t, allMessages(t, s, r.user.ID, r.conv.ID), want)
			page, err := s.ListMessages(t.Context(), r.user.ID, r.conv.ID, 2, 1)
			noErr(t, "ListMessages after seq 2", err)
			checkMessages(t, page, want[2:])
		}},
		{"SetFeedback replaces an earlier rating", func(t *testing.T, s store.Store) {
			now := base()
			cases := []struct {
				name          string
				before, after string
			}{
				{"up changed to down", "up", "down"},
				{"down changed to up", "down", "up"},
				{"up given again", "up", "up"},
			}
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					r := newRated(t, s, now)
					setFeedback(t, s, feedback(r.answers[0], tc.before, now))
					setFeedback(t, s, feedback(r.answers[0], tc.after, now.Add(time.Minute)))
					checkRatings(t, s, r, "", tc.after, "")
				})
			}
		}},
		{"SetFeedback on anything but an answer of the user's returns ErrNotFound and writes nothing", func(t *testing.T, s store.Store) {
			now := base()
			owner := newRated(t, s, now)
			setFeedback(t, s, feedback(owner.answers[0], "up", now))
			intruder := newRated(t, s, now)
			later := now.Add(time.Hour)

			cases := []struct {
				name string
				f    store.Feedback
			}{
				{"another user's rated answer", func() store.Feedback {
					f := feedback(owner.answers[0], "down", later)
					f.UserID = intruder.user.ID
					return f
				}()},
				{"another user's unrated answer", func() store.Feedback {
					f := feedback(owner.answers[1], "down", later)
					f.UserID = intruder.user.ID
					return f
				}()},
				{"the user's own question", feedback(owner.question, "up", later)},
				{"another user's question", func() store.Feedback {
					f := feedback(owner.question, "up", later)
					f.UserID = intruder.user.ID
					return f
				}()},
				{"a missing message", func() store.Feedback {
					f := feedback(owner.answers[1], "up", later)
					f.MessageID = randid.New()
					return f
				}()},
				{"an empty message id", func() store.Feedback {
					f := feedback(owner.answers[1], "up", later)
					f.MessageID = ""
					return f
				}()},
				{"an answer of a missing user", func() store.Feedback {
					f := feedback(owner.answers[1], "up", later)
					f.UserID = randid.New()
					return f
				}()},
			}
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					wantErr(t, "SetFeedback", s.SetFeedback(t.Context(), tc.f), store.ErrNotFound)
					checkRatings(t, s, owner, "", "up", "")
					checkRatings(t, s, intruder, "", "", "")
				})
			}
		}},
		{"SetFeedback refuses a rating other than up or down", func(t *testing.T, s store.Store) {
			now := base()
			r := newRated(t, s, now)
			setFeedback(t, s, feedback(r.answers[0], "up", now))
			later := now.Add(time.Hour)
			cases := []struct {
				name   string
				rating string
			}{
				{"an empty rating", ""},
				{"a neutral rating", "neutral"},
				{"a capitalized rating", "Down"},
				{"a rating with a space", "down "},
			}
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					for i, m := range r.answers {
						err := s.SetFeedback(t.Context(), feedback(m, tc.rating, later))
						wantRefused(t, fmt.Sprintf("SetFeedback on answer %d", i), err)
					}
					// Refused before the message is looked up.
					missing := feedback(r.answers[0], tc.rating, later)
					missing.MessageID = randid.New()
					wantRefused(t, "SetFeedback on a missing message", s.SetFeedback(t.Context(), missing))
					checkRatings(t, s, r, "", "up", "")
				})
			}
		}},
		{"SetFeedback from 10 goroutines at once on one answer leaves one of their ratings", func(t *testing.T, s store.Store) {
			now := base()
			r := newRated(t, s, now)
			const n = 10
			errs := parallel(n, func(i int) error {
				return s.SetFeedback(t.Context(), feedback(r.answers[0], []string{"up", "down"}[i%2], now))
			})
			for i, err := range errs {
				if err != nil {
					t.Errorf("SetFeedback %d: %v", i, err)
				}
			}
			got := ratings(t, s, r.user.ID, r.conv.ID)
			if len(got) != 3 || (got[1] != "up" && got[1] != "down") || got[0] != "" || got[2] != "" {
				t.Errorf("ratings = %q, want up or down on the first answer only", got)
			}
		}},
		{"StartConversation and AppendMessage return messages without a rating", func(t *testing.T, s store.Store) {
			now := base()
			u := createUser(t, s, now)
			c := newConversation(u.ID, now)
			first := newMessage(c, store.RoleUser, now)
			first.Rating = "up" // must be ignored
			got, err := s.StartConversation(t.Context(), c, first)
			noErr(t, "StartConversation", err)
			check(t, "Rating of the first message", got.Rating, "")

			m := newMessage(c, store.RoleAssistant, now)
			m.Rating = "down" // must be ignored
			got, err = s.AppendMessage(t.Context(), m)
			noErr(t, "AppendMessage", err)
			check(t, "Rating of the appended message", got.Rating, "")

			if got := ratings(t, s, u.ID, c.ID); !slices.Equal(got, []string{"", ""}) {
				t.Errorf("ratings = %q, want none", got)
			}
		}},
		{"DeleteConversation removes the feedback on its messages", func(t *testing.T, s store.Store) {
			now := base()
			r := newRated(t, s, now)
			setFeedback(t, s, feedback(r.answers[0], "up", now))
			kept, keptQuestion := startConversation(t, s, r.user.ID, now)
			keptAnswer := appendMessage(t, s, kept, store.RoleAssistant, now)
			setFeedback(t, s, feedback(keptAnswer, "down", now))

			noErr(t, "DeleteConversation", s.DeleteConversation(t.Context(), r.user.ID, r.conv.ID))

			wantErr(t, "SetFeedback on a deleted answer", s.SetFeedback(t.Context(), feedback(r.answers[0], "down", now)), store.ErrNotFound)
			checkMessages(t, allMessages(t, s, r.user.ID, kept.ID), []store.Message{keptQuestion, withRating(keptAnswer, "down")})

			// The same conversation and answer stored again carry no rating:
			// the feedback went with the message, it is not merely hidden.
			_, err := s.StartConversation(t.Context(), r.conv, r.question)
			noErr(t, "StartConversation reusing the deleted ids", err)
			_, err = s.AppendMessage(t.Context(), r.answers[0])
			noErr(t, "AppendMessage reusing the rated answer's id", err)
			checkRatings(t, s, rated{user: r.user, conv: r.conv}, "", "")
		}},
		{"DeleteUser removes the user's feedback", func(t *testing.T, s store.Store) {
			now := base()
			u, a := newUser(now)
			noErr(t, "CreateUser", s.CreateUser(t.Context(), u, a))
			c, q := startConversation(t, s, u.ID, now)
			answer := appendMessage(t, s, c, store.RoleAssistant, now)
			setFeedback(t, s, feedback(answer, "up", now))
			other := newRated(t, s, now)
			setFeedback(t, s, feedback(other.answers[1], "down", now))

			noErr(t, "DeleteUser", s.DeleteUser(t.Context(), u.ID))

			wantErr(t, "SetFeedback of the deleted user", s.SetFeedback(t.Context(), feedback(answer, "down", now)), store.ErrNotFound)
			checkRatings(t, s, other, "", "", "down")

			// Recreated with the same ids, the user's answer has no rating.
			noErr(t, "CreateUser again", s.CreateUser(t.Context(), u, a))
			_, err := s.StartConversation(t.Context(), c, q)
			noErr(t, "StartConversation reusing the deleted ids", err)
			_, err = s.AppendMessage(t.Context(), answer)
			noErr(t, "AppendMessage reusing the rated answer's id", err)
			if got := ratings(t, s, u.ID, c.ID); !slices.Equal(got, []string{"", ""}) {
				t.Errorf("ratings after the user was recreated = %q, want none", got)
			}
		}},
	}
}

// withRating returns m with its rating set.
func withRating(m store.Message, rating string) store.Message {
	m.Rating = rating
	return m
}

func usageTests() []test {
	const day = "2025-03-14"
	return []test{
		{"AddUsage accumulates and returns the totals", func(t *testing.T, s store.Store) {
			u := createUser(t, s, base())
			steps := []struct {
				requests, tokens int64
				want             store.Usage
			}{
				{1, 120, store.Usage{Requests: 1, Tokens: 120}},
				{0, 0, store.Usage{Requests: 1, Tokens: 120}},
				{2, 80, store.Usage{Requests: 3, Tokens: 200}},
				{0, 55, store.Usage{Requests: 3, Tokens: 255}},
				{1, 0, store.Usage{Requests: 4, Tokens: 255}},
			}
			for i, st := range steps {
				got, err := s.AddUsage(t.Context(), u.ID, day, st.requests, st.tokens)
				noErr(t, fmt.Sprintf("AddUsage %d", i), err)
				checkUsage(t, fmt.Sprintf("totals after add %d", i), got, st.want)
			}
			checkUsage(t, "totals read back", usage(t, s, u.ID, day), steps[len(steps)-1].want)
		}},
		{"AddUsage from 20 goroutines at once loses no add", func(t *testing.T, s store.Store) {
			u := createUser(t, s, base())
			const n = 20
			totals := make([]store.Usage, n)
			errs := parallel(n, func(i int) error {
				var err error
				totals[i], err = s.AddUsage(t.Context(), u.ID, day, 1, int64(i+1))
				return err
			})
			for i, err := range errs {
				if err != nil {
					t.Errorf("AddUsage %d: %v", i, err)
				}
			}
			checkUsage(t, "totals", usage(t, s, u.ID, day), store.Usage{Requests: n, Tokens: n * (n + 1) / 2})

			// Each add saw the totals just after its own: one request more
			// than the add before it.
			seen := make([]int64, n)
			for i, x := range totals {
				seen[i] = x.Requests
			}
			slices.Sort(seen)
			if want := seqRange(1, n); !slices.Equal(seen, want) {
				t.Errorf("request totals returned = %v, want each of %v once", seen, want)
			}
		}},
		{"AddUsage keeps each user's days apart", func(t *testing.T, s store.Store) {
			now := base()
			a, b := createUser(t, s, now), createUser(t, s, now)
			const next = "2025-03-15"
			adds := []struct {
				user             store.User
				day              string
				requests, tokens int64
			}{
				{a, day, 1, 10},
				{a, next, 2, 20},
				{b, day, 3, 30},
				{a, day, 4, 40},
			}
			for i, x := range adds {
				_, err := s.AddUsage(t.Context(), x.user.ID, x.day, x.requests, x.tokens)
				noErr(t, fmt.Sprintf("AddUsage %d", i), err)
			}
			cases := []struct {
				name string
				user store.User
				day  string
				want store.Usage
			}{
				{"the first user's first day", a, day, store.Usage{Requests: 5, Tokens: 50}},
				{"the first user's second day", a, next, store.Usage{Requests: 2, Tokens: 20}},
				{"the second user's first day", b, day, store.Usage{Requests: 3, Tokens: 30}},
				{"the second user's second day", b, next, store.Usage{}},
			}
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					checkUsage(t, "totals", usage(t, s, tc.user.ID, tc.day), tc.want)
				})
			}
		}},
		{"AddUsage of zeros reads zeros where nothing was used", func(t *testing.T, s store.Store) {
			u := createUser(t, s, base())
			_, err := s.AddUsage(t.Context(), u.ID, day, 1, 1)
			noErr(t, "AddUsage", err)
			cases := []struct {
				name, userID, day string
			}{
				{"an unused day", u.ID, "2025-03-13"},
				{"a user who used nothing", createUser(t, s, base()).ID, day},
				{"a missing user", randid.New(), day},
			}
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					checkUsage(t, "totals", usage(t, s, tc.userID, tc.day), store.Usage{})
				})
			}
		}},
		{"AddUsage for a missing user returns ErrNotFound", func(t *testing.T, s store.Store) {
			missing := randid.New()
			_, err := s.AddUsage(t.Context(), missing, day, 1, 10)
			wantErr(t, "AddUsage", err, store.ErrNotFound)
			checkUsage(t, "totals", usage(t, s, missing, day), store.Usage{})
		}},
		{"AddUsage refuses a malformed day or a negative amount and changes nothing", func(t *testing.T, s store.Store) {
			u := createUser(t, s, base())
			before, err := s.AddUsage(t.Context(), u.ID, day, 2, 20)
			noErr(t, "AddUsage", err)
			cases := []struct {
				name             string
				day              string
				requests, tokens int64
			}{
				{"an empty day", "", 1, 1},
				{"a day without leading zeros", "2025-3-14", 1, 1},
				{"a day that does not exist", "2025-02-30", 1, 1},
				{"a day written another way", "14/03/2025", 1, 1},
				{"a time instead of a day", "2025-03-14T00:00:00Z", 1, 1},
				{"a day with a space", " " + day, 1, 1},
				{"negative requests", day, -1, 0},
				{"negative tokens", day, 0, -5},
				{"a read of a malformed day", "2025/03/14", 0, 0},
			}
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					_, err := s.AddUsage(t.Context(), u.ID, tc.day, tc.requests, tc.tokens)
					wantRefused(t, "AddUsage", err)
					checkUsage(t, "totals", usage(t, s, u.ID, day), before)
				})
			}
		}},
		{"AddUsage that would overflow a counter fails and changes nothing", func(t *testing.T, s store.Store) {
			u := createUser(t, s, base())
			before, err := s.AddUsage(t.Context(), u.ID, day, math.MaxInt64, 1)
			noErr(t, "AddUsage of the largest count", err)
			checkUsage(t, "totals", before, store.Usage{Requests: math.MaxInt64, Tokens: 1})
			_, err = s.AddUsage(t.Context(), u.ID, day, 1, 1)
			wantSomeErr(t, "AddUsage past the largest count", err, nil)
			checkUsage(t, "totals", usage(t, s, u.ID, day), before)
		}},
		{"DeleteUser removes the user's usage", func(t *testing.T, s store.Store) {
			now := base()
			u, a := newUser(now)
			noErr(t, "CreateUser", s.CreateUser(t.Context(), u, a))
			other := createUser(t, s, now)
			for _, id := range []string{u.ID, other.ID} {
				_, err := s.AddUsage(t.Context(), id, day, 3, 30)
				noErr(t, "AddUsage", err)
			}

			noErr(t, "DeleteUser", s.DeleteUser(t.Context(), u.ID))

			checkUsage(t, "deleted user's totals", usage(t, s, u.ID, day), store.Usage{})
			_, err := s.AddUsage(t.Context(), u.ID, day, 1, 1)
			wantErr(t, "AddUsage of the deleted user", err, store.ErrNotFound)
			checkUsage(t, "other user's totals", usage(t, s, other.ID, day), store.Usage{Requests: 3, Tokens: 30})

			// Recreated, the user starts from zero.
			noErr(t, "CreateUser again", s.CreateUser(t.Context(), u, a))
			got, err := s.AddUsage(t.Context(), u.ID, day, 1, 1)
			noErr(t, "AddUsage of the recreated user", err)
			checkUsage(t, "recreated user's totals", got, store.Usage{Requests: 1, Tokens: 1})
		}},
	}
}

// RunFeedbackRecords checks what SetFeedback stores beyond the rating
// ListMessages shows (the comment and both times), which no Store method
// reads back. stored returns the feedback on a message as the engine holds
// it, or an error wrapping store.ErrNotFound when there is none; s must be a
// migrated store.
func RunFeedbackRecords(t *testing.T, s store.Store, stored func(ctx context.Context, messageID string) (store.Feedback, error)) {
	get := func(t *testing.T, messageID string) store.Feedback {
		t.Helper()
		f, err := stored(t.Context(), messageID)
		noErr(t, "stored feedback", err)
		return f
	}
	now := base()
	later := now.Add(time.Hour)

	t.Run("SetFeedback stores the rating, the comment and the times", func(t *testing.T) {
		r := newRated(t, s, now)
		f := feedback(r.answers[0], "down", now)
		f.UpdatedAt = now.Add(time.Second)
		setFeedback(t, s, f)
		checkFeedback(t, get(t, f.MessageID), f)
	})
	t.Run("SetFeedback keeps CreatedAt and moves UpdatedAt when it replaces feedback", func(t *testing.T) {
		r := newRated(t, s, now)
		f := feedback(r.answers[0], "up", now)
		setFeedback(t, s, f)
		g := feedback(r.answers[0], "down", later)
		g.Comment = "Changed my mind."
		setFeedback(t, s, g)
		want := g
		want.CreatedAt = f.CreatedAt
		checkFeedback(t, get(t, f.MessageID), want)
	})
	t.Run("SetFeedback stores the comment as given", func(t *testing.T) {
		r := newRated(t, s, now)
		cases := []struct {
			name    string
			comment string
		}{
			{"an empty comment", ""},
			{"a comment with quotes, ünïcode and newlines", "It said \"x\"; I meant «y».\nWrong — twice.\r\n"},
			{"a long comment", strings.Repeat("too vague ", 5_000)},
			{"a comment of spaces", "   "},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				f := feedback(r.answers[1], "down", now)
				f.Comment = tc.comment
				setFeedback(t, s, f)
				check(t, "Feedback.Comment", get(t, f.MessageID).Comment, tc.comment)
			})
		}
	})
	t.Run("a refused or unmatched SetFeedback stores nothing", func(t *testing.T) {
		owner := newRated(t, s, now)
		f := feedback(owner.answers[0], "up", now)
		setFeedback(t, s, f)
		intruder := createUser(t, s, now)
		cases := []struct {
			name   string
			change func(g *store.Feedback)
		}{
			{"another user's rated answer", func(g *store.Feedback) { g.UserID = intruder.ID }},
			{"another user's unrated answer", func(g *store.Feedback) {
				g.MessageID, g.UserID = owner.answers[1].ID, intruder.ID
			}},
			{"the user's own question", func(g *store.Feedback) { g.MessageID = owner.question.ID }},
			{"a bad rating on a rated answer", func(g *store.Feedback) { g.Rating = "meh" }},
			{"a bad rating on an unrated answer", func(g *store.Feedback) { g.MessageID, g.Rating = owner.answers[1].ID, "meh" }},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				g := feedback(owner.answers[0], "down", later)
				tc.change(&g)
				wantSomeErr(t, "SetFeedback", s.SetFeedback(t.Context(), g), nil)
				checkFeedback(t, get(t, f.MessageID), f)
				for _, m := range []store.Message{owner.question, owner.answers[1]} {
					_, err := stored(t.Context(), m.ID)
					wantErr(t, "stored feedback on "+m.Role+" message "+fmt.Sprint(m.Seq), err, store.ErrNotFound)
				}
			})
		}
	})
}

func checkFeedback(t *testing.T, got, want store.Feedback) {
	t.Helper()
	check(t, "Feedback.MessageID", got.MessageID, want.MessageID)
	check(t, "Feedback.UserID", got.UserID, want.UserID)
	check(t, "Feedback.Rating", got.Rating, want.Rating)
	check(t, "Feedback.Comment", got.Comment, want.Comment)
	checkTime(t, "Feedback.CreatedAt", got.CreatedAt, want.CreatedAt)
	checkTime(t, "Feedback.UpdatedAt", got.UpdatedAt, want.UpdatedAt)
}
