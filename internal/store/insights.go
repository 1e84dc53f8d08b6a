package store

import "time"

// DayVolume is what readers asked on one day (UTC).
type DayVolume struct {
	Day       time.Time // midnight UTC
	Questions int64     // questions asked
	Readers   int64     // distinct readers who asked
}

// AgentVolume is how one agent answered on one day (UTC).
type AgentVolume struct {
	Day        time.Time // midnight UTC
	Agent      string
	Answered   int64 // answers from the book
	NotCovered int64 // answers saying the book does not cover the question
}

// Volume is the questions and answers of a span of days, day by day, for
// the book's owners. It names no reader.
type Volume struct {
	Days   []DayVolume   // days with at least one question, in order
	Agents []AgentVolume // by day, then agent
}

// DayOf returns the midnight UTC of the day numbered n since 1970-01-01.
func DayOf(n int64) time.Time { return time.Unix(n*24*60*60, 0).UTC() }

// AskedQuestion is a question as the book's owners see it, with the
// reader's id only to count distinct readers; it is never shown.
type AskedQuestion struct {
	Text    string
	Page    string // the page it was asked from, "" when none
	UserID  string
	AskedAt time.Time
}

// RatedAnswer is an answer a reader rated down, with its question, as the
// book's owners see it.
type RatedAnswer struct {
	Question string
	Answer   string
	Sources  []byte // the answer's cited sections, as stored
	Comment  string // the reader's comment on the rating, "" when none
	RatedAt  time.Time
}

// PageCount is how often readers asked from one page of the book.
type PageCount struct {
	Page      string
	Questions int64
	Readers   int64 // distinct readers who asked from it
}

// SectionCount is how often answers cited one section of the book.
type SectionCount struct {
	URL       string // the section's page and heading anchor
	Slug      string // its page
	Heading   string // "" for the page's top
	Citations int64  // answers that cited it
	Readers   int64  // distinct readers who got those answers
}
