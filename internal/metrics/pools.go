package metrics

import (
	"database/sql"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
)

// RegisterPgxPool adds the statistics of a PostgreSQL connection pool,
// read from stat at each scrape (pass (*pgxpool.Pool).Stat).
func (m *Metrics) RegisterPgxPool(stat func() *pgxpool.Stat) error {
	if m == nil {
		return nil
	}
	if err := m.reg.Register(newPgxPoolCollector(stat)); err != nil {
		return fmt.Errorf("metrics: register pgxpool collector: %w", err)
	}
	return nil
}

// RegisterSQLDB adds the statistics of a database/sql pool, read from stats
// at each scrape (pass (*sql.DB).Stats), labelled pool=name.
func (m *Metrics) RegisterSQLDB(name string, stats func() sql.DBStats) error {
	if m == nil {
		return nil
	}
	if err := m.reg.Register(newSQLCollector(name, stats)); err != nil {
		return fmt.Errorf("metrics: register database/sql collector %q: %w", name, err)
	}
	return nil
}

// pgxPoolCollector reads pgxpool.Stat when scraped: the pool keeps the
// counters, so nothing is recorded between scrapes.
type pgxPoolCollector struct {
	stat func() *pgxpool.Stat

	acquired, idle, total, max         *prometheus.Desc
	acquires, acquireSeconds           *prometheus.Desc
	emptyAcquires, emptyAcquireSeconds *prometheus.Desc
	canceled                           *prometheus.Desc
}

var _ prometheus.Collector = (*pgxPoolCollector)(nil)

func newPgxPoolCollector(stat func() *pgxpool.Stat) *pgxPoolCollector {
	d := func(name, help string) *prometheus.Desc {
		return prometheus.NewDesc("lectern_pgxpool_"+name, help, nil, nil)
	}
	return &pgxPoolCollector{
		stat:                stat,
		acquired:            d("acquired_conns", "PostgreSQL connections currently acquired (in use)."),
		idle:                d("idle_conns", "PostgreSQL connections currently idle in the pool."),
		total:               d("total_conns", "PostgreSQL connections currently open (acquired, idle and being constructed)."),
		max:                 d("max_conns", "Maximum size of the PostgreSQL pool."),
		acquires:            d("acquires_total", "Successful acquires of a connection from the pool."),
		acquireSeconds:      d("acquire_duration_seconds_total", "Total time spent in successful acquires."),
		emptyAcquires:       d("empty_acquires_total", "Successful acquires that had to wait for a connection because none was idle."),
		emptyAcquireSeconds: d("empty_acquire_wait_seconds_total", "Total time spent waiting in acquires that found no idle connection."),
		canceled:            d("canceled_acquires_total", "Acquires canceled by their context before they got a connection."),
	}
}

// Describe implements prometheus.Collector.
func (c *pgxPoolCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.acquired, c.idle, c.total, c.max, c.acquires, c.acquireSeconds,
		c.emptyAcquires, c.emptyAcquireSeconds, c.canceled} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *pgxPoolCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.stat()
	gauge := func(d *prometheus.Desc, v float64) { ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v) }
	counter := func(d *prometheus.Desc, v float64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v)
	}
	gauge(c.acquired, float64(s.AcquiredConns()))
	gauge(c.idle, float64(s.IdleConns()))
	gauge(c.total, float64(s.TotalConns()))
	gauge(c.max, float64(s.MaxConns()))
	counter(c.acquires, float64(s.AcquireCount()))
	counter(c.acquireSeconds, s.AcquireDuration().Seconds())
	counter(c.emptyAcquires, float64(s.EmptyAcquireCount()))
	counter(c.emptyAcquireSeconds, s.EmptyAcquireWaitTime().Seconds())
	counter(c.canceled, float64(s.CanceledAcquireCount()))
}

// sqlCollector reads sql.DBStats when scraped.
type sqlCollector struct {
	stats func() sql.DBStats

	inUse, idle, open, max *prometheus.Desc
	waits, waitSeconds     *prometheus.Desc
	closed                 *prometheus.Desc
}

var _ prometheus.Collector = (*sqlCollector)(nil)

func newSQLCollector(name string, stats func() sql.DBStats) *sqlCollector {
	pool := prometheus.Labels{"pool": name}
	d := func(metric, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc("lectern_sql_"+metric, help, labels, pool)
	}
	return &sqlCollector{
		stats:       stats,
		inUse:       d("in_use_conns", "database/sql connections currently in use, by pool."),
		idle:        d("idle_conns", "database/sql connections currently idle, by pool."),
		open:        d("open_conns", "database/sql connections currently open (in use and idle), by pool."),
		max:         d("max_open_conns", "Maximum open database/sql connections, by pool (0 is unlimited)."),
		waits:       d("waits_total", "Times a query waited for a database/sql connection because none was free, by pool."),
		waitSeconds: d("wait_seconds_total", "Total time spent waiting for a database/sql connection, by pool."),
		closed:      d("closed_conns_total", "database/sql connections closed by the pool's limits, by pool and limit (max_idle, max_idle_time, max_lifetime).", "limit"),
	}
}

// Describe implements prometheus.Collector.
func (c *sqlCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.inUse, c.idle, c.open, c.max, c.waits, c.waitSeconds, c.closed} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *sqlCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.stats()
	gauge := func(d *prometheus.Desc, v float64) { ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v) }
	counter := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v, labels...)
	}
	gauge(c.inUse, float64(s.InUse))
	gauge(c.idle, float64(s.Idle))
	gauge(c.open, float64(s.OpenConnections))
	gauge(c.max, float64(s.MaxOpenConnections))
	counter(c.waits, float64(s.WaitCount))
	counter(c.waitSeconds, s.WaitDuration.Seconds())
	counter(c.closed, float64(s.MaxIdleClosed), "max_idle")
	counter(c.closed, float64(s.MaxIdleTimeClosed), "max_idle_time")
	counter(c.closed, float64(s.MaxLifetimeClosed), "max_lifetime")
}
