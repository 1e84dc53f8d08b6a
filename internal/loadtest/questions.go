package loadtest

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// BuiltinQuestions returns the questions every run draws from: what a reader
// might ask of any book, so the tool needs no knowledge of the one served.
func BuiltinQuestions() []string {
	return []string{
		"What is this book about?",
		"Who is this book written for?",
		"What does the first chapter cover?",
		"What are the main ideas of this chapter?",
		"Can you explain the key terms used here?",
		"What is the most important point of this section?",
		"How does this chapter connect to the previous one?",
		"Can you give me an example of this idea?",
		"What are the common mistakes the book warns about?",
		"What should I remember from this page?",
		"Why does the author recommend this approach?",
		"What is the difference between the two approaches described?",
		"Which chapter should I read next?",
		"How would I apply this in practice?",
		"What evidence does the book give for this?",
		"Can you summarize the conclusion?",
		"What does the book say about history?",
		"Are there any exercises or questions to test myself?",
		"What sources or further reading does the book suggest?",
		"What problem does this section solve?",
	}
}

// maxQuestionLen is the API's limit on a question, in characters.
const maxQuestionLen = 4000

// ReadQuestions reads questions from JSON Lines, one object per line with a
// "question" field (other fields, such as those of an evaluation set like
// books/demo.qa.jsonl, are ignored). Blank lines are skipped; a line that is
// not such an object is an error naming its line number.
func ReadQuestions(r io.Reader) ([]string, error) {
	var out []string
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" {
			continue
		}
		var q struct {
			Question *string `json:"question"`
		}
		if err := json.Unmarshal([]byte(text), &q); err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
		if q.Question == nil || strings.TrimSpace(*q.Question) == "" {
			return nil, fmt.Errorf(`line %d: no "question" field, or an empty one`, line)
		}
		if n := len([]rune(*q.Question)); n > maxQuestionLen {
			return nil, fmt.Errorf("line %d: the question has %d characters; the API takes at most %d", line, n, maxQuestionLen)
		}
		out = append(out, strings.TrimSpace(*q.Question))
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read questions: %w", err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no questions found")
	}
	return out, nil
}
