package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/mem"
)

// stormConfig is the -storm mode: a reconnect storm on one replica.
type stormConfig struct {
	fleet    fleet
	streams  int           // streams arriving in the storm
	window   time.Duration // over which they arrive
	probes   int           // streams connected before, whose updates are timed
	timeout  time.Duration // for every storm stream to be configured
	interval time.Duration // between tablet flips during the storm

	serverCPUProfile string // -cpuprofile, handed to the server child
	// clientDefaultPool keeps gRPC's default buffer pool in the client
	// child. The clients share the machine with the server, which they
	// would not in a deployment: by default they use finePool, so that
	// they take less of the CPU the server is measured on.
	clientDefaultPool bool
	serverProcs       int // -storm-gomaxprocs, handed to the server child
	// probeZones is how many of the 9 zones have probes, so node groups,
	// before the storm; the storm's clients come from all 9.
	probeZones int
}

// stormReport is what -storm prints.
type stormReport struct {
	Tablets          int         `json:"tablets"`
	Storm            clientRep   `json:"storm"`
	ProbeBeforeMS    []float64   `json:"probe_before_ms"` // flip → every probe stream updated, before the storm
	ProbeDuringMS    []float64   `json:"probe_during_ms"` // the same, during the storm
	ProbeMissed      int         `json:"probe_missed"`    // flips a probe did not see within 10 s
	BeforeStages     []flipTimes `json:"before_stages"`   // where each flip's time went, before the storm
	DuringStages     []flipTimes `json:"during_stages"`   // and during it
	RSSBeforeMiB     float64     `json:"rss_before_mib"`
	RSSPeakMiB       float64     `json:"rss_peak_mib"`
	RSSAfterMiB      float64     `json:"rss_after_mib"`
	ServerCPUSeconds float64     `json:"server_cpu_seconds"` // during the storm
	ClientCPUSeconds float64     `json:"client_cpu_seconds"` // the storm's client process, from its start
	StormSeconds     float64     `json:"storm_seconds"`      // from the client process's start to every stream configured
	PutMaxMS         float64     `json:"put_max_ms"`         // the slowest etcd write of a flip, before or during the storm
	HeapBeforeMiB    float64     `json:"heap_before_mib"`
	HeapPeakMiB      float64     `json:"heap_peak_mib"`
	HeapAfterMiB     float64     `json:"heap_after_mib"`
	GoroutinesAfter  int         `json:"goroutines_after"`
}

// serverLines follows the -storm-server child's lines: "heap <bytes>
// <goroutines>" every 50 ms, and "built <revision> <start> <end>" (Unix
// nanoseconds) after each topology rebuild.
type serverLines struct {
	mu         sync.Mutex // guards the fields below
	last, peak float64
	goroutines int
	built      map[int64][2]time.Time // revision → rebuild start, end
}

func (h *serverLines) follow(r *bufio.Reader) {
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		var b float64
		var g int
		var rev, start, end int64
		if _, err := fmt.Sscanf(line, "heap %f %d", &b, &g); err == nil {
			h.mu.Lock()
			h.last, h.goroutines = b/(1<<20), g
			h.peak = max(h.peak, h.last)
			h.mu.Unlock()
		} else if _, err := fmt.Sscanf(line, "built %d %d %d", &rev, &start, &end); err == nil {
			h.mu.Lock()
			if h.built == nil {
				h.built = map[int64][2]time.Time{}
			}
			h.built[rev] = [2]time.Time{time.Unix(0, start), time.Unix(0, end)}
			h.mu.Unlock()
		}
	}
}

// read returns the last and peak heap (MiB) and the last goroutine count,
// and restarts the peak.
func (h *serverLines) read() (last, peak float64, goroutines int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	last, peak, goroutines = h.last, h.peak, h.goroutines
	h.peak = h.last
	return last, peak, goroutines
}

// rebuild returns when the server started and ended the rebuild that
// first included revision rev (events are batched, so a rebuild may be at
// a later revision), false if none was reported within a second.
func (h *serverLines) rebuild(rev int64) (start, end time.Time, ok bool) {
	deadline := time.Now().Add(time.Second)
	for {
		h.mu.Lock()
		best := int64(0)
		for r := range h.built {
			if r >= rev && (best == 0 || r < best) {
				best = r
			}
		}
		t, found := h.built[best]
		h.mu.Unlock()
		if found {
			return t[0], t[1], true
		}
		if time.Now().After(deadline) {
			return time.Time{}, time.Time{}, false
		}
		time.Sleep(time.Millisecond) // the child's lines arrive on a pipe
	}
}

