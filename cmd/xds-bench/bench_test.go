package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
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
	if len(rep.Ours.RebuildMS) == 0 {
		t.Error("no rebuild time recorded")
	}
	if rep.Ours.BurstPushes <= 0 || rep.Ours.BurstConverged <= 0 {
		t.Errorf("burst not measured: %+v", rep.Ours)
	}
	if err := writePlot(filepath.Join(t.TempDir(), "p.png"), rep); err != nil {
		t.Error(err)
	}
	printReport(rep)
}

// TestStormSmoke runs the -storm mode small, with its two child processes,
// so that `make test` keeps it working: every storm stream is configured,
// every flip reaches every probe, and the server's rebuild times arrive.
func TestStormSmoke(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	dir := t.TempDir()
	bin := filepath.Join(dir, "xds-bench")
	if out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	report := filepath.Join(dir, "storm.json")
	cmd := exec.CommandContext(ctx, bin, "-storm", "-storm-streams=40", "-storm-probes=4", "-storm-probe-zones=2",
		"-keyspaces=2", "-shards=2", "-storm-flip-interval=20ms", "-connect-timeout=60s", "-out="+report)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("xds-bench -storm: %v\n%s", err, out)
	}
	b, err := os.ReadFile(report)
	if err != nil {
		t.Fatal(err)
	}
	var rep stormReport
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Storm.Configured != 40 || rep.Storm.Failed != 0 {
		t.Errorf("storm streams: %d configured, %d failed, want 40 and 0 (%s)", rep.Storm.Configured, rep.Storm.Failed, rep.Storm.FirstFailure)
	}
	if rep.ProbeMissed != 0 || len(rep.ProbeBeforeMS) != 10 || len(rep.ProbeDuringMS) == 0 {
		t.Errorf("flips: %d before, %d during, %d missed; want 10, some, 0", len(rep.ProbeBeforeMS), len(rep.ProbeDuringMS), rep.ProbeMissed)
	}
	for _, st := range append(rep.BeforeStages, rep.DuringStages...) {
		// A group's streams are answered as soon as it is built, so a probe
		// may have the change before the whole rebuild ends, not before it
		// starts.
		if st.RebuildEndMS <= 0 || st.RebuildEndMS < st.RebuildStartMS || st.TotalMS < st.RebuildStartMS {
			t.Errorf("flip stages out of order: %+v", st)
		}
	}
}
