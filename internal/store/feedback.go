package store

import (
	"fmt"
	"time"
)

// Checks both engines make before SetFeedback and AddUsage write, so that
// they refuse the same arguments with the same errors.

// CheckFeedback rejects feedback whose rating is neither "up" nor "down".
func CheckFeedback(f Feedback) error {
	if f.Rating != "up" && f.Rating != "down" {
		return fmt.Errorf("rating %q is neither up nor down", f.Rating)
	}
	return nil
}

// CheckUsage rejects a day that is not a date written "2006-01-02" and
// negative amounts, which would let a counter go down.
func CheckUsage(day string, requests, tokens int64) error {
	if _, err := time.Parse(time.DateOnly, day); err != nil {
		return fmt.Errorf("day %q is not a date (YYYY-MM-DD)", day)
	}
	if requests < 0 || tokens < 0 {
		return fmt.Errorf("negative usage (%d requests, %d tokens)", requests, tokens)
	}
	return nil
}