// runStorm starts etcd with the fleet (here), the xds-server pipeline (a
// child process: -storm-server) and probe streams (here), then a second
// child (-storm-clients) that opens cfg.streams streams within cfg.window,
// each on its own connection, as the clients of a dead replica reconnect.
// While they arrive, a tablet flips every cfg.interval and the probes'
// update latency is timed; the server's RSS is sampled from /proc.
func runStorm(ctx context.Context, cfg stormConfig, log func(string, ...any)) (*stormReport, error) {
	fe, _, err := startFleetEtcd(ctx, cfg.fleet)
	if err != nil {
		return nil, err
	}
	defer fe.close()
	etcd, cli := fe.etcd, fe.cli
	rep := &stormReport{Tablets: cfg.fleet.size()}

	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	server := exec.CommandContext(ctx, self, "-storm-server", "-storm-etcd="+etcd.Endpoints()[0], "-memprofile="+heapProfile,
		"-cpuprofile="+cfg.serverCPUProfile, "-storm-gomaxprocs="+strconv.Itoa(cfg.serverProcs))
	server.Stderr = os.Stderr
	out, err := server.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := server.Start(); err != nil {
		return nil, err
	}
	defer func() { // SIGINT first, so that a profiling child writes its profile
		_ = server.Process.Signal(os.Interrupt)
		exited := make(chan struct{})
		go func() { _ = server.Wait(); close(exited) }()
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = server.Process.Kill()
			<-exited
		}
	}()
	sout := bufio.NewReader(out)
	addr, err := sout.ReadString('\n')
	if err != nil {
		return nil, fmt.Errorf("storm server: %w", err)
	}
	heap := &serverLines{}
	go heap.follow(sout)
	addr = strings.TrimSpace(addr)
	log("storm: xds-server (pid %d) on %s, %d tablets", server.Process.Pid, addr, rep.Tablets)

	// Probes: streams already configured, all reading keyspace 0, in
	// cfg.probeZones zones (by default all 9, so that every node group the
	// storm's clients belong to exists before it, as on a replica that
	// already serves their localities) and both protocols.
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	var clusters []string
	for s := range cfg.fleet.shards {
		clusters = append(clusters, cfg.fleet.keyspace(0)+"/"+shardName(s, cfg.fleet.shards)+"/replica")
	}
	probes := make([]*adsClient, cfg.probes)
	for i := range probes {
		probes[i] = newClient(fmt.Sprintf("probe-%03d", i), (i/9)%2 == 1, clusters)
		zone := i % cfg.probeZones
		go func() { _ = probes[i].run(ctx, conn, regions[zone/3], cellName(zone)) }()
	}
	for _, p := range probes {
		select {
		case <-p.ready:
		case <-time.After(60 * time.Second):
			return nil, fmt.Errorf("%v not configured in 60 s", p)
		}
	}
	flips := &flipper{cli: cli, f: cfg.fleet, probes: probes, server: heap}
	for range 10 {
		if d, ok := flips.flip(ctx); ok {
			rep.ProbeBeforeMS = append(rep.ProbeBeforeMS, d.TotalMS)
			rep.BeforeStages = append(rep.BeforeStages, d)
		} else {
			rep.ProbeMissed++
		}
	}
	rep.RSSBeforeMiB = procRSS(server.Process.Pid, "VmRSS")
	rep.HeapBeforeMiB, _, _ = heap.read()
	cpu0 := procCPU(server.Process.Pid)

	clients := exec.CommandContext(ctx, self, "-storm-clients", "-storm-addr="+addr, "-storm-streams="+strconv.Itoa(cfg.streams),
		"-storm-window="+cfg.window.String(), "-keyspaces="+strconv.Itoa(cfg.fleet.keyspaces), "-shards="+strconv.Itoa(cfg.fleet.shards),
		"-connect-timeout="+cfg.timeout.String(), "-storm-client-default-pool="+strconv.FormatBool(cfg.clientDefaultPool))
	clients.Stderr = os.Stderr
	cout, err := clients.StdoutPipe()
	if err != nil {
		return nil, err
	}
	stdin, err := clients.StdinPipe() // closing it ends the child
	if err != nil {
		return nil, err
	}
	stormStart := time.Now()
	if err := clients.Start(); err != nil {
		return nil, err
	}
	defer func() { stdin.Close(); _ = clients.Wait() }()
	log("storm: %d streams arriving within %v (pid %d)", cfg.streams, cfg.window, clients.Process.Pid)

	done := make(chan error, 1)
	go func() { done <- json.NewDecoder(cout).Decode(&rep.Storm) }()
	var peak float64
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Go(func() { // RSS sampler
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			peak = max(peak, procRSS(server.Process.Pid, "VmRSS"))
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	})
	var stormErr error
