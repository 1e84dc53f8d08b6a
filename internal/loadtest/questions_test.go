package loadtest

import (
	"bufio"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"
)

func TestReadQuestionsFromTheDemoEvaluationSet(t *testing.T) {
	f, err := os.Open("../../books/demo.qa.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	qs, err := ReadQuestions(f)
	if err != nil {
		t.Fatal(err)
	}
	f.Seek(0, 0)
	lines := 0
	for sc := bufio.NewScanner(f); sc.Scan(); {
		if strings.TrimSpace(sc.Text()) != "" {
			lines++
		}
	}
	if len(qs) != lines || lines == 0 {
		t.Errorf("read %d questions from %d lines", len(qs), lines)
	}
	if qs[0] != "which programming languages are the code examples written in?" {
		t.Errorf("first question %q", qs[0])
	}
}

func TestReadQuestionsRefusesBadLines(t *testing.T) {
	for in, want := range map[string]string{
		"{\"question\":\"a\"}\n\nnot json\n": "line 3:",
		`{"q":"a"}`:                          `line 1: no "question" field`,
		`{"question":"  "}`:                  "an empty one",
		"\n\n":                               "no questions",
		`{"question":"` + strings.Repeat("x", 4001) + `"}`: "at most 4000",
	} {
		if _, err := ReadQuestions(strings.NewReader(in)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ReadQuestions(%.40q) = %v, want %q", in, err, want)
		}
	}
}

func TestBuiltinQuestionsAreFresh(t *testing.T) {
	a := BuiltinQuestions()
	a[0] = "changed"
	if BuiltinQuestions()[0] == "changed" {
		t.Error("BuiltinQuestions shares its slice")
	}
}

func TestJWTLifetimeAndRetryAfter(t *testing.T) {
	if life, err := jwtLifetime(fakeJWT(1000, 1900)); err != nil || life != 15*time.Minute {
		t.Errorf("lifetime %v, %v", life, err)
	}
	for _, bad := range []string{"abc", "a.!!!.c", "a." + b64(`{"iat":1}`) + ".c", "a." + b64(`{"iat":5,"exp":5}`) + ".c"} {
		if _, err := jwtLifetime(bad); err == nil {
			t.Errorf("jwtLifetime(%q) accepted", bad)
		}
	}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for v, want := range map[string]time.Duration{
		"":                              defaultRetryAfter,
		"7":                             7 * time.Second,
		"0":                             0,
		"-3":                            0,
		"soon":                          defaultRetryAfter,
		"Thu, 01 Jan 2026 00:00:30 GMT": 30 * time.Second,
	} {
		if got := retryWait(http.Header{"Retry-After": {v}}, now); got != want {
			t.Errorf("retryWait(%q) = %v, want %v", v, got, want)
		}
	}
}
