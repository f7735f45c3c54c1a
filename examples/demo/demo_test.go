package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"
)

// TestDemoShort runs the demo in 10 seconds and checks that each scene
// did what it shows: when zone1 failed with its primary, reads left zone1
// and writes failed over to the replica az-rank named, with no write
// failing and a measured unavailability window; writes followed the planned
// reparent back; reads left zone1 when drained and came back when the
// drain was undone.
func TestDemoShort(t *testing.T) {
	var out bytes.Buffer
	sum, err := run(context.Background(), 10*time.Second, &out)
	if err != nil {
		t.Fatal(err)
	}
	if err := sum.check(); err != nil {
		t.Errorf("%v\n%+v\n%s", err, sum, out.String())
	}
	if sum.unavailable <= 0 || sum.unavailable > 5*time.Second {
		t.Errorf("write-unavailability window %v, want within commerce's buffer window (5s)", sum.unavailable)
	}
	for _, want := range []string{"zone1 fails", "writes fail over: az-rank commerce/-80 ranks cell zone2 first", "write-unavailability window",
		"0 write errors", "planned reparent back", "roll the drain back", "done"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q", want)
		}
	}
}

// TestDemoVitessShort runs the Vitess story in 10 seconds with the same
// checks: the scenes are driven by health streams and a Vitess topology.
func TestDemoVitessShort(t *testing.T) {
	var out bytes.Buffer
	sum, err := runVitess(context.Background(), 10*time.Second, &out)
	if err != nil {
		t.Fatal(err)
	}
	if err := sum.checkVitess(); err != nil {
		t.Errorf("%v\n%+v\n%s", err, sum, out.String())
	}
	for _, want := range []string{"health streams report serving=false", "PlannedReparentShard commerce/-80", "roll the drain back", "done"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q", want)
		}
	}
}
