// Command xds-bench measures shardmesh's convergence at scale against bare
// go-control-plane and the physical floor, in one process: an embedded
// etcd with a synthetic fleet, the real xds-server pipeline, and many
// lightweight xDS streams (half SotW, half delta) that ACK what they get.
//
//	go run ./cmd/xds-bench                 # 20k tablets, 1000 streams (docs/performance.md)
//	go run ./cmd/xds-bench -smoke          # a few hundred tablets, a few streams
//	go run ./cmd/xds-bench -storm          # a reconnect storm: 5000 streams within 1 s (docs/performance.md)
//
// -storm runs the xds-server pipeline and the storm's clients as two child
// processes of this command (-storm-server, -storm-clients).
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"sort"
	"time"

	"google.golang.org/grpc/experimental"

	"github.com/shardmesh/shardmesh/pkg/xdscache"
)

func main() {
	var cfg config
	smoke := flag.Bool("smoke", false, "a small run that checks the benchmark works")
	flag.IntVar(&cfg.fleet.keyspaces, "keyspaces", 40, "keyspaces")
	flag.IntVar(&cfg.fleet.shards, "shards", 32, "shards per keyspace")
	flag.IntVar(&cfg.fleet.rdonly, "rdonly", 5, "rdonly tablets per shard (plus a primary and 9 replicas)")
	flag.IntVar(&cfg.streams, "streams", 1000, "xDS streams")
	flag.IntVar(&cfg.keyspacesPerCli, "client-keyspaces", 2, "keyspaces each stream subscribes to (replica clusters of every shard)")
	flag.IntVar(&cfg.changes, "changes", 200, "single-tablet changes, one at a time")
	flag.IntVar(&cfg.burst, "burst", 1000, "changes in the burst")
	flag.DurationVar(&cfg.burstWindow, "burst-window", time.Second, "the burst's duration")
	flag.IntVar(&cfg.baselineChanges, "baseline-changes", 5, "changes measured against bare go-control-plane (0 skips it)")
	flag.IntVar(&cfg.baselineStreams, "baseline-streams", 0, "streams for the baseline (0: as many as -streams); it keeps one snapshot per node")
	flag.DurationVar(&cfg.timeout, "timeout", 60*time.Second, "how long a change may take to reach every affected stream")
	flag.DurationVar(&cfg.connectTimeout, "connect-timeout", 600*time.Second, "how long every stream may take to get its first configuration")
	out := flag.String("out", "", "write the report as JSON to this file")
	plot := flag.String("plot", "", "write the latency distribution as a PNG to this file")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the run to this file")
	flag.StringVar(&heapProfile, "memprofile", "", "write a heap profile after the burst to this file")
	storm := flag.Bool("storm", false, "measure a reconnect storm instead: -storm-streams streams within -storm-window")
	var sc stormConfig
	flag.IntVar(&sc.streams, "storm-streams", 5000, "streams in the storm, each on its own connection")
	flag.DurationVar(&sc.window, "storm-window", time.Second, "how long the storm's streams take to arrive")
	flag.IntVar(&sc.probes, "storm-probes", 50, "streams connected before the storm whose updates are timed during it")
	flag.DurationVar(&sc.interval, "storm-flip-interval", 250*time.Millisecond, "time between tablet flips during the storm")
	stormServer := flag.Bool("storm-server", false, "internal: the storm's xds-server child")
	stormClients := flag.Bool("storm-clients", false, "internal: the storm's client child")
	flag.IntVar(&sc.probeZones, "storm-probe-zones", 9, "zones (of 9) with probes before the storm: the storm's clients in the others make new node groups")
	flag.IntVar(&sc.serverProcs, "storm-gomaxprocs", 0, "the storm's xds-server GOMAXPROCS, as xds-server --gomaxprocs")
	flag.BoolVar(&sc.clientDefaultPool, "storm-client-default-pool", false,
		"the storm's clients use gRPC's default buffer pool, which clears up to 1 MiB per received message (default: a tier at every power of two)")
	stormEtcd := flag.String("storm-etcd", "", "internal: etcd endpoint of -storm-server")
	stormAddr := flag.String("storm-addr", "", "internal: xDS address of -storm-clients")
	serve := flag.String("serve", "ours", "what the shardmesh phase answers watches from: ours (its watches) or linear (go-control-plane's LinearCache per group and type behind a MuxCache)")
	flag.Parse()
	var serveFrom xdscache.Serve
	switch *serve {
	case "ours":
	case "linear":
		serveFrom = xdscache.ServeLinear
	default:
		fmt.Fprintf(os.Stderr, "xds-bench: -serve %q: want ours or linear\n", *serve)
		os.Exit(2)
	}
	if *storm || *stormServer || *stormClients {
		sc.serverCPUProfile = *cpuprofile // the server child profiles itself
		os.Exit(stormMain(*storm, *stormServer, *stormEtcd, *stormAddr, sc, cfg, *out))
	}
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err == nil {
			_ = pprof.StartCPUProfile(f)
			defer pprof.StopCPUProfile()
		}
	}
	if *smoke {
		cfg = smokeConfig()
	}
	cfg.serve = serveFrom
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	rep, err := bench(ctx, cfg, func(f string, a ...any) { fmt.Fprintf(os.Stderr, f+"\n", a...) })
	if err != nil {
		fmt.Fprintln(os.Stderr, "xds-bench:", err)
		pprof.StopCPUProfile()
		os.Exit(1)
	}
	printReport(rep)
	if *out != "" {
		b, _ := json.MarshalIndent(rep, "", "  ")
		if err := os.WriteFile(*out, b, 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "xds-bench:", err)
			os.Exit(1)
		}
	}
	if *plot != "" {
		if err := writePlot(*plot, rep); err != nil {
			fmt.Fprintln(os.Stderr, "xds-bench:", err)
			os.Exit(1)
		}
	}
}

