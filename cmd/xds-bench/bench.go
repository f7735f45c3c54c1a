package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"sync"
	"syscall"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/shardmesh/shardmesh/internal/app"
	"github.com/shardmesh/shardmesh/pkg/xdscache"
)

// config is one benchmark run.
type config struct {
	fleet           fleet
	streams         int
	changes         int           // single-tablet changes, one at a time
	burst           int           // changes written within burstWindow
	burstWindow     time.Duration //
	baselineChanges int           // changes measured against bare go-control-plane (0: skip)
	keyspacesPerCli int
	timeout         time.Duration  // per change
	connectTimeout  time.Duration  // for every stream's first configuration
	baselineStreams int            // streams for the baseline (it keeps a snapshot per node)
	serve           xdscache.Serve // what the shardmesh phase answers watches from (-serve)
}

// phase is the measurement of one server under the same workload.
type phase struct {
	Name           string    `json:"name"`
	ColdStart      float64   `json:"cold_start_seconds"` // start → first complete snapshot
	AllConnected   float64   `json:"all_clients_configured_seconds"`
	Latencies      []float64 `json:"latencies_ms"` // per change: etcd write → every affected client updated
	Missed         int       `json:"missed"`       // changes not seen by every affected client in time
	RebuildMS      []float64 `json:"rebuild_ms"`   // server: every group's snapshot rebuilt, per topology change (single changes only)
	builds         *buildTimes
	Resources      float64   `json:"resources_per_change_per_client"`
	ResDelta       float64   `json:"resources_per_change_per_delta_client"`
	ResSotW        float64   `json:"resources_per_change_per_sotw_client"`
	Bytes          float64   `json:"bytes_per_change_per_client"`
	CPUPerChange   float64   `json:"cpu_seconds_per_change"`
	BurstPushes    float64   `json:"pushes_per_client_in_burst"`
	BurstConverged float64   `json:"burst_converged_seconds"`
	BurstWritten   float64   `json:"burst_written_seconds"` // the burst's last etcd write acknowledged
	PeakRSS        float64   `json:"peak_rss_mib"`          // of the process, by the end of this phase
	FloorMS        []float64 `json:"floor_ms"`              // etcd watch notification + marshal, send and receive of the changed assignment
	Error          string    `json:"error,omitempty"`
}

type report struct {
	Tablets     int     `json:"tablets"`
	Streams     int     `json:"streams"`
	Ours        phase   `json:"ours"`
	Bare        *phase  `json:"baseline,omitempty"`
	BareStreams int     `json:"baseline_streams,omitempty"`
	PeakRSS     float64 `json:"peak_rss_mib"`
}

// bench runs the whole benchmark: etcd, the fleet, our server with its
// clients, then the bare go-control-plane baseline with its clients.
func bench(ctx context.Context, cfg config, log func(string, ...any)) (*report, error) {
	fe, nrecs, err := startFleetEtcd(ctx, cfg.fleet)
	if err != nil {
		return nil, err
	}
	defer fe.close()
	etcd, cli := fe.etcd, fe.cli
	log("wrote %d records (%d tablets)", nrecs, cfg.fleet.size())
	rep := &report{Tablets: cfg.fleet.size(), Streams: cfg.streams}

	// Ours: the real pipeline.
	start := time.Now()
	builds := &buildTimes{}
	a, err := app.Start(ctx, app.Config{EtcdEndpoints: etcd.Endpoints(), XDSAddr: "127.0.0.1:0", Logger: slog.New(slog.DiscardHandler),
		Serve: cfg.serve, OnBuild: builds.add})
	if err != nil {
		return nil, err
	}
	seeded, err := cli.Get(ctx, "/shardmesh/", clientv3.WithPrefix(), clientv3.WithCountOnly())
	if err != nil {
		return nil, err
	}
	for t := a.Cache.Topology(); t == nil || t.Revision < seeded.Header.Revision; t = a.Cache.Topology() {
		if err := waitTick(ctx, start, 60*time.Second); err != nil {
			return nil, fmt.Errorf("cold start: %w", err)
		}
	}
	rep.Ours.Name, rep.Ours.ColdStart = "shardmesh", time.Since(start).Seconds()
	log("shardmesh: cold start %.3fs", rep.Ours.ColdStart)
	rep.Ours.builds = builds
	if err := measure(ctx, cfg, cli, a.XDSAddr.String(), &rep.Ours, cfg.changes, cfg.burst, log); err != nil {
		a.Close()
		return nil, err
	}
	a.Close()
	rep.Ours.PeakRSS = maxRSS()
	log("shardmesh phase done: p50 %.1f ms, p99 %.1f ms over %d changes", percentile(sorted(rep.Ours.Latencies), 50),
		percentile(sorted(rep.Ours.Latencies), 99), len(rep.Ours.Latencies))
	if b, err := json.Marshal(rep.Ours); err == nil {
		log("shardmesh phase: %s", b)
	}

	if cfg.baselineChanges > 0 {
		bcfg := cfg
		if cfg.baselineStreams > 0 {
			bcfg.streams = cfg.baselineStreams
		}
		bctx, cancel := context.WithCancel(ctx)
		start = time.Now()
		b, err := startBaseline(bctx, cli)
		if err != nil {
			cancel()
			return nil, err
		}
		for {
			b.mu.Lock()
			t := b.topo
			b.mu.Unlock()
			if t != nil && t.Revision >= 0 {
				break
			}
			if err := waitTick(ctx, start, 60*time.Second); err != nil {
				cancel()
				return nil, err
			}
		}
		rep.Bare = &phase{Name: "go-control-plane bare", ColdStart: time.Since(start).Seconds()}
		rep.BareStreams = bcfg.streams
		err = measure(ctx, bcfg, cli, b.addr.String(), rep.Bare, cfg.baselineChanges, 0, log)
		b.stop()
		cancel()
		if err != nil {
			rep.Bare.Error = err.Error() // keep our figures; say why the baseline has none
			log("baseline: %v", err)
		}
	}
	rep.PeakRSS = maxRSS()
	if rep.Bare != nil {
		rep.Bare.PeakRSS = rep.PeakRSS
	}
	return rep, nil
}