flipping:
	for {
		if d, ok := flips.flip(ctx); ok {
			rep.ProbeDuringMS = append(rep.ProbeDuringMS, d.TotalMS)
			rep.DuringStages = append(rep.DuringStages, d)
		} else {
			rep.ProbeMissed++
		}
		select {
		case stormErr = <-done:
			break flipping
		case <-time.After(cfg.interval):
		}
	}
	rep.ServerCPUSeconds = procCPU(server.Process.Pid) - cpu0
	rep.ClientCPUSeconds = procCPU(clients.Process.Pid)
	rep.StormSeconds = time.Since(stormStart).Seconds()
	rep.PutMaxMS = flips.putMS
	close(stop)
	wg.Wait()
	rep.RSSPeakMiB, rep.RSSAfterMiB = peak, procRSS(server.Process.Pid, "VmRSS")
	_, rep.HeapPeakMiB, _ = heap.read()
	<-time.After(time.Second) // let a GC cycle run before reading the heap after the storm
	rep.HeapAfterMiB, _, rep.GoroutinesAfter = heap.read()
	if stormErr != nil {
		return rep, fmt.Errorf("storm clients: %w", stormErr)
	}
	return rep, nil
}

// flipper flips one tablet of keyspace 0 and times its arrival at every probe.
type flipper struct {
	cli    *clientv3.Client
	f      fleet
	probes []*adsClient
	server *serverLines
	n      int
	down   map[watchKey]bool // tablets flipped to NOT_SERVING
	putMS  float64           // the slowest etcd write of a flip so far
}

// flipTimes is where one flip's time went, in milliseconds from the etcd
// write: the server's rebuild start (etcd watch and batching), its end
// (translation, with every watch answered), and the last probe's update
// (sending). The rebuild fields are 0 when the server reported none.
type flipTimes struct {
	RebuildStartMS float64 `json:"rebuild_start_ms"`
	RebuildEndMS   float64 `json:"rebuild_end_ms"`
	TotalMS        float64 `json:"total_ms"`
}

// flip returns the milliseconds until every probe saw the change, and
// until the server's rebuild; false if a probe did not see it within 10 s.
func (fl *flipper) flip(ctx context.Context) (flipTimes, bool) {
	fl.n++
	s, t := fl.n%fl.f.shards, 1+fl.n%9
	key := watchKey{cluster: fl.f.keyspace(0) + "/" + shardName(s, fl.f.shards) + "/replica", alias: fl.f.alias(0, s, t)}
	if fl.down == nil {
		fl.down = map[watchKey]bool{}
	}
	fl.down[key] = !fl.down[key] // every flip changes its tablet
	state, health := "SERVING", corev3.HealthStatus_HEALTHY
	if fl.down[key] {
		state, health = "NOT_SERVING", corev3.HealthStatus_UNHEALTHY
	}
	for _, p := range fl.probes {
		p.expect(key, health)
	}
	rec, _ := json.Marshal(fl.f.tablet(0, s, t, state))
	t0 := time.Now()
	resp, err := fl.cli.Put(ctx, "/shardmesh/tablets/"+key.alias, string(rec))
	if err != nil {
		return flipTimes{}, false
	}
	fl.putMS = max(fl.putMS, float64(time.Since(t0).Microseconds())/1000)
	worst := time.Duration(0)
	deadline := time.Now().Add(10 * time.Second)
	for _, p := range fl.probes {
		for {
			if at, seen := p.seenAt(key); seen {
				worst = max(worst, at.Sub(t0))
				break
			}
			if time.Now().After(deadline) {
				return flipTimes{}, false
			}
			time.Sleep(500 * time.Microsecond) // polling the probes' own timestamps
		}
	}
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	ft := flipTimes{TotalMS: ms(worst)}
	if start, end, ok := fl.server.rebuild(resp.Header.Revision); ok {
		ft.RebuildStartMS, ft.RebuildEndMS = ms(start.Sub(t0)), ms(end.Sub(t0))
	}
	return ft, true
}

// finePool is a gRPC buffer pool with a tier at every power of two from
// 256 B to 16 MiB: gRPC's default (256 B, 4, 16, 32 KiB, 1 MiB) clears a
// whole 1 MiB buffer to receive a 40 KiB response.
func finePool() mem.BufferPool {
	var exps []uint8
	for e := uint8(8); e <= 24; e++ {
		exps = append(exps, e)
	}
	p, err := mem.NewBinaryTieredBufferPool(exps...)
	if err != nil {
		panic(err) // constant exponents
	}
	return p
}

// procRSS reads a VmRSS/VmHWM line of /proc/pid/status, in MiB.
func procRSS(pid int, field string) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 64)
			return kb / 1024
		}
	}
	return 0
}

// procCPU is the process's user+system CPU seconds (/proc/pid/stat).
func procCPU(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(b)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	if len(fields) < 13 {
		return 0
	}
	u, _ := strconv.ParseFloat(fields[11], 64)
	sy, _ := strconv.ParseFloat(fields[12], 64)
	return (u + sy) / 100 // USER_HZ
}

// waitStdinEOF blocks until the parent closes our stdin.
func waitStdinEOF() { _, _ = io.Copy(io.Discard, os.Stdin) }
