package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	testgrpc "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/xds"

	"github.com/shardmesh/shardmesh/internal/app"
)

// client is a grpc-go xDS client of keyspace commerce in one zone.
type client struct {
	name string
	stub testgrpc.TestServiceClient

	writes *writeLog

	mu     sync.Mutex // guards counts
	counts map[string]int
}

func dial(addr, name, region, zone string, writes *writeLog) (*client, *grpc.ClientConn, error) {
	boot, _ := json.Marshal(map[string]any{
		"xds_servers": []any{map[string]any{"server_uri": addr, "channel_creds": []any{map[string]string{"type": "insecure"}},
			"server_features": []string{"xds_v3"}}},
		"node": map[string]any{"id": name, "locality": map[string]string{"region": region, "zone": zone}},
	})
	builder, err := xds.NewXDSResolverWithConfigForTesting(boot)
	if err != nil {
		return nil, nil, err
	}
	conn, err := grpc.NewClient("xds:///commerce", grpc.WithResolvers(builder), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return nil, nil, err
	}
	return &client{name: name, stub: testgrpc.NewTestServiceClient(conn), writes: writes, counts: map[string]int{}}, conn, nil
}

// traffic sends replica reads and writes for random keyspace ids until ctx
// ends, about 100 calls a second, counting "read:<tablet>", "write:<tablet>"
// and "read:error"/"write:error".
func (c *client) traffic(ctx context.Context) {
	rng := rand.New(rand.NewPCG(uint64(len(c.name)), 7))
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for i := 0; ; i++ {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		kind, headers := "read", []string{"x-tablet-type", "replica"}
		if i%4 == 0 {
			kind, headers = "write", nil
		}
		headers = append(headers, "x-keyspace-id", fmt.Sprintf("%016x", rng.Uint64()&0x7fffffffffffffff)) // shard -80
		// Longer than the retries of a write through a failover (about
		// the buffer window).
		cctx, cancel := context.WithTimeout(metadata.AppendToOutgoingContext(ctx, headers...), 10*time.Second)
		sent := time.Now()
		resp, err := c.stub.UnaryCall(cctx, &testgrpc.SimpleRequest{})
		cancel()
		key := kind + ":" + resp.GetServerId()
		if err == nil && kind == "write" {
			c.writes.served(resp.GetServerId(), time.Now(), time.Since(sent))
		}
		if err != nil {
			// A call cut off by the end of the run is not a failure: the
			// server may answer DEADLINE_EXCEEDED a moment before ctx's
			// own timer fires.
			if dl, ok := ctx.Deadline(); ctx.Err() != nil || ok && !time.Now().Before(dl) {
				return
			}
			key = kind + ":error"
			if kind == "write" {
				c.writes.failed(err)
			}
		}
		c.mu.Lock()
		c.counts[key]++
		c.mu.Unlock()
	}
}

// take returns and resets the counts.
func (c *client) take() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.counts
	c.counts = map[string]int{}
	return out
}