// stormMain runs one of the -storm roles and returns the exit status.
func stormMain(parent, server bool, etcd, addr string, sc stormConfig, cfg config, out string) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	sc.fleet, sc.timeout = cfg.fleet, cfg.connectTimeout
	if sc.probeZones < 1 || sc.probeZones > 9 {
		fmt.Fprintln(os.Stderr, "xds-bench: -storm-probe-zones must be 1..9")
		return 2
	}
	var err error
	switch {
	case server:
		if sc.serverCPUProfile != "" {
			if f, ferr := os.Create(sc.serverCPUProfile); ferr == nil {
				_ = pprof.StartCPUProfile(f)
				defer pprof.StopCPUProfile()
			}
		}
		err = runStormServer(ctx, etcd, sc.serverProcs)
	case !parent:
		if !sc.clientDefaultPool {
			experimental.SetDefaultBufferPool(finePool())
		}
		err = runStormClients(ctx, addr, sc.streams, sc.window, cfg.fleet, cfg.connectTimeout)
	default:
		var rep *stormReport
		rep, err = runStorm(ctx, sc, func(f string, a ...any) { fmt.Fprintf(os.Stderr, f+"\n", a...) })
		if rep != nil {
			printStorm(rep)
			if out != "" {
				b, _ := json.MarshalIndent(rep, "", "  ")
				if werr := os.WriteFile(out, b, 0o644); werr != nil && err == nil {
					err = werr
				}
			}
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "xds-bench:", err)
		return 1
	}
	return 0
}

func smokeConfig() config {
	return config{fleet: fleet{keyspaces: 4, shards: 4, rdonly: 2}, streams: 8, keyspacesPerCli: 2, changes: 5, burst: 20,
		burstWindow: 200 * time.Millisecond, baselineChanges: 1, timeout: 5 * time.Second, connectTimeout: 30 * time.Second}
}

// percentile of sorted samples.
func percentile(sorted []float64, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(p/100*float64(len(sorted)-1) + 0.5)
	return sorted[i]
}

