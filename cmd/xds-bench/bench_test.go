package main

import (
	"context"
	"path/filepath"
	"testing"
	"time"
)

// TestSmoke runs the benchmark small, so that `make test` keeps it working:
// every change must reach every affected stream, on both servers.
func TestSmoke(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rep, err := bench(ctx, smokeConfig(), t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Ours.Missed != 0 || len(rep.Ours.Latencies) != smokeConfig().changes {
		t.Errorf("shardmesh: %d changes measured, %d missed", len(rep.Ours.Latencies), rep.Ours.Missed)
	}
	if rep.Bare == nil || len(rep.Bare.Latencies) != smokeConfig().baselineChanges || rep.Bare.Missed != 0 {
		t.Errorf("baseline: %+v", rep.Bare)
	}
	if rep.Ours.BurstPushes <= 0 || rep.Ours.BurstConverged <= 0 {
		t.Errorf("burst not measured: %+v", rep.Ours)
	}
	if err := writePlot(filepath.Join(t.TempDir(), "p.png"), rep); err != nil {
		t.Error(err)
	}
	printReport(rep)
}