// run runs the demo for d, printing to out, and summarizes what happened.
func run(ctx context.Context, d time.Duration, out io.Writer) (summary, error) {
	var sum summary
	dir, err := os.MkdirTemp("", "shardmesh-demo-")
	if err != nil {
		return sum, err
	}
	defer os.RemoveAll(dir)
	a, err := app.Start(ctx, app.Config{EmbeddedEtcdAddr: "127.0.0.1:0", EtcdDataDir: dir, XDSAddr: "127.0.0.1:0",
		AdminAddr: "127.0.0.1:0", Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return sum, err
	}
	defer a.Close()
	cli := a.Client
	if err := writeStatic(ctx, cli); err != nil {
		return sum, err
	}
	tablets := map[string]*tablet{}
	for _, f := range fleet() {
		t, err := startTablet(f[0], f[1], f[2], f[3])
		if err != nil {
			return sum, err
		}
		defer t.stop()
		if err := t.register(ctx, cli); err != nil {
			return sum, err
		}
		tablets[f[0]] = t
	}
	fmt.Fprintf(out, "shardmesh demo: xds-server %s, admin http://%s, %d tablets registered under etcd leases\n", a.XDSAddr, a.AdminAddr, len(tablets))

	writes := newWriteLog()
	phase := "steady"
	admin := a.AdminAddr.String()
	const oldPrimary = "zone1-0000000101"
	detect := max(0.02, float64(300*time.Millisecond)/float64(d)) // an orchestrator noticing the dead primary
	start := time.Now()
	scenes := []scene{
		{0.15, "zone1 fails: its hosts stop and their agents' leases are revoked, commerce/-80's primary " + oldPrimary + " with them", func() error {
			phase = "zone1 down"
			for alias, t := range tablets {
				if strings.HasPrefix(alias, "zone1") {
					if err := t.crash(ctx, cli); err != nil {
						return err
					}
				}
			}
			return nil
		}},
		{0.15 + detect, "", func() error {
			r, err := azRank(ctx, admin, "commerce/-80")
			if err != nil {
				return err
			}
			sum.failoverTo = r.Candidate
			fmt.Fprintf(out, "%s >>> writes fail over: az-rank commerce/-80 ranks cell %s first; EmergencyReparentShard promotes its replica %s\n",
				since(start), strings.SplitN(r.Candidate, "-", 2)[0], r.Candidate)
			return promote(ctx, cli, tablets, r.Candidate)
		}},
		{0.35, "zone1 is back: its hosts restart and their agents register; " + oldPrimary + " returns as a replica", func() error {
			gap, slowest, ok := writes.window(oldPrimary, sum.failoverTo)
			if ok {
				sum.unavailable, sum.slowestWrite = gap, slowest
				fmt.Fprintf(out, "%s     write-unavailability window %v: from the last write %s acknowledged to the first on %s; "+
					"the slowest write took %v and succeeded (the route's retries ride through; %d write errors)\n",
					since(start), gap.Round(time.Millisecond), oldPrimary, sum.failoverTo, slowest.Round(time.Millisecond), sum.writeErrors)
			}
			phase = "zone1 back"
			for alias, t := range tablets {
				if !strings.HasPrefix(alias, "zone1") {
					continue
				}
				var fields map[string]any
				if alias == oldPrimary {
					fields = map[string]any{"type": "replica", "primary_term_start": nil}
				}
				if err := t.restart(ctx, cli, fields); err != nil {
					return err
				}
			}
			return nil
		}},
		{0.5, "", func() error {
			r, err := azRank(ctx, admin, "commerce/-80")
			if err != nil {
				return err
			}
			sum.plannedTo = r.Candidate
			fmt.Fprintf(out, "%s >>> planned reparent back: az-rank commerce/-80 says %q; %s becomes primary (newer term), %s drains\n",
				since(start), r.Advice, r.Candidate, sum.failoverTo)
			phase = "reparented"
			if err := tablets[sum.failoverTo].write(ctx, cli, map[string]any{"state": "DRAINING"}); err != nil {
				return err
			}
			return promote(ctx, cli, tablets, r.Candidate)
		}},
		{0.6, fmt.Sprintf("drain zone1's reads gradually over %v (shardctl cell drain zone1 --window ...)", (d / 5).Round(time.Second)), func() error {
			phase = "zone1 draining"
			_, err := cli.Put(ctx, prefix+"overrides/drain/zone1", fmt.Sprintf(`{"started_at":%q,"window":%q}`,
				time.Now().UTC().Format(time.RFC3339Nano), (d/5).String()))
			return err
		}},
		{0.9, "roll the drain back (shardctl cell undrain zone1)", func() error {
			phase = "undrained"
			_, err := cli.Delete(ctx, prefix+"overrides/drain/zone1")
			return err
		}},
	}
	return sum, play(ctx, d, out, a.XDSAddr.String(), writes, start, &phase, &sum, scenes)
}

// scene is one event of a story: at a share of the run, print the banner
// ("" when do prints its own) and make the change.
type scene struct {
	at     float64 // fraction of d
	banner string
	do     func() error
}

// play runs two grpc-go clients of commerce (us-east-1a and us-east-1b)
// against the xDS server at addr for d from start, plays the scenes, and
// every tick prints and tallies where the calls went; *phase is the phase
// the scenes set.
func play(ctx context.Context, d time.Duration, out io.Writer, addr string, writes *writeLog, start time.Time, phase *string, sum *summary, scenes []scene) error {
	fmt.Fprintln(out, "clients: east (us-east-1a) and eastb (us-east-1b) send replica reads and writes (w) to commerce/-80; counts per tick")
	runCtx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	east, c1, err := dial(addr, "east", "us-east-1", "us-east-1a", writes)
	if err != nil {
		return err
	}
	defer c1.Close()
	eastb, c2, err := dial(addr, "eastb", "us-east-1", "us-east-1b", writes)
	if err != nil {
		return err
	}
	defer c2.Close()
	go east.traffic(runCtx)
	go eastb.traffic(runCtx)

	phaseAt := 0.0
	period := max(d/60, 100*time.Millisecond)
	tickFrac := float64(period) / float64(d) // a tick's share of the run
	tick := time.NewTicker(period)
	defer tick.Stop()
	next := 0
	for {
		select {
		case <-runCtx.Done():
			if n, last := writes.failures(); n > 0 {
				fmt.Fprintf(out, "%s %d write(s) failed, the last with: %v\n", since(start), n, last)
			}
			fmt.Fprintf(out, "%s done\n", since(start))
			return nil
		case <-tick.C:
		}
		elapsed := float64(time.Since(start)) / float64(d)
		for next < len(scenes) && elapsed >= scenes[next].at {
			if scenes[next].banner != "" {
				fmt.Fprintf(out, "%s >>> %s\n", since(start), scenes[next].banner)
			}
			if err := scenes[next].do(); err != nil {
				return err
			}
			phaseAt = elapsed
			next++
		}
		e, b := east.take(), eastb.take()
		tally(sum, *phase, elapsed-tickFrac-phaseAt, e, b) // where in its phase the tick began
		fmt.Fprintf(out, "%s %-15s east: %s | eastb: %s\n", since(start), *phase, line(e), line(b))
	}
}

// tally adds one tick's counts to the summary; inPhase is how far into its
// phase (as a share of the run) the tick began. In each phase it skips the
// first 5% of the run, while clients converge.
func tally(s *summary, phase string, inPhase float64, east, eastb map[string]int) {
	for _, counts := range []map[string]int{east, eastb} {
		for k, n := range counts {
			if !strings.HasSuffix(k, ":error") {
				s.served += n
			}
		}
		s.writeErrors += counts["write:error"]
		if phase == "zone1 down" || phase == "zone1 back" {
			s.failoverWrites += counts["write:"+s.failoverTo]
		}
	}
	if inPhase < 0.05 {
		return
	}
	for k, n := range east {
		switch {
		case phase == "zone1 down" && strings.HasPrefix(k, "read:zone1"):
			s.zone1ReadsInFault += n
		case phase == "zone1 down" && strings.HasPrefix(k, "read:") && k != "read:error":
			s.otherReadsInFault += n
		}
	}
	if phase == "reparented" || phase == "zone1 draining" || phase == "undrained" {
		for _, counts := range []map[string]int{east, eastb} {
			s.newPrimaryWrites += counts["write:"+s.plannedTo]
			s.oldPrimaryLate += counts["write:"+s.failoverTo]
		}
	}
	if phase == "zone1 draining" && inPhase > 0.22 {
		s.ticksDrained++
	}
	for k, n := range east {
		switch {
		case phase == "zone1 draining" && inPhase > 0.22 && strings.HasPrefix(k, "read:zone1"):
			s.zone1ReadsDrained += n // the drain is complete: none should be left
		case phase == "undrained" && strings.HasPrefix(k, "read:zone1"):
			s.zone1ReadsAfterUndo += n
		}
	}
}

func line(counts map[string]int) string {
	keys := make([]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s=%d", strings.TrimPrefix(strings.TrimPrefix(k, "read:"), "write:")+kindMark(k), counts[k]))
	}
	return strings.Join(parts, " ")
}

func kindMark(k string) string {
	if strings.HasPrefix(k, "write:") {
		return "(w)"
	}
	return ""
}
