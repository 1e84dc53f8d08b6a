package loadtest

import (
	"strings"
	"testing"
)

func TestParseMix(t *testing.T) {
	m, err := ParseMix(" ask=1, list=2,HISTORY=2 ")
	if err != nil || m != (Mix{Ask: 1, List: 2, History: 2}) {
		t.Fatalf("ParseMix = %+v, %v", m, err)
	}
	m, err = ParseMix("list_conversations=3,signin=0.5")
	if err != nil || m != (Mix{List: 3, SignIn: 0.5}) {
		t.Fatalf("aliases: %+v, %v", m, err)
	}
	if back, err := ParseMix(DefaultMix().String()); err != nil || back != DefaultMix() {
		t.Errorf("the default mix does not round-trip: %q → %+v, %v", DefaultMix(), back, err)
	}
	m, err = ParseMix("ask=1,ask_stream=1,list=2,history=2")
	if err != nil || m != (Mix{Ask: 1, AskStream: 1, List: 2, History: 2}) || m.String() != "ask=1,ask_stream=1,list=2,history=2" {
		t.Fatalf("ask_stream: %+v %q, %v", m, m, err)
	}
	if m, err = ParseMix("ask_stream=1"); err != nil || m != (Mix{AskStream: 1}) {
		t.Fatalf("ask_stream alone: %+v, %v", m, err)
	}
	// The default mix streams nothing: it stays what it was.
	if d := DefaultMix(); d != (Mix{Ask: 1, List: 2, History: 2, SignIn: 0.02}) || d.String() != "ask=1,list=2,history=2,sign_in=0.02" {
		t.Errorf("default mix %+v %q", d, d)
	}
}

func TestParseMixRefusesBadInput(t *testing.T) {
	for in, want := range map[string]string{
		"":                            "mix: empty",
		"ask":                         `"ask" is not op=weight`,
		"ask=1,":                      `"" is not op=weight`,
		"read=1":                      `unknown operation "read"; want ask, ask_stream, list, history or sign_in`,
		"ask=x":                       `weight "x" of ask is not a number >= 0`,
		"ask=-1":                      `weight "-1" of ask`,
		"ask=NaN":                     `weight "NaN" of ask`,
		"ask=Inf":                     `weight "Inf" of ask`,
		"ask=1,ask=2":                 "ask is given twice",
		"ask_stream=1,ask_stream=0":   "ask_stream is given twice",
		"ask_stream=-1":               `weight "-1" of ask_stream`,
		"list=1,list_conversations=1": "given twice",
		"ask=0,list=0":                "every weight is 0",
	} {
		_, err := ParseMix(in)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseMix(%q) = %v, want an error containing %q", in, err, want)
		}
	}
	if err := (Mix{Ask: -1, List: 1}).Validate(); err == nil {
		t.Error("a negative weight passes Validate")
	}
}

func TestSchedulerKeepsTheMixInEveryWindow(t *testing.T) {
	s := newScheduler(Mix{Ask: 1, List: 2, History: 2})
	for range 3 { // start anywhere
		s.next()
	}
	for window := range 10 {
		got := map[Op]int{}
		for range 5 {
			got[s.next()]++
		}
		if got[OpAsk] != 1 || got[OpListConversations] != 2 || got[OpHistory] != 2 {
			t.Fatalf("window %d: %v", window, got)
		}
	}
	both := newScheduler(Mix{Ask: 1, AskStream: 1, List: 2})
	for window := range 10 {
		got := map[Op]int{}
		for range 4 {
			got[both.next()]++
		}
		if got[OpAsk] != 1 || got[OpAskStream] != 1 || got[OpListConversations] != 2 {
			t.Fatalf("with ask_stream, window %d: %v", window, got)
		}
	}
	frac := newScheduler(Mix{Ask: 1, SignIn: 0.1})
	n := 0
	for range 110 {
		if frac.next() == OpSignIn {
			n++
		}
	}
	if n != 10 {
		t.Errorf("sign_in=0.1 against ask=1: %d sign-ins in 110, want 10", n)
	}
	if p := newScheduler(DefaultMix()).period(); p != 251 {
		t.Errorf("period of the default mix = %d, want 251", p)
	}
}
