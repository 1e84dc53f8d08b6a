package sqlite

import (
	"context"
	"time"

	"github.com/lectern/lectern/internal/store"
)

// microsPerDay turns a stored time (microseconds) into its day number.
const microsPerDay = int64(24 * time.Hour / time.Microsecond)

// Volume returns the questions asked and the answers given in [from, to),
// day by day (UTC). Days are counted by integer division of the stored
// microseconds, which needs no date function per row.
func (s *Store) Volume(ctx context.Context, from, to time.Time) (store.Volume, error) {
	var v store.Volume
	rows, err := s.read.QueryContext(ctx,
		`SELECT created_at / ?, count(*), count(DISTINCT user_id) FROM messages
		 WHERE created_at >= ? AND created_at < ? AND role = 'user'
		 GROUP BY 1 ORDER BY 1`, microsPerDay, toDB(from), toDB(to))
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
	rows, err = s.read.QueryContext(ctx,
		`SELECT created_at / ?, agent_type, sum(1 - not_covered), sum(not_covered) FROM messages
		 WHERE created_at >= ? AND created_at < ? AND role = 'assistant'
		 GROUP BY 1, 2 ORDER BY 1, 2`, microsPerDay, toDB(from), toDB(to))
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
