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

	mu     sync.Mutex // guards counts
	counts map[string]int
}

func dial(addr, name, region, zone string) (*client, *grpc.ClientConn, error) {
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
	return &client{name: name, stub: testgrpc.NewTestServiceClient(conn), counts: map[string]int{}}, conn, nil
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
		cctx, cancel := context.WithTimeout(metadata.AppendToOutgoingContext(ctx, headers...), 3*time.Second)
		resp, err := c.stub.UnaryCall(cctx, &testgrpc.SimpleRequest{})
		cancel()
		key := kind + ":" + resp.GetServerId()
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			key = kind + ":error"
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
		defer t.srv.Stop()
		if err := t.register(ctx, cli); err != nil {
			return sum, err
		}
		tablets[f[0]] = t
	}
	fmt.Fprintf(out, "shardmesh demo: xds-server %s, admin http://%s, %d tablets registered under etcd leases\n", a.XDSAddr, a.AdminAddr, len(tablets))
	zone1Replicas := func(f func(t *tablet) error) error {
		for alias, t := range tablets {
			if strings.HasPrefix(alias, "zone1") && t.typ != "primary" {
				if err := f(t); err != nil {
					return err
				}
			}
		}
		return nil
	}
	return story(ctx, d, out, a, []event{
		{0.15, "zone1 fails: its tablet agents die and their leases are revoked", "zone1 down", func() error {
			return zone1Replicas(func(t *tablet) error { return t.die(ctx, cli) })
		}},
		{0.35, "zone1 is back: its agents register again", "steady", func() error {
			return zone1Replicas(func(t *tablet) error { return t.register(ctx, cli) })
		}},
		{0.5, "reparent commerce/-80: zone2-0000000201 becomes primary (newer term), zone1-0000000101 drains", "reparented", func() error {
			if err := tablets["zone1-0000000101"].write(ctx, cli, map[string]any{"state": "DRAINING"}); err != nil {
				return err
			}
			return tablets["zone2-0000000201"].write(ctx, cli, map[string]any{"type": "primary", "primary_term_start": time.Now().UTC().Format(time.RFC3339)})
		}},
		drainEvent(ctx, d, a), undrainEvent(ctx, a),
	})
}

// event is one scene of the story: at a share of the run, print the
// banner, enter the phase and do the change.
type event struct {
	at     float64 // fraction of d
	banner string
	phase  string
	do     func() error
}

func drainEvent(ctx context.Context, d time.Duration, a *app.App) event {
	return event{0.6, fmt.Sprintf("drain zone1's reads gradually over %v (shardctl cell drain zone1 --window ...)", (d / 5).Round(time.Second)), "zone1 draining", func() error {
		_, err := a.Client.Put(ctx, prefix+"overrides/drain/zone1", fmt.Sprintf(`{"started_at":%q,"window":%q}`,
			time.Now().UTC().Format(time.RFC3339Nano), (d/5).String()))
		return err
	}}
}

func undrainEvent(ctx context.Context, a *app.App) event {
	return event{0.9, "roll the drain back (shardctl cell undrain zone1)", "undrained", func() error {
		_, err := a.Client.Delete(ctx, prefix+"overrides/drain/zone1")
		return err
	}}
}

// story runs two clients against a's xDS server for d, plays the events
// and prints where each tick's calls went.
func story(ctx context.Context, d time.Duration, out io.Writer, a *app.App, events []event) (summary, error) {
	var sum summary
	fmt.Fprintln(out, "clients: east (us-east-1a) and eastb (us-east-1b) send replica reads and writes (w) to commerce/-80; counts per tick")
	runCtx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	east, c1, err := dial(a.XDSAddr.String(), "east", "us-east-1", "us-east-1a")
	if err != nil {
		return sum, err
	}
	defer c1.Close()
	eastb, c2, err := dial(a.XDSAddr.String(), "eastb", "us-east-1", "us-east-1b")
	if err != nil {
		return sum, err
	}
	defer c2.Close()
	go east.traffic(runCtx)
	go eastb.traffic(runCtx)

	phase := "steady"
	start := time.Now()
	phaseAt := 0.0
	period := max(d/60, 100*time.Millisecond)
	tickFrac := float64(period) / float64(d) // a tick's share of the run
	tick := time.NewTicker(period)
	defer tick.Stop()
	next := 0
	for {
		select {
		case <-runCtx.Done():
			fmt.Fprintf(out, "%s done\n", since(start))
			return sum, nil
		case <-tick.C:
		}
		elapsed := float64(time.Since(start)) / float64(d)
		for next < len(events) && elapsed >= events[next].at {
			fmt.Fprintf(out, "%s >>> %s\n", since(start), events[next].banner)
			phase = events[next].phase
			if err := events[next].do(); err != nil {
				return sum, err
			}
			phaseAt = elapsed
			next++
		}
		e, b := east.take(), eastb.take()
		tally(&sum, phase, elapsed-tickFrac-phaseAt, e, b) // where in its phase the tick began
		fmt.Fprintf(out, "%s %-15s east: %s | eastb: %s\n", since(start), phase, line(e), line(b))
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
			s.newPrimaryWrites += counts["write:zone2-0000000201"]
			s.oldPrimaryLate += counts["write:zone1-0000000101"]
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