func sorted(v []float64) []float64 {
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	return s
}

func printReport(r *report) {
	fmt.Printf("machine: %d CPUs, %s %s/%s\n", runtime.NumCPU(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
	fmt.Printf("fleet: %d tablets; %d xDS streams (half SotW, half delta)", r.Tablets, r.Streams)
	if r.Bare != nil && r.BareStreams != r.Streams {
		fmt.Printf("; the baseline with %d streams", r.BareStreams)
	}
	fmt.Print("\n\n")
	fmt.Println("| | shardmesh | bare go-control-plane |")
	fmt.Println("|---|---|---|")
	row := func(name string, f func(p *phase) string) {
		b := "-"
		if r.Bare != nil {
			b = f(r.Bare)
		}
		fmt.Printf("| %s | %s | %s |\n", name, f(&r.Ours), b)
	}
	row("cold start → first complete snapshot", func(p *phase) string { return fmt.Sprintf("%.2f s", p.ColdStart) })
	row("all streams configured after connecting", func(p *phase) string { return fmt.Sprintf("%.2f s", p.AllConnected) })
	row("changes measured (missed)", func(p *phase) string { return fmt.Sprintf("%d (%d)", len(p.Latencies), p.Missed) })
	for _, q := range []float64{50, 90, 99, 100} {
		name := fmt.Sprintf("etcd write → all affected streams updated, p%.0f", q)
		if q == 100 {
			name = "etcd write → all affected streams updated, max"
		}
		row(name, func(p *phase) string { return fmt.Sprintf("%.1f ms", percentile(sorted(p.Latencies), q)) })
	}
	row("server rebuild per topology change (every group), p50 / p99", func(p *phase) string {
		if len(p.RebuildMS) == 0 {
			return "-"
		}
		return fmt.Sprintf("%.1f / %.1f ms", percentile(sorted(p.RebuildMS), 50), percentile(sorted(p.RebuildMS), 99))
	})
	row("physical floor p99 (etcd watch + marshal, send and receive one assignment)", func(p *phase) string { return fmt.Sprintf("%.1f ms", percentile(sorted(p.FloorMS), 99)) })
	row("resources per change per affected stream: delta / SotW", func(p *phase) string { return fmt.Sprintf("%.1f / %.1f", p.ResDelta, p.ResSotW) })
	row("bytes per change per affected stream", func(p *phase) string { return fmt.Sprintf("%.0f", p.Bytes) })
	row("CPU seconds per change (server + clients)", func(p *phase) string { return fmt.Sprintf("%.4f", p.CPUPerChange) })
	row("burst: pushes per stream", func(p *phase) string { return fmt.Sprintf("%.1f", p.BurstPushes) })
	row("burst: writes acknowledged by etcd after", func(p *phase) string { return fmt.Sprintf("%.2f s", p.BurstWritten) })
	row("burst: every change on every affected stream after", func(p *phase) string { return fmt.Sprintf("%.2f s", p.BurstConverged) })
	row("peak RSS of the process by the end of the phase (etcd, fleet and clients included)", func(p *phase) string { return fmt.Sprintf("%.0f MiB", p.PeakRSS) })
	if r.Bare != nil && r.Bare.Error != "" {
		fmt.Printf("\nbaseline stopped: %s\n", r.Bare.Error)
	}
	fmt.Printf("\npeak RSS (whole process): %.0f MiB\n", r.PeakRSS)
	ours := percentile(sorted(r.Ours.Latencies), 99)
	if floor := percentile(sorted(r.Ours.FloorMS), 99); floor > 0 {
		fmt.Printf("shardmesh p99 = %.1f × the physical floor p99\n", ours/floor)
	}
	if r.Bare != nil && ours > 0 {
		fmt.Printf("bare go-control-plane p99 / shardmesh p99 = %.1f×\n", percentile(sorted(r.Bare.Latencies), 99)/ours)
	}
}
