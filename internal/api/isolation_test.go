package api_test

import (
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lectern/lectern/internal/store"
)

// TestIsolation is the leak test: many readers, each with several
// conversations made concurrently, then every reader tries every endpoint on
// every other reader's conversations. All of it must answer exactly like a
// missing conversation, change nothing, and leave each reader's listing
// equal to what that reader made.
func TestIsolation(t *testing.T) {
	const readers, convsEach = 24, 3
	forEachEngine(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st, options{})
		users := make([]*user, readers)
		owned := make([][]string, readers)
		for i := range users {
			users[i] = e.newUser()
		}
		var wg sync.WaitGroup
		for i, u := range users {
			wg.Go(func() {
				for c := range convsEach {
					res := u.run(t, "", fmt.Sprintf("reader %d question %d", i, c))
					u.run(t, res.SessionID, "a follow-up")
					if r := u.do("POST", "/api/conversations/"+res.SessionID+"/messages", map[string]any{"role": "user", "content": "a note"}); r.status != 201 {
						t.Errorf("post message: %d %s", r.status, r.body)
					}
					owned[i] = append(owned[i], res.SessionID)
				}
			})
		}
		wg.Wait()
		if t.Failed() {
			t.FailNow()
		}

		type snapshot struct {
			convs []conversation
			msgs  map[string][]message
		}
		take := func() []snapshot {
			out := make([]snapshot, readers)
			for i, u := range users {
				s := snapshot{convs: u.conversations(t, 2), msgs: map[string][]message{}}
				for _, c := range s.convs {
					s.msgs[c.ID] = u.messages(t, c.ID, 3)
				}
				out[i] = s
			}
			return out
		}
		before := take()

		t.Run("each reader's listing is exactly what that reader made", func(t *testing.T) {
			for i, s := range before {
				var got []string
				for _, c := range s.convs {
					got = append(got, c.ID)
					if c.UserID != users[i].id || c.MessageCount != 5 || len(s.msgs[c.ID]) != 5 {
						t.Errorf("reader %d conversation %+v has %d messages", i, c, len(s.msgs[c.ID]))
					}
					for _, m := range s.msgs[c.ID] {
						if m.UserID != users[i].id || m.ConversationID != c.ID {
							t.Errorf("reader %d sees a foreign message %+v", i, m)
						}
					}
				}
				want := append([]string(nil), owned[i]...)
				sort.Strings(got)
				sort.Strings(want)
				if !reflect.DeepEqual(got, want) {
					t.Errorf("reader %d lists %v, made %v", i, got, want)
				}
			}
		})

		missing := users[0].do("GET", "/api/conversations/doesNotExist0000000000000000000", nil)
		if missing.status != 404 {
			t.Fatalf("a missing conversation answered %d", missing.status)
		}

		t.Run("every endpoint on another reader's conversation answers like a missing one", func(t *testing.T) {
			var wg sync.WaitGroup
			for i, u := range users {
				wg.Go(func() {
					for j := range users {
						if j == i {
							continue
						}
						for _, id := range owned[j] {
							for _, call := range []struct {
								method, path string
								body         any
							}{
								{"GET", "/api/conversations/" + id, nil},
								{"PATCH", "/api/conversations/" + id, map[string]any{"title": "stolen"}},
								{"DELETE", "/api/conversations/" + id, nil},
								{"GET", "/api/conversations/" + id + "/messages", nil},
								{"POST", "/api/conversations/" + id + "/messages", map[string]any{"content": "injected"}},
								{"POST", "/api/agents/run", map[string]any{"agent_type": "rag", "query": "injected", "session_id": id}},
							} {
								r := u.do(call.method, call.path, call.body)
								if r.status != 404 || string(r.body) != string(missing.body) {
									t.Errorf("reader %d %s %s on reader %d's conversation: %d %s", i, call.method, call.path, j, r.status, r.body)
								}
							}
						}
					}
				})
			}
			wg.Wait()
		})

		t.Run("nothing changed and nothing was listed elsewhere", func(t *testing.T) {
			if after := take(); !reflect.DeepEqual(before, after) {
				t.Error("the attack changed some reader's conversations or messages")
			}
		})
	})
}

// TestDeletedAccountsTokensAreRefused replays the takeover an audit found:
// an attacker signs up with a victim's address, keeps a JWT, deletes the
// account; the victim signs up; the old JWT used to bring the deleted row
// back with the victim's address and rename the victim's to a placeholder,
// locking the victim out. Now the old token is refused (401) and nothing is
// written.
func TestDeletedAccountsTokensAreRefused(t *testing.T) {
	forEachEngine(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st, options{})
		email := fmt.Sprintf("victim-%d@example.com", time.Now().UnixNano())
		attacker := e.signUp(email)
		if r := attacker.do("GET", "/api/conversations", nil); r.status != 200 {
			t.Fatalf("before the deletion: %d", r.status)
		}
		req, _ := http.NewRequest("POST", e.url+"/api/auth/delete-user", strings.NewReader(`{}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Cookie", attacker.cookie)
		req.Header.Set("Origin", e.url)
		res, err := http.DefaultClient.Do(req)
		if err != nil || res.StatusCode != 200 {
			t.Fatalf("delete-user: %v %v", res.StatusCode, err)
		}
		res.Body.Close()
		victim := e.signUp(email)
		for _, path := range []string{"/api/conversations", "/api/users/me"} {
			if r := attacker.do("GET", path, nil); r.status != 401 {
				t.Errorf("GET %s with the deleted account's token: %d %s, want 401", path, r.status, r.body)
			}
		}
		if _, err := st.UserByID(t.Context(), attacker.id); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("the deleted account came back: %v", err)
		}
		if u, err := st.UserByEmail(t.Context(), email); err != nil || u.ID != victim.id {
			t.Errorf("the address belongs to %q (%v), want the victim %q", u.ID, err, victim.id)
		}
		if r := victim.do("GET", "/api/conversations", nil); r.status != 200 {
			t.Errorf("the victim: %d", r.status)
		}
	})
}
