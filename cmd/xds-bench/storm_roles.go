package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"runtime/pprof"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/shardmesh/shardmesh/internal/app"
	"github.com/shardmesh/shardmesh/pkg/xdscache"
)

// runStormServer is the -storm-server child: the xds-server pipeline on
// etcd, its xDS address printed on stdout, until killed.
func runStormServer(ctx context.Context, etcd string, procs int) error {
	// As xds-server does.
	runtime.GOMAXPROCS(app.Procs(procs, runtime.GOMAXPROCS(0), os.Getenv("GOMAXPROCS") != ""))
	var addrPrinted atomic.Bool // the address is the first line
	a, err := app.Start(ctx, app.Config{EtcdEndpoints: []string{etcd}, XDSAddr: "127.0.0.1:0",
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
		OnBuild: func(s xdscache.BuildStats) { // for the parent's stage times
			if end := time.Now(); addrPrinted.Load() {
				fmt.Printf("built %d %d %d\n", s.Revision, end.Add(-s.Duration).UnixNano(), end.UnixNano())
			}
		}})
	if err != nil {
		return err
	}
	defer a.Close()
	if err := a.WaitReady(ctx); err != nil {
		return err
	}
	fmt.Println(a.XDSAddr.String())
	addrPrinted.Store(true)
	// Then the heap in use, every 50 ms, for the parent's report.
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	var ms runtime.MemStats
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		runtime.ReadMemStats(&ms)
		if heapProfile != "" && runtime.NumGoroutine() > 20000 { // mid-storm, once
			if f, err := os.Create(heapProfile); err == nil {
				_ = pprof.WriteHeapProfile(f)
				f.Close()
			}
			heapProfile = ""
		}
		fmt.Printf("heap %d %d\n", ms.HeapInuse, runtime.NumGoroutine())
	}
}

// clientRep is what the -storm-clients child reports.
type clientRep struct {
	Streams      int     `json:"streams"`
	Configured   int     `json:"configured"`
	Failed       int     `json:"failed"` // streams that ended with an error before their first response
	ArrivalS     float64 `json:"arrival_s"`
	AllConfigS   float64 `json:"all_configured_s"` // first stream opened → last stream configured
	ConfigP50MS  float64 `json:"configure_p50_ms"` // a stream's open → its first response
	ConfigP99MS  float64 `json:"configure_p99_ms"`
	ConfigMaxMS  float64 `json:"configure_max_ms"`
	FirstFailure string  `json:"first_failure,omitempty"`
}

// runStormClients is the -storm-clients child: n streams, each on its own
// connection, opened evenly over window, each reading the replica clusters
// of two keyspaces; it prints a clientRep on stdout once all are
// configured (or timeout passes), then keeps them open until stdin closes.
func runStormClients(ctx context.Context, addr string, n int, window time.Duration, f fleet, timeout time.Duration) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type result struct {
		took time.Duration
		err  error
	}
	results := make(chan result, n)
	// Clients and (lazy) connections first, so that the window only opens
	// streams: each stream's first RPC dials its connection.
	clients := make([]*adsClient, n)
	conns := make([]*grpc.ClientConn, n)
	for i := range n {
		var clusters []string
		for _, k := range []int{i % f.keyspaces, (i + f.keyspaces/2) % f.keyspaces} {
			for s := range f.shards {
				clusters = append(clusters, f.keyspace(k)+"/"+shardName(s, f.shards)+"/replica")
			}
		}
		clients[i] = newClient(fmt.Sprintf("storm-%05d", i), i%2 == 1, clusters)
		conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			return err
		}
		defer conn.Close()
		conns[i] = conn
	}
	start := time.Now()
	var wg sync.WaitGroup
	for i, c := range clients {
		if d := time.Until(start.Add(window * time.Duration(i) / time.Duration(n))); d > 0 {
			time.Sleep(d) // the arrival schedule of the storm
		}
		opened := time.Now()
		zone := i % 9
		errc := make(chan error, 1)
		go func() { errc <- c.run(ctx, conns[i], regions[zone/3], cellName(zone)) }()
		wg.Go(func() {
			select {
			case <-c.ready:
				results <- result{took: time.Since(opened)}
			case err := <-errc:
				results <- result{err: fmt.Errorf("%v: %w", c, err)}
			case <-time.After(timeout):
				results <- result{err: fmt.Errorf("%v: not configured within %v", c, timeout)}
			}
		})
	}
	arrival := time.Since(start)
	wg.Wait()
	close(results)
	rep := clientRep{Streams: n, ArrivalS: arrival.Seconds(), AllConfigS: time.Since(start).Seconds()}
	var took []float64
	for r := range results {
		if r.err != nil {
			rep.Failed++
			if rep.FirstFailure == "" {
				rep.FirstFailure = r.err.Error()
			}
			continue
		}
		rep.Configured++
		took = append(took, float64(r.took.Microseconds())/1000)
	}
	s := sorted(took)
	rep.ConfigP50MS, rep.ConfigP99MS, rep.ConfigMaxMS = percentile(s, 50), percentile(s, 99), percentile(s, 100)
	if err := json.NewEncoder(os.Stdout).Encode(rep); err != nil {
		return err
	}
	waitStdinEOF()
	return nil
}

