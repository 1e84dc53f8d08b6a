package sqlite

import (
	"path/filepath"
	"testing"
)

func TestStatsDescribeBothPools(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "stats.db"))
	if err := s.Ping(t.Context()); err != nil {
		t.Fatal(err)
	}
	write, read := s.Stats()
	if write.MaxOpenConnections != 1 {
		t.Errorf("write pool allows %d connections, want 1", write.MaxOpenConnections)
	}
	if read.MaxOpenConnections < 4 {
		t.Errorf("read pool allows %d connections, want at least 4", read.MaxOpenConnections)
	}
	if write.OpenConnections < 1 || read.OpenConnections < 1 {
		t.Errorf("after a ping, open connections: write %d, read %d", write.OpenConnections, read.OpenConnections)
	}
}