// maxRSS is the process's peak resident set so far, in MiB.
func maxRSS() float64 {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return float64(ru.Maxrss) / 1024
}

// waitTick paces a polling loop; it fails after limit since start.
func waitTick(ctx context.Context, start time.Time, limit time.Duration) error {
	if time.Since(start) > limit {
		return fmt.Errorf("not done after %v", limit)
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(time.Millisecond):
		return nil
	}
}

// measure connects cfg.streams clients to addr, then applies single-tablet
// changes one at a time and a burst, recording convergence.
func measure(ctx context.Context, cfg config, cli *clientv3.Client, addr string, ph *phase, changes, burst int, log func(string, ...any)) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	f := cfg.fleet
	conns := make([]*grpc.ClientConn, 0, 16)
	for range min(16, cfg.streams) { // streams share a few connections, as sidecars on a node would not, but loopback TCP is not the point
		c, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			return err
		}
		defer c.Close()
		conns = append(conns, c)
	}
	clients := make([]*adsClient, cfg.streams)
	byKeyspace := map[int][]*adsClient{}
	start := time.Now()
	for i := range clients {
		// Each client reads a few keyspaces, spread evenly.
		var clusters, keyspaces = []string{}, []int{}
		for j := range cfg.keyspacesPerCli {
			k := (i + j*f.keyspaces/max(1, cfg.keyspacesPerCli)) % f.keyspaces
			if slices.Contains(keyspaces, k) {
				continue
			}
			keyspaces = append(keyspaces, k)
			for s := range f.shards {
				clusters = append(clusters, f.keyspace(k)+"/"+shardName(s, f.shards)+"/replica")
			}
		}
		c := newClient(fmt.Sprintf("bench-%04d", i), i%2 == 1, clusters)
		clients[i] = c
		for _, k := range keyspaces {
			byKeyspace[k] = append(byKeyspace[k], c)
		}
		zone := i % 9
		go func() {
			if err := c.run(ctx, conns[i%len(conns)], regions[zone/3], cellName(zone)); err != nil {
				c.fail(err)
			}
		}()
	}
	for _, c := range clients {
		select {
		case <-c.ready:
		case <-time.After(cfg.connectTimeout):
			return fmt.Errorf("%v got no configuration in %v (stream error: %v)", c, cfg.connectTimeout, c.err())
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	ph.AllConnected = time.Since(start).Seconds()
	log("%s: %d streams configured in %.2fs", ph.Name, len(clients), ph.AllConnected)

	pipe, err := newFloorPipe(ctx)
	if err != nil {
		return fmt.Errorf("floor: %w", err)
	}
	defer pipe.stop()
	watch := cli.Watch(ctx, "/shardmesh/tablets/", clientv3.WithPrefix())
	rng := rand.New(rand.NewPCG(42, 42))
	var ru0, ru1 syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
	buildsBefore := 0
	if ph.builds != nil {
		buildsBefore = ph.builds.count()
	}
	var resources, bytes, samples int
	var resByKind, samplesByKind [2]int
	for i := range changes {
		k, s, t := rng.IntN(f.keyspaces), rng.IntN(f.shards), 1+rng.IntN(9)
		affected := byKeyspace[k]
		key := watchKey{cluster: f.keyspace(k) + "/" + shardName(s, f.shards) + "/replica", alias: f.alias(k, s, t)}
		before := make([][3]int, len(affected))
		for j, c := range affected {
			r, n, b := c.counters()
			before[j] = [3]int{r, n, b}
			c.expect(key, corev3.HealthStatus_UNHEALTHY)
		}
		rec, _ := json.Marshal(f.tablet(k, s, t, "NOT_SERVING"))
		t0 := time.Now()
		if _, err := cli.Put(ctx, "/shardmesh/tablets/"+key.alias, string(rec)); err != nil {
			return err
		}
		floor := waitWatch(ctx, watch).Sub(t0)
		send, err := pipe.deliver()
		if err != nil {
			return fmt.Errorf("floor: %w", err)
		}
		floor += send
		ph.FloorMS = append(ph.FloorMS, float64(floor.Microseconds())/1000)
		worst, ok := time.Duration(0), true
		for _, c := range affected {
			deadline := time.Now().Add(cfg.timeout)
			for {
				if at, seen := c.seenAt(key); seen {
					worst = max(worst, at.Sub(t0))
					break
				}
				if time.Now().After(deadline) {
					ok = false
					log("%s: %v did not see %v", ph.Name, c, key)
					break
				}
				time.Sleep(200 * time.Microsecond) // polling the clients' records: the measurement uses their own timestamps
			}
		}
		if ok {
			ph.Latencies = append(ph.Latencies, float64(worst.Microseconds())/1000)
		} else {
			ph.Missed++ // counted, not given a latency
			log("%s: change %d missed", ph.Name, i)
		}
		for j, c := range affected {
			_, n, b := c.counters()
			resources += n - before[j][1]
			bytes += b - before[j][2]
			samples++
			kind := 0
			if c.delta {
				kind = 1
			}
			resByKind[kind] += n - before[j][1]
			samplesByKind[kind]++
		}
		// Restore the tablet so that the fleet stays healthy.
		rec, _ = json.Marshal(f.tablet(k, s, t, "SERVING"))
		for _, c := range affected {
			c.expect(key, corev3.HealthStatus_HEALTHY)
		}
		if _, err := cli.Put(ctx, "/shardmesh/tablets/"+key.alias, string(rec)); err != nil {
			return err
		}
		waitWatch(ctx, watch)
		for _, c := range affected {
			deadline := time.Now().Add(cfg.timeout)
			for _, seen := c.seenAt(key); !seen && time.Now().Before(deadline); _, seen = c.seenAt(key) {
				time.Sleep(200 * time.Microsecond)
			}
		}
		if (i+1)%50 == 0 {
			log("%s: %d/%d changes", ph.Name, i+1, changes)
		}
	}
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
	if ph.builds != nil {
		ph.RebuildMS = ph.builds.since(buildsBefore)
	}
	cpu := (time.Duration(ru1.Utime.Nano()-ru0.Utime.Nano()) + time.Duration(ru1.Stime.Nano()-ru0.Stime.Nano())).Seconds()
	if changes > 0 {
		ph.CPUPerChange = cpu / float64(2*changes) // every change is written and then undone
	}
	if samples > 0 {
		ph.Resources, ph.Bytes = float64(resources)/float64(samples), float64(bytes)/float64(samples)
	}
	if samplesByKind[0] > 0 {
		ph.ResSotW = float64(resByKind[0]) / float64(samplesByKind[0])
	}
	if samplesByKind[1] > 0 {
		ph.ResDelta = float64(resByKind[1]) / float64(samplesByKind[1])
	}
	if burst > 0 {
		err := measureBurst(ctx, cfg, cli, clients, byKeyspace, ph, burst, rng)
		if heapProfile != "" {
			if f, ferr := os.Create(heapProfile); ferr == nil {
				runtime.GC()
				_ = pprof.WriteHeapProfile(f)
				f.Close()
			}
		}
		return err
	}
	return nil
}

// heapProfile, when set, receives a heap profile after the burst.
var heapProfile string

// buildTimes keeps the duration of every snapshot rebuild (from
// app.Config.OnBuild), so that the report can split convergence into
// rebuild and delivery.
type buildTimes struct {
	mu   sync.Mutex
	took []time.Duration
}

func (b *buildTimes) add(s xdscache.BuildStats) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.took = append(b.took, s.Duration)
}

// since returns the rebuild times recorded after the first n.
func (b *buildTimes) since(n int) []float64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := []float64{}
	for _, d := range b.took[min(n, len(b.took)):] {
		out = append(out, float64(d.Microseconds())/1000)
	}
	return out
}

func (b *buildTimes) count() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.took)
}
