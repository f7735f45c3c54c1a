package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
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
	"github.com/shardmesh/shardmesh/internal/mariadbtest"
	"github.com/shardmesh/shardmesh/pkg/topology"
)

// client is a grpc-go xDS client of commerce with no locality (every
// replica in one priority), sending replica reads and writes.
type client struct {
	stub   testgrpc.TestServiceClient
	mu     sync.Mutex // guards counts
	counts map[string]int
}

func dial(addr string) (*client, *grpc.ClientConn, error) {
	boot, _ := json.Marshal(map[string]any{
		"xds_servers": []any{map[string]any{"server_uri": addr, "channel_creds": []any{map[string]string{"type": "insecure"}},
			"server_features": []string{"xds_v3"}}},
		"node": map[string]any{"id": "demo-app"},
	})
	builder, err := xds.NewXDSResolverWithConfigForTesting(boot)
	if err != nil {
		return nil, nil, err
	}
	conn, err := grpc.NewClient("xds:///commerce", grpc.WithResolvers(builder), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return nil, nil, err
	}
	return &client{stub: testgrpc.NewTestServiceClient(conn), counts: map[string]int{}}, conn, nil
}

// traffic sends about 100 calls a second until ctx ends, one write in
// four, counting "read:<tablet>", "write:<tablet>", "read:error", ...
func (c *client) traffic(ctx context.Context) {
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for i := 0; ; i++ {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		kind := "read"
		headers := []string{"x-tablet-type", "replica"}
		if i%4 == 0 {
			kind, headers = "write", []string{"x-tablet-type", "primary"}
		}
		cctx, cancel := context.WithTimeout(metadata.AppendToOutgoingContext(ctx, headers...), time.Second)
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

func (c *client) take() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.counts
	c.counts = map[string]int{}
	return out
}

// summary is what the demo saw, for its test and exit status.
type summary struct {
	readsOnStopped  int // reads served by replica1 late in its SQL-thread stop
	readsBackRamped bool
	readsOnKilled   int // reads served by replica2 late in its mysqld's death
	writesOnNew     int // writes on replica2 late in the switchover
	writesOnOld     int // ... on the old primary
	readsOnDrained  int // reads on replica1 late in its drain
	served          int
}

func (s summary) check() error {
	switch {
	case s.served == 0:
		return fmt.Errorf("no call was served")
	case s.readsOnStopped > 0:
		return fmt.Errorf("%d reads on %s late while its SQL thread was stopped", s.readsOnStopped, replica1)
	case !s.readsBackRamped:
		return fmt.Errorf("reads did not come back to %s after its SQL thread restarted", replica1)
	case s.readsOnKilled > 0:
		return fmt.Errorf("%d reads on %s late while its mysqld was dead", s.readsOnKilled, replica2)
	case s.writesOnNew == 0 || s.writesOnOld > 0:
		return fmt.Errorf("switchover: %d writes on the new primary, %d late on the old", s.writesOnNew, s.writesOnOld)
	case s.readsOnDrained > 0:
		return fmt.Errorf("%d reads on %s late in its drain", s.readsOnDrained, replica1)
	}
	return nil
}

// scene is a step of the script: act, then watch for step.
type scene struct {
	title string
	act   func(fleet map[string]*tablet)
	late  func(s *summary, counts map[string]int) // counts of the scene's second half
}

func script() []scene {
	return []scene{
		{title: "steady: writes on the primary, reads on both replicas"},
		{title: "STOP SLAVE SQL_THREAD on " + replica1 + ": its lag grows, it stops serving",
			act:  func(f map[string]*tablet) { f[replica1].db.Exec("STOP SLAVE SQL_THREAD") },
			late: func(s *summary, c map[string]int) { s.readsOnStopped += c["read:"+replica1] }},
		{title: "START SLAVE SQL_THREAD on " + replica1 + ": it serves again and ramps up",
			act: func(f map[string]*tablet) { f[replica1].db.Exec("START SLAVE SQL_THREAD") },
			late: func(s *summary, c map[string]int) {
				s.readsBackRamped = s.readsBackRamped || c["read:"+replica1] > 0
			}},
		{title: "kill -9 " + replica2 + "'s mysqld: out within two probe intervals",
			act:  func(f map[string]*tablet) { f[replica2].db.Kill() },
			late: func(s *summary, c map[string]int) { s.readsOnKilled += c["read:"+replica2] }},
		{title: "restart " + replica2 + "'s mysqld: it replicates again and serves",
			act: func(f map[string]*tablet) { f[replica2].db.Restart() }},
		{title: "switch over by hand: 101 read-only; 201 promoted (STOP SLAVE, RESET SLAVE ALL, read_only=OFF); 101 and 102 replicate from 201",
			act: func(f map[string]*tablet) {
				f[primary].db.Exec("SET GLOBAL read_only = ON")
				mariadbtest.WaitCaughtUp(f[primary].db, f[replica2].db)
				f[replica2].db.Exec("STOP SLAVE", "RESET SLAVE ALL", "SET GLOBAL read_only = OFF")
				mariadbtest.Replicate(f[replica2].db, f[primary].db, false)
				mariadbtest.Replicate(f[replica2].db, f[replica1].db, true)
			},
			late: func(s *summary, c map[string]int) {
				s.writesOnNew += c["write:"+replica2]
				s.writesOnOld += c["write:"+primary]
			}},
		{title: "SIGTERM " + replica1 + "'s agent: DRAINING, then deleted; reads go to 101, now a replica",
			act:  func(f map[string]*tablet) { f[replica1].stop() },
			late: func(s *summary, c map[string]int) { s.readsOnDrained += c["read:"+replica1] }},
	}
}

// run runs the demo, each scene lasting step, printing to out.
func run(ctx context.Context, step time.Duration, out io.Writer) (sum summary, err error) {
	h := &harness{}
	defer h.close()
	defer func() {
		if r := recover(); r != nil {
			f, ok := r.(fatal)
			if !ok {
				panic(r)
			}
			err = f.err
		}
	}()
	dir, err := os.MkdirTemp("", "shardmesh-demo-mariadb-")
	if err != nil {
		return sum, err
	}
	h.Cleanup(func() { os.RemoveAll(dir) })
	log := slog.New(slog.DiscardHandler)
	a, err := app.Start(ctx, app.Config{EmbeddedEtcdAddr: "127.0.0.1:0", EtcdDataDir: dir, XDSAddr: "127.0.0.1:0",
		Logger: log, HoldOff: time.Millisecond, MaxDelay: 10 * time.Millisecond})
	if err != nil {
		return sum, err
	}
	h.Cleanup(a.Close)
	for k, v := range map[string]string{
		"cells/zone1":        `{"region":"us-east-1","zone":"us-east-1a"}`,
		"cells/zone2":        `{"region":"us-east-1","zone":"us-east-1b"}`,
		"keyspaces/commerce": `{"buffer_window":"1s","lag":{"degraded":"1s","max":"2s","min_serving":1},"ramp":{"window":"4s","min_weight_percent":10}}`,
	} {
		if _, err := a.Client.Put(ctx, "/shardmesh/"+k, v); err != nil {
			return sum, err
		}
	}
	fleet, err := startFleet(h)
	if err != nil {
		return sum, err
	}
	for _, alias := range aliases {
		if err := fleet[alias].startAgent(h, a.Client, log); err != nil {
			return sum, err
		}
	}
	c, conn, err := dial(a.XDSAddr.String())
	if err != nil {
		return sum, err
	}
	h.Cleanup(func() { conn.Close() })
	fmt.Fprintf(out, "shardmesh MariaDB demo: xds-server %s; 3 mariadbd (primary, semi-sync and async replica), one tablet agent each\n", a.XDSAddr)
	tctx, stopTraffic := context.WithCancel(ctx)
	defer stopTraffic()
	go c.traffic(tctx)

	start := time.Now()
	tick := step / 8
	for _, sc := range script() {
		fmt.Fprintf(out, "%5.1fs >>> %s\n", time.Since(start).Seconds(), sc.title)
		if sc.act != nil {
			sc.act(fleet)
		}
		for i := range 8 {
			select {
			case <-ctx.Done():
				return sum, ctx.Err()
			case <-time.After(tick):
			}
			counts := c.take()
			for k, n := range counts {
				if !strings.HasSuffix(k, ":error") {
					sum.served += n
				}
			}
			if i >= 4 && sc.late != nil {
				sc.late(&sum, counts)
			}
			fmt.Fprintf(out, "%5.1fs %s | %s\n", time.Since(start).Seconds(), format(counts), records(ctx, a))
		}
	}
	fmt.Fprintf(out, "%5.1fs done\n", time.Since(start).Seconds())
	return sum, nil
}

func format(counts map[string]int) string {
	keys := make([]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		kind, alias, _ := strings.Cut(k, ":")
		if alias != "error" {
			alias = alias[max(0, len(alias)-3):]
		}
		parts[i] = fmt.Sprintf("%s:%s=%d", kind, alias, counts[k])
	}
	return fmt.Sprintf("%-44s", strings.Join(parts, " "))
}

// records summarises the tablet records in etcd: uid, type, state, lag.
func records(ctx context.Context, a *app.App) string {
	var parts []string
	for _, alias := range aliases {
		resp, err := a.Client.Get(ctx, "/shardmesh/tablets/"+alias)
		if err != nil || len(resp.Kvs) == 0 {
			parts = append(parts, alias[len(alias)-3:]+" (none)")
			continue
		}
		t, err := topology.DecodeTablet(alias, resp.Kvs[0].Value)
		if err != nil {
			parts = append(parts, alias[len(alias)-3:]+" invalid")
			continue
		}
		p := fmt.Sprintf("%s %s %s", alias[len(alias)-3:], t.Type, t.State)
		if t.Type != topology.TypePrimary {
			p += fmt.Sprintf(" lag %.1fs", t.ReplicationLag.Seconds())
		}
		parts = append(parts, p)
	}
	return strings.Join(parts, ", ")
}
