package insights

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/lectern/lectern/internal/fault"
	"github.com/lectern/lectern/internal/store"
)

// Store is the storage the insights read.
type Store interface {
	Users
	Volume(ctx context.Context, from, to time.Time) (store.Volume, error)
	NotCoveredQuestions(ctx context.Context, from, to time.Time, limit int) ([]store.AskedQuestion, error)
	RatedDown(ctx context.Context, from, to time.Time, limit int) ([]store.RatedAnswer, error)
	PagesAskedFrom(ctx context.Context, from, to time.Time, minReaders, limit int) ([]store.PageCount, error)
	SectionsCited(ctx context.Context, from, to time.Time, minReaders, limit int) ([]store.SectionCount, error)
}

// Options configures a Service.
type Options struct {
	// AdminEmails are the owners by configuration (LECTERN_ADMIN_EMAILS).
	AdminEmails []string
	// Analyze turns a question into the book's index terms, for grouping
	// questions asked in different words (library.Library.Analyze).
	Analyze func(string) []string
	// MinReaders hides the groups of questions, pages and sections fewer
	// distinct readers than this asked about (LECTERN_INSIGHTS_MIN_READERS),
	// so that no row stands for one reader; 1 or less hides none.
	MinReaders int
	Now        func() time.Time
}

// Service answers the owners' questions about their readers. Every method
// takes the asking user's id and answers ErrNotOwner to anyone else.
type Service struct {
	st         Store
	roles      *Roles
	analyze    func(string) []string
	minReaders int
	now        func() time.Time
}

// New returns the insights of the book stored in st.
func New(st Store, opt Options) *Service {
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Analyze == nil {
		opt.Analyze = func(s string) []string { return strings.Fields(strings.ToLower(s)) }
	}
	return &Service{st: st, roles: NewRoles(st, opt.AdminEmails, opt.Now), analyze: opt.Analyze, minReaders: max(opt.MinReaders, 1), now: opt.Now}
}

// ErrNotOwner refuses a reader: as for any unknown route, nothing says
// that insights exist.
var ErrNotOwner = fault.Sentinel(fault.NotFound, "not found")

// MaxSpan is the longest span of days one request may read.
const MaxSpan = 366 * 24 * time.Hour

// DefaultSpan is the span shown when none is asked for: the last 30 days.
const DefaultSpan = 30 * 24 * time.Hour

// Span is a span of whole days, UTC: From at midnight, To the midnight
// after the last day.
type Span struct{ From, To time.Time }

// ParseSpan reads a span of days from "YYYY-MM-DD" dates, both included;
// either may be empty: the last 30 days up to today.
func (s *Service) ParseSpan(from, to string) (Span, error) {
	today := s.now().UTC().Truncate(24 * time.Hour)
	sp := Span{From: today.Add(-DefaultSpan + 24*time.Hour), To: today.Add(24 * time.Hour)}
	if to != "" {
		d, err := time.Parse(time.DateOnly, to)
		if err != nil {
			return Span{}, invalid("to", "must be a date, YYYY-MM-DD")
		}
		sp.To = d.Add(24 * time.Hour)
		if from == "" {
			sp.From = sp.To.Add(-DefaultSpan)
		}
	}
	if from != "" {
		d, err := time.Parse(time.DateOnly, from)
		if err != nil {
			return Span{}, invalid("from", "must be a date, YYYY-MM-DD")
		}
		sp.From = d
	}
	switch {
	case !sp.From.Before(sp.To):
		return Span{}, invalid("from", "must not be after to")
	case sp.To.Sub(sp.From) > MaxSpan:
		return Span{}, invalid("from", "the span may be at most %d days", int(MaxSpan/(24*time.Hour)))
	}
	return sp, nil
}

func invalid(field, format string, a ...any) error {
	return fault.New(fault.Invalid, "VALIDATION_ERROR", field+": "+fmt.Sprintf(format, a...))
}

// owner refuses anyone but an owner.
func (s *Service) owner(ctx context.Context, userID string) error {
	ok, err := s.roles.IsOwner(ctx, userID)
	if err != nil {
		return err
	}
	if !ok {
		return ErrNotOwner
	}
	return nil
}

// read checks that userID is an owner, reads the span of days from and to
// (see ParseSpan) and returns it with what f reads of it.
func read[T any](ctx context.Context, s *Service, userID, from, to, what string, f func(Span) (T, error)) (Span, T, error) {
	var zero T
	if err := s.owner(ctx, userID); err != nil {
		return Span{}, zero, err
	}
	sp, err := s.ParseSpan(from, to)
	if err != nil {
		return Span{}, zero, err
	}
	v, err := f(sp)
	if err != nil {
		return Span{}, zero, fmt.Errorf("read %s: %w", what, err)
	}
	return sp, v, nil
}

// Volume is the questions and answers of the span of days from and to
// (see ParseSpan), day by day, with the span read.
func (s *Service) Volume(ctx context.Context, userID, from, to string) (Span, store.Volume, error) {
	return read(ctx, s, userID, from, to, "the volume", func(sp Span) (store.Volume, error) {
		return s.st.Volume(ctx, sp.From, sp.To)
	})
}

// MaxGrouped is how many of a span's not-covered questions, the most
// recent, are grouped for one request.
const MaxGrouped = 20_000

// NotCovered is what the book does not answer: the questions of the span
// whose answer said so, grouped when they ask the same thing in other
// words, most asked first.
func (s *Service) NotCovered(ctx context.Context, userID, from, to string) (Span, []Group, error) {
	return read(ctx, s, userID, from, to, "the questions not covered", func(sp Span) ([]Group, error) {
		qs, err := s.st.NotCoveredQuestions(ctx, sp.From, sp.To, MaxGrouped)
		if err != nil {
			return nil, err
		}
		asked := make([]Asked, len(qs))
		for i, q := range qs {
			asked[i] = Asked{Text: q.Text, Reader: q.UserID, At: q.AskedAt}
		}
		return GroupQuestions(asked, s.analyze, s.minReaders), nil
	})
}

// MaxRatedDown is how many answers rated down one request lists.
const MaxRatedDown = 500

// RatedDown is the span's answers that readers rated down, with their
// questions and sources, so the owner can tell whether the book or the
// search is at fault: the most recently rated first.
func (s *Service) RatedDown(ctx context.Context, userID, from, to string) (Span, []store.RatedAnswer, error) {
	return read(ctx, s, userID, from, to, "the answers rated down", func(sp Span) ([]store.RatedAnswer, error) {
		return s.st.RatedDown(ctx, sp.From, sp.To, MaxRatedDown)
	})
}

// MaxPages is how many pages, or sections, one request lists.
const MaxPages = 100

// PagesAskedFrom is where readers ask from: the pages of the book they
// asked the most questions from in the span, most asked first.
func (s *Service) PagesAskedFrom(ctx context.Context, userID, from, to string) (Span, []store.PageCount, error) {
	return read(ctx, s, userID, from, to, "the pages asked from", func(sp Span) ([]store.PageCount, error) {
		return s.st.PagesAskedFrom(ctx, sp.From, sp.To, s.minReaders, MaxPages)
	})
}

// SectionsCited is which sections answer readers: the sections of the book
// the span's answers cited the most, most cited first.
func (s *Service) SectionsCited(ctx context.Context, userID, from, to string) (Span, []store.SectionCount, error) {
	return read(ctx, s, userID, from, to, "the sections cited", func(sp Span) ([]store.SectionCount, error) {
		return s.st.SectionsCited(ctx, sp.From, sp.To, s.minReaders, MaxPages)
	})
}
