package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"time"

	"github.com/lectern/lectern/internal/store"
)

// microsPerDay turns a stored time (microseconds) into its day number.
const microsPerDay = int64(24 * time.Hour / time.Microsecond)

// wholeDays reports whether from and to are midnights (UTC), and returns
// their day numbers: a span the daily counts of migration 0011 answer.
func wholeDays(from, to time.Time) (fromDay, toDay int64, ok bool) {
	f, t := toDB(from), toDB(to)
	return f / microsPerDay, t / microsPerDay, f >= 0 && t >= 0 && f%microsPerDay == 0 && t%microsPerDay == 0
}

// The queries of Volume: from the daily counts for a span of whole days,
// from the messages for any other.
const (
	volumeDays           = `SELECT day, questions, readers FROM insights_days WHERE day >= ? AND day < ? ORDER BY day`
	volumeDaysOfMessages = `SELECT created_at / ?, count(*), count(DISTINCT user_id) FROM messages
		WHERE created_at >= ? AND created_at < ? AND role = 'user'
		GROUP BY 1 ORDER BY 1`
	volumeAgents = `SELECT day, agent, answered, not_covered FROM insights_agent_days
		WHERE day >= ? AND day < ? ORDER BY day, agent`
	volumeAgentsOfMessages = `SELECT created_at / ?, agent_type, sum(1 - not_covered), sum(not_covered) FROM messages
		WHERE created_at >= ? AND created_at < ? AND role = 'assistant'
		GROUP BY 1, 2 ORDER BY 1, 2`
)

// Volume returns the questions asked and the answers given in [from, to),
// day by day (UTC). Days are counted by integer division of the stored
// microseconds, which needs no date function per row. A span of whole days
// is read from the daily counts the triggers of migration 0011 keep (a few
// rows a day); any other from the messages.
func (s *Store) Volume(ctx context.Context, from, to time.Time) (store.Volume, error) {
	var v store.Volume
	days, agents, args := volumeDaysOfMessages, volumeAgentsOfMessages, []any{microsPerDay, toDB(from), toDB(to)}
	if fromDay, toDay, ok := wholeDays(from, to); ok {
		days, agents, args = volumeDays, volumeAgents, []any{fromDay, toDay}
	}
	rows, err := s.read.QueryContext(ctx, days, args...)
	if err != nil {
		return v, wrap("volume", err)
	}
	for rows.Next() {
		var d store.DayVolume
		var day int64
		if err := rows.Scan(&day, &d.Questions, &d.Readers); err != nil {
			rows.Close()
			return v, wrap("volume", err)
		}
		d.Day = store.DayOf(day)
		v.Days = append(v.Days, d)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return v, wrap("volume", err)
	}
	rows, err = s.read.QueryContext(ctx, agents, args...)
	if err != nil {
		return v, wrap("volume", err)
	}
	defer rows.Close()
	for rows.Next() {
		var a store.AgentVolume
		var day int64
		if err := rows.Scan(&day, &a.Agent, &a.Answered, &a.NotCovered); err != nil {
			return v, wrap("volume", err)
		}
		a.Day = store.DayOf(day)
		v.Agents = append(v.Agents, a)
	}
	if err := rows.Err(); err != nil {
		return v, wrap("volume", err)
	}
	return v, nil
}

// NotCoveredQuestions returns the questions whose answer, given in [from,
// to), said the book does not cover them, the most recent first: from the
// copies migration 0011 keeps beside those answers.
func (s *Store) NotCoveredQuestions(ctx context.Context, from, to time.Time, limit int) ([]store.AskedQuestion, error) {
	rows, err := s.read.QueryContext(ctx,
		`SELECT question, page, user_id, asked_at FROM insights_not_covered
		 WHERE answered_at >= ? AND answered_at < ?
		 ORDER BY answered_at DESC LIMIT ?`, toDB(from), toDB(to), limit)
	if err != nil {
		return nil, wrap("not covered questions", err)
	}
	defer rows.Close()
	var out []store.AskedQuestion
	for rows.Next() {
		var q store.AskedQuestion
		var at int64
		if err := rows.Scan(&q.Text, &q.Page, &q.UserID, &at); err != nil {
			return nil, wrap("not covered questions", err)
		}
		q.AskedAt = fromDB(at)
		out = append(out, q)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap("not covered questions", err)
	}
	return out, nil
}

// RatedDown returns the answers rated down in [from, to), with their
// questions, the most recently rated first: from the copies migration 0014
// keeps beside the ratings.
func (s *Store) RatedDown(ctx context.Context, from, to time.Time, limit int) ([]store.RatedAnswer, error) {
	rows, err := s.read.QueryContext(ctx,
		`SELECT question, answer, sources, comment, rated_at FROM insights_rated_down
		 WHERE rated_at >= ? AND rated_at < ?
		 ORDER BY rated_at DESC LIMIT ?`, toDB(from), toDB(to), limit)
	if err != nil {
		return nil, wrap("rated down", err)
	}
	defer rows.Close()
	var out []store.RatedAnswer
	for rows.Next() {
		var r store.RatedAnswer
		var sources *string
		var at int64
		if err := rows.Scan(&r.Question, &r.Answer, &sources, &r.Comment, &at); err != nil {
			return nil, wrap("rated down", err)
		}
		if sources != nil {
			r.Sources = []byte(*sources)
		}
		r.RatedAt = fromDB(at)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap("rated down", err)
	}
	return out, nil
}

