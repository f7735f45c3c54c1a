package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	vtlog "vitess.io/vitess/go/vt/log"
	querypb "vitess.io/vitess/go/vt/proto/query"
	topodatapb "vitess.io/vitess/go/vt/proto/topodata"

	"github.com/shardmesh/shardmesh/internal/app"
	"github.com/shardmesh/shardmesh/internal/vitesstest"
)

// harness lets the demo drive internal/vitesstest outside a test: Fatalf
// aborts the step that failed (recovered by vitessStep), Cleanup runs when
// the demo ends.
type harness struct{ cleanups []func() }

type harnessFailure struct{ err error }

func (h *harness) Helper() {}
func (h *harness) Fatalf(format string, args ...any) {
	panic(harnessFailure{fmt.Errorf(format, args...)})
}
func (h *harness) Cleanup(f func()) { h.cleanups = append(h.cleanups, f) }
func (h *harness) close() {
	for i := len(h.cleanups) - 1; i >= 0; i-- {
		h.cleanups[i]()
	}
}

// vitessStep runs f, turning a harness failure into an error.
func vitessStep(f func()) (err error) {
	defer func() {
		if r := recover(); r != nil {
			hf, ok := r.(harnessFailure)
			if !ok {
				panic(r)
			}
			err = hf.err
		}
	}()
	f()
	return nil
}

// runVitess is the demo's story on a Vitess cluster: xds-server
// --source=vitess reads a Vitess topology written with Vitess's own topo
// library into its embedded etcd, and the tablets' StreamHealth streams.
// zone1's replicas stop serving in their health streams and come back;
// PlannedReparentShard moves commerce/-80's primary to zone2-0000000201
// (the health streams report it first, then the topology); zone1's reads
// are drained through the shardmesh overlay and the drain is undone.
func runVitess(ctx context.Context, d time.Duration, out io.Writer) (sum summary, err error) {
	dir, err := os.MkdirTemp("", "shardmesh-demo-")
	if err != nil {
		return sum, err
	}
	defer os.RemoveAll(dir)
	a, err := app.Start(ctx, app.Config{Source: app.SourceVitess, EmbeddedEtcdAddr: "127.0.0.1:0", EtcdDataDir: dir,
		XDSAddr: "127.0.0.1:0", AdminAddr: "127.0.0.1:0", Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return sum, err
	}
	defer a.Close()
	if err := writeStatic(ctx, a.Client); err != nil {
		return sum, err
	}
	h := &harness{}
	defer h.close()
	// Vitess's topo library logs every lock it takes; the story is the output.
	defer vtlog.SwapLogger(vtlog.SwapLogger(slog.New(slog.DiscardHandler)))
	tablets := map[string]*vitesstest.Tablet{}
	var vt *vitesstest.Cluster
	if err := vitessStep(func() {
		addr := a.Etcd.ClientAddr()
		vt = vitesstest.NewCluster(h, addr, "/vitess/global")
		for name := range cells {
			vt.AddCell(name, addr, "/vitess/"+name)
		}
		vt.AddKeyspace("commerce", "semi_sync", "-80", "80-")
		for _, f := range fleet() {
			typ := topodatapb.TabletType_REPLICA
			if f[3] == "primary" {
				typ = topodatapb.TabletType_PRIMARY
			}
			tablets[f[0]] = vt.StartTablet(f[0], f[1], f[2], typ, nil)
		}
	}); err != nil {
		return sum, err
	}
	fmt.Fprintf(out, "shardmesh demo (--source=vitess): xds-server %s, admin http://%s, %d vttablets in a Vitess topology at /vitess/global\n",
		a.XDSAddr, a.AdminAddr, len(tablets))
	setServing := func(serving bool) {
		for alias, t := range tablets {
			if strings.HasPrefix(alias, "zone1") && t.Record.Type != topodatapb.TabletType_PRIMARY {
				t.Health.Set(func(r *querypb.StreamHealthResponse) { r.Serving = serving })
			}
		}
	}
	sum.failoverTo, sum.plannedTo = "zone1-0000000101", "zone2-0000000201" // for tally: old and new primary
	phase := "steady"
	enter := func(p string, f func() error) func() error {
		return func() error {
			phase = p
			return f()
		}
	}
	drain := (d / 5).Round(time.Second)
	return sum, play(ctx, d, out, a.XDSAddr.String(), newWriteLog(), time.Now(), &phase, &sum, []scene{
		{0.15, "zone1 fails: its replicas' health streams report serving=false", enter("zone1 down", func() error {
			setServing(false)
			return nil
		})},
		{0.35, "zone1 is back: its health streams report serving=true", enter("steady", func() error {
			setServing(true)
			return nil
		})},
		{0.5, "PlannedReparentShard commerce/-80: zone2-0000000201 becomes primary (health streams first, then the topology)", enter("reparented", func() error {
			return vitessStep(func() { plannedReparent(vt, tablets["zone1-0000000101"], tablets["zone2-0000000201"]) })
		})},
		{0.6, fmt.Sprintf("drain zone1's reads gradually over %v (shardmesh overlay: shardctl cell drain zone1 --window ...)", drain), enter("zone1 draining", func() error {
			_, err := a.Client.Put(ctx, prefix+"overrides/drain/zone1", fmt.Sprintf(`{"started_at":%q,"window":%q}`,
				time.Now().UTC().Format(time.RFC3339Nano), (d/5).String()))
			return err
		})},
		{0.9, "roll the drain back (shardctl cell undrain zone1)", enter("undrained", func() error {
			_, err := a.Client.Delete(ctx, prefix+"overrides/drain/zone1")
			return err
		})},
	})
}

// plannedReparent does what PlannedReparentShard does to the health
// streams (the old primary demoted, the new one reporting a new term) and
// then to the topology (tablet types, term, the shard's primary_alias).
func plannedReparent(vt *vitesstest.Cluster, oldP, newP *vitesstest.Tablet) {
	term := time.Now()
	oldP.Health.Set(func(r *querypb.StreamHealthResponse) {
		r.Target.TabletType, r.PrimaryTermStartTimestamp = topodatapb.TabletType_REPLICA, 0
	})
	newP.Health.Set(func(r *querypb.StreamHealthResponse) {
		r.Target.TabletType, r.PrimaryTermStartTimestamp = topodatapb.TabletType_PRIMARY, term.Unix()
	})
	vt.SetType(oldP, topodatapb.TabletType_REPLICA, time.Time{})
	vt.SetType(newP, topodatapb.TabletType_PRIMARY, term)
	vt.SetShardPrimary(newP, term)
}
