package sqlite

import "database/sql"

// Stats returns the statistics of the store's two connection pools: the
// single write connection and the read-only pool. They are for metrics;
// the pools themselves stay private to the store.
func (s *Store) Stats() (write, read sql.DBStats) {
	return s.write.Stats(), s.read.Stats()
}