// keyCounts adds up the per-day rows of insights_key_days of kind over
// the days [fromDay, toDay) (migration 0013): the counts, and the distinct
// readers of each key. The keys of insights_keys let it seek each key's
// days of the span instead of reading all their days.
func (s *Store) keyCounts(ctx context.Context, kind string, fromDay, toDay int64, minReaders, limit int) ([]store.KeyCount, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT key, n, readers FROM insights_key_days
		WHERE kind = ?1 AND key IN (SELECT key FROM insights_keys WHERE kind = ?1) AND day >= ?2 AND day < ?3
		ORDER BY key`, kind, fromDay, toDay)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var t store.KeyTally
	for rows.Next() {
		var key, readers sql.RawBytes
		var n int64
		if err := rows.Scan(&key, &n, &readers); err != nil {
			return nil, err
		}
		t.Add(key, n, readers)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return t.Counts(minReaders, limit), nil
}

// PagesAskedFrom returns the pages readers asked the most questions from
// in [from, to), most asked first. A span of whole days is added up from
// the counts per page and day; any other is read from the questions.
func (s *Store) PagesAskedFrom(ctx context.Context, from, to time.Time, minReaders, limit int) ([]store.PageCount, error) {
	fromDay, toDay, ok := wholeDays(from, to)
	if !ok {
		return s.pagesOfMessages(ctx, from, to, minReaders, limit)
	}
	counts, err := s.keyCounts(ctx, "page", fromDay, toDay, minReaders, limit)
	if err != nil {
		return nil, wrap("pages asked from", err)
	}
	out := make([]store.PageCount, len(counts))
	for i, c := range counts {
		out[i] = store.PageCount{Page: c.Key, Questions: c.N, Readers: c.Readers}
	}
	return out, nil
}

// pagesOfMessages is PagesAskedFrom for a span that is not whole days.
func (s *Store) pagesOfMessages(ctx context.Context, from, to time.Time, minReaders, limit int) ([]store.PageCount, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT page, count(*), count(DISTINCT user_id) FROM messages
		WHERE created_at >= ? AND created_at < ? AND role = 'user' AND page <> ''
		GROUP BY page HAVING count(DISTINCT user_id) >= ? ORDER BY 2 DESC, page LIMIT ?`, toDB(from), toDB(to), minReaders, limit)
	if err != nil {
		return nil, wrap("pages asked from", err)
	}
	defer rows.Close()
	var out []store.PageCount
	for rows.Next() {
		var p store.PageCount
		if err := rows.Scan(&p.Page, &p.Questions, &p.Readers); err != nil {
			return nil, wrap("pages asked from", err)
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap("pages asked from", err)
	}
	return out, nil
}

// SectionsCited returns the sections answers given in [from, to) cited the
// most, most cited first. A span of whole days is added up from the counts
// per section and day; any other is read from the citations.
func (s *Store) SectionsCited(ctx context.Context, from, to time.Time, minReaders, limit int) ([]store.SectionCount, error) {
	fromDay, toDay, ok := wholeDays(from, to)
	if !ok {
		return s.sectionsOfCitations(ctx, from, to, minReaders, limit)
	}
	counts, err := s.keyCounts(ctx, "section", fromDay, toDay, minReaders, limit)
	if err != nil {
		return nil, wrap("sections cited", err)
	}
	out := make([]store.SectionCount, len(counts))
	urls := make([]string, len(counts))
	at := make(map[string]int, len(counts))
	for i, c := range counts {
		out[i] = store.SectionCount{URL: c.Key, Citations: c.N, Readers: c.Readers}
		urls[i], at[c.Key] = c.Key, i
	}
	if len(urls) == 0 {
		return out, nil
	}
	list, err := json.Marshal(urls)
	if err != nil {
		return nil, wrap("sections cited", err)
	}
	rows, err := s.read.QueryContext(ctx, `SELECT url, max(slug), max(heading) FROM insights_section_names
		WHERE url IN (SELECT value FROM json_each(?)) AND day >= ? AND day < ? GROUP BY url`, list, fromDay, toDay)
	if err != nil {
		return nil, wrap("sections cited", err)
	}
	defer rows.Close()
	for rows.Next() {
		var url, slug, heading string
		if err := rows.Scan(&url, &slug, &heading); err != nil {
			return nil, wrap("sections cited", err)
		}
		if i, ok := at[url]; ok {
			out[i].Slug, out[i].Heading = slug, heading
		}
	}
	if err := rows.Err(); err != nil {
		return nil, wrap("sections cited", err)
	}
	return out, nil
}

// sectionsOfCitations is SectionsCited for a span that is not whole days.
func (s *Store) sectionsOfCitations(ctx context.Context, from, to time.Time, minReaders, limit int) ([]store.SectionCount, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT url, max(slug), max(heading), count(*), count(DISTINCT user_id)
		FROM citations WHERE created_at >= ? AND created_at < ?
		GROUP BY url HAVING count(DISTINCT user_id) >= ? ORDER BY 4 DESC, url LIMIT ?`, toDB(from), toDB(to), minReaders, limit)
	if err != nil {
		return nil, wrap("sections cited", err)
	}
	defer rows.Close()
	var out []store.SectionCount
	for rows.Next() {
		var c store.SectionCount
		if err := rows.Scan(&c.URL, &c.Slug, &c.Heading, &c.Citations, &c.Readers); err != nil {
			return nil, wrap("sections cited", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap("sections cited", err)
	}
	return out, nil
}
