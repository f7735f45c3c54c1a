// Package metrics exposes xds-server's Prometheus metrics, all named
// shardmesh_*, on its own registry.
package metrics

import (
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/shardmesh/shardmesh/pkg/topology"
	"github.com/shardmesh/shardmesh/pkg/topowatch"
	"github.com/shardmesh/shardmesh/pkg/xdscache"
	"github.com/shardmesh/shardmesh/pkg/xdsserver"
)

// Metrics holds the collectors. It implements xdsserver.Observer; wire
// OnTopology, OnHealth and OnBuild to the watcher and the cache.
type Metrics struct {
	reg *prometheus.Registry

	tablets      *prometheus.GaugeVec
	invalid      prometheus.Gauge
	revision     prometheus.Gauge
	sourceUp     prometheus.Gauge
	builds       prometheus.Counter
	buildSeconds prometheus.Histogram
	changed      prometheus.Counter
	pushed       *prometheus.CounterVec
	streams      *prometheus.GaugeVec
	acks         *prometheus.CounterVec
	nacks        *prometheus.CounterVec
	convergence  *prometheus.HistogramVec

	published func(group, typeURL, version string) (time.Time, bool)
	mu        sync.Mutex                            // guards the fields below
	shards    map[topology.ShardKey]*topology.Shard // the shards last counted
	tabs      map[[4]string]float64                 // shardmesh_tablets series
}

var _ xdsserver.Observer = (*Metrics)(nil)

// New registers the collectors. published reports when a group's version
// of a type was published (xdscache.Cache.PublishedAt), for the
// publish → ACK convergence histogram; it may be nil.
func New(published func(group, typeURL, version string) (time.Time, bool)) *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry(), published: published, shards: map[topology.ShardKey]*topology.Shard{}, tabs: map[[4]string]float64{}}
	f := func(c prometheus.Collector) { m.reg.MustRegister(c) }
	m.tablets = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "shardmesh_tablets", Help: "Valid tablet records by keyspace, type, cell and state."},
		[]string{"keyspace", "type", "cell", "state"})
	m.invalid = prometheus.NewGauge(prometheus.GaugeOpts{Name: "shardmesh_invalid_records", Help: "Records in etcd that failed validation and route nothing."})
	m.revision = prometheus.NewGauge(prometheus.GaugeOpts{Name: "shardmesh_topology_revision", Help: "etcd revision of the topology in force."})
	m.sourceUp = prometheus.NewGauge(prometheus.GaugeOpts{Name: "shardmesh_etcd_source_up", Help: "1 while etcd answers; 0 while the last topology is held (fail-static)."})
	m.builds = prometheus.NewCounter(prometheus.CounterOpts{Name: "shardmesh_snapshot_builds_total", Help: "Snapshot rebuilds after a topology change or a due ramp/shift step."})
	m.buildSeconds = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "shardmesh_snapshot_build_seconds", Help: "Time to rebuild every node group's snapshot.",
		Buckets: prometheus.ExponentialBuckets(0.0001, 2, 16)})
	m.changed = prometheus.NewCounter(prometheus.CounterOpts{Name: "shardmesh_snapshot_groups_changed_total", Help: "Node group snapshots that changed in rebuilds."})
	m.pushed = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "shardmesh_resources_pushed_total", Help: "Resources sent in xDS responses, by type."}, []string{"type"})
	m.streams = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "shardmesh_streams", Help: "Connected xDS streams by node group."}, []string{"group"})
	m.acks = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "shardmesh_acks_total", Help: "Responses ACKed, by type."}, []string{"type"})
	m.nacks = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "shardmesh_nacks_total", Help: "Responses NACKed, by type."}, []string{"type"})
	m.convergence = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "shardmesh_convergence_seconds",
		Help:    "Convergence: stage=publish is a new topology (a batch of etcd changes, after the batching hold-off) handed to the cache until every node group's snapshot is published and its streams answered; stage=ack is a snapshot published until a client ACKs it.",
		Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16)}, []string{"stage"})
	for _, c := range []prometheus.Collector{m.tablets, m.invalid, m.revision, m.sourceUp, m.builds, m.buildSeconds, m.changed,
		m.pushed, m.streams, m.acks, m.nacks, m.convergence,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})} {
		f(c)
	}
	return m
}

// Handler serves the metrics in Prometheus's text format.
func (m *Metrics) Handler() http.Handler { return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{}) }

// OnTopology updates the topology gauges.
func (m *Metrics) OnTopology(t *topology.Topology) {
	m.revision.Set(float64(t.Revision))
	m.invalid.Set(float64(len(t.Problems)))
	// No shard label: a fleet of thousands of shards would make tens of
	// thousands of series. Only shards that changed (unchanged ones keep
	// their pointer) are counted again.
	m.mu.Lock()
	defer m.mu.Unlock()
	touched := map[[4]string]bool{}
	count := func(s *topology.Shard, delta float64) {
		for _, tb := range s.Tablets {
			k := [4]string{tb.Keyspace, string(tb.Type), tb.Cell, string(tb.State)}
			m.tabs[k] += delta
			touched[k] = true
		}
	}
	for k, s := range t.Shards {
		if old := m.shards[k]; old != s {
			if old != nil {
				count(old, -1)
			}
			count(s, 1)
			m.shards[k] = s
		}
	}
	for k, old := range m.shards {
		if _, ok := t.Shards[k]; !ok {
			count(old, -1)
			delete(m.shards, k)
		}
	}
	for k := range touched {
		if n := m.tabs[k]; n > 0 {
			m.tablets.WithLabelValues(k[:]...).Set(n)
		} else {
			m.tablets.DeleteLabelValues(k[:]...)
			delete(m.tabs, k)
		}
	}
}

// OnHealth records the etcd source's health.
func (m *Metrics) OnHealth(h topowatch.Health) {
	if h.Connected {
		m.sourceUp.Set(1)
	} else {
		m.sourceUp.Set(0)
	}
}

// OnBuild records a snapshot rebuild.
func (m *Metrics) OnBuild(s xdscache.BuildStats) {
	m.builds.Inc()
	m.buildSeconds.Observe(s.Duration.Seconds())
	m.convergence.WithLabelValues("publish").Observe(s.Duration.Seconds())
	m.changed.Add(float64(s.Changed))
}

func short(typeURL string) string { return typeURL[strings.LastIndex(typeURL, ".")+1:] }

// StreamOpened implements xdsserver.Observer.
func (m *Metrics) StreamOpened(group string) { m.streams.WithLabelValues(group).Inc() }

// StreamClosed implements xdsserver.Observer.
func (m *Metrics) StreamClosed(group string) { m.streams.WithLabelValues(group).Dec() }

// Responded implements xdsserver.Observer.
func (m *Metrics) Responded(typeURL string, n int) {
	m.pushed.WithLabelValues(short(typeURL)).Add(float64(n))
}

// Acked implements xdsserver.Observer.
func (m *Metrics) Acked(group, typeURL, version string) {
	m.acks.WithLabelValues(short(typeURL)).Inc()
	if m.published == nil {
		return
	}
	if at, ok := m.published(group, typeURL, version); ok {
		m.convergence.WithLabelValues("ack").Observe(time.Since(at).Seconds())
	}
}

// Nacked implements xdsserver.Observer.
func (m *Metrics) Nacked(_, typeURL string) { m.nacks.WithLabelValues(short(typeURL)).Inc() }