// printStorm prints the -storm report.
func printStorm(r *stormReport) {
	s := r.Storm
	fmt.Printf("reconnect storm: %d tablets; %d streams arriving within %.2f s, each on its own connection\n\n", r.Tablets, s.Streams, s.ArrivalS)
	fmt.Println("| | |")
	fmt.Println("|---|---|")
	fmt.Printf("| storm streams configured | %d of %d (%d failed) |\n", s.Configured, s.Streams, s.Failed)
	fmt.Printf("| first stream opened → every stream configured | %.2f s |\n", s.AllConfigS)
	fmt.Printf("| a stream's open → its configuration, p50 / p99 / max | %.0f / %.0f / %.0f ms |\n", s.ConfigP50MS, s.ConfigP99MS, s.ConfigMaxMS)
	b, d := sorted(r.ProbeBeforeMS), sorted(r.ProbeDuringMS)
	fmt.Printf("| other streams: tablet flip → all updated, before the storm, p50 / max | %.1f / %.1f ms |\n", percentile(b, 50), percentile(b, 100))
	fmt.Printf("| other streams: tablet flip → all updated, during the storm, p50 / max (%d flips) | %.1f / %.1f ms |\n", len(d), percentile(d, 50), percentile(d, 100))
	var starts, ends []float64
	for _, st := range r.DuringStages {
		if st.RebuildEndMS > 0 {
			starts, ends = append(starts, st.RebuildStartMS), append(ends, st.RebuildEndMS)
		}
	}
	starts, ends = sorted(starts), sorted(ends)
	fmt.Printf("| … of which flip → server rebuild starts (watch, batching), p50 / max | %.1f / %.1f ms |\n", percentile(starts, 50), percentile(starts, 100))
	fmt.Printf("| … of which flip → server rebuild ends (every watch answered), p50 / max | %.1f / %.1f ms |\n", percentile(ends, 50), percentile(ends, 100))
	fmt.Printf("| flips a probe missed (10 s) | %d |\n", r.ProbeMissed)
	fmt.Printf("| slowest etcd write of a flip (included above) | %.1f ms |\n", r.PutMaxMS)
	fmt.Printf("| xds-server RSS before / peak / after | %.0f / %.0f / %.0f MiB |\n", r.RSSBeforeMiB, r.RSSPeakMiB, r.RSSAfterMiB)
	fmt.Printf("| xds-server Go heap in use before / peak / after | %.0f / %.0f / %.0f MiB |\n", r.HeapBeforeMiB, r.HeapPeakMiB, r.HeapAfterMiB)
	fmt.Printf("| xds-server goroutines after | %d |\n", r.GoroutinesAfter)
	fmt.Printf("| CPU during the storm (%.1f s): xds-server / client process | %.1f / %.1f s |\n", r.StormSeconds, r.ServerCPUSeconds, r.ClientCPUSeconds)
	if s.FirstFailure != "" {
		fmt.Printf("\nfirst failure: %s\n", s.FirstFailure)
	}
}
