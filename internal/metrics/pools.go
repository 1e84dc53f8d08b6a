package metrics

import (
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// PgxPoolStats are the figures of a PostgreSQL connection pool (pgxpool's
// Stat), read at each scrape.
type PgxPoolStats struct {
	Acquired, Idle, Total, Max int32
	Acquires                   int64         // successful acquires
	AcquireTime                time.Duration // spent in them
	EmptyAcquires              int64         // acquires that found no idle connection
	EmptyAcquireWait           time.Duration // spent waiting in those
	Canceled                   int64         // acquires canceled by their context
}

// SQLPoolStats are the figures of a database/sql pool (sql.DBStats), read
// at each scrape.
type SQLPoolStats struct {
	InUse, Idle, Open, MaxOpen                          int
	Waits                                               int64
	WaitTime                                            time.Duration
	MaxIdleClosed, MaxIdleTimeClosed, MaxLifetimeClosed int64
}

// RegisterPgxPool adds the statistics of a PostgreSQL connection pool,
// read from stat at each scrape.
func (m *Metrics) RegisterPgxPool(stat func() PgxPoolStats) error {
	if m == nil {
		return nil
	}
	if err := m.reg.Register(newPgxPoolCollector(stat)); err != nil {
		return fmt.Errorf("metrics: register pgxpool collector: %w", err)
	}
	return nil
}

// RegisterSQLDB adds the statistics of a database/sql pool, read from stats
// at each scrape, labelled pool=name.
func (m *Metrics) RegisterSQLDB(name string, stats func() SQLPoolStats) error {
	if m == nil {
		return nil
	}
	if err := m.reg.Register(newSQLCollector(name, stats)); err != nil {
		return fmt.Errorf("metrics: register database/sql collector %q: %w", name, err)
	}
	return nil
}

// pgxPoolCollector reads the pool's figures when scraped: the pool keeps the
// counters, so nothing is recorded between scrapes.
type pgxPoolCollector struct {
	stat func() PgxPoolStats

	acquired, idle, total, max         *prometheus.Desc
	acquires, acquireSeconds           *prometheus.Desc
	emptyAcquires, emptyAcquireSeconds *prometheus.Desc
	canceled                           *prometheus.Desc
}

var _ prometheus.Collector = (*pgxPoolCollector)(nil)

func newPgxPoolCollector(stat func() PgxPoolStats) *pgxPoolCollector {
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
	gauge(c.acquired, float64(s.Acquired))
	gauge(c.idle, float64(s.Idle))
	gauge(c.total, float64(s.Total))
	gauge(c.max, float64(s.Max))
	counter(c.acquires, float64(s.Acquires))
	counter(c.acquireSeconds, s.AcquireTime.Seconds())
	counter(c.emptyAcquires, float64(s.EmptyAcquires))
	counter(c.emptyAcquireSeconds, s.EmptyAcquireWait.Seconds())
	counter(c.canceled, float64(s.Canceled))
}

// sqlCollector reads a database/sql pool's figures when scraped.
type sqlCollector struct {
	stats func() SQLPoolStats

	inUse, idle, open, max *prometheus.Desc
	waits, waitSeconds     *prometheus.Desc
	closed                 *prometheus.Desc
}

var _ prometheus.Collector = (*sqlCollector)(nil)

func newSQLCollector(name string, stats func() SQLPoolStats) *sqlCollector {
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
	gauge(c.open, float64(s.Open))
	gauge(c.max, float64(s.MaxOpen))
	counter(c.waits, float64(s.Waits))
	counter(c.waitSeconds, s.WaitTime.Seconds())
	counter(c.closed, float64(s.MaxIdleClosed), "max_idle")
	counter(c.closed, float64(s.MaxIdleTimeClosed), "max_idle_time")
	counter(c.closed, float64(s.MaxLifetimeClosed), "max_lifetime")
}
