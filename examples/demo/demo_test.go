package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"
)

// TestDemoShort runs the demo in 10 seconds and checks that each scene
// did what it shows: reads left zone1 while it was down, writes followed
// the reparent, reads left zone1 when drained and came back when the drain was undone.
func TestDemoShort(t *testing.T) {
	var out bytes.Buffer
	sum, err := run(context.Background(), 10*time.Second, &out)
	if err != nil {
		t.Fatal(err)
	}
	if err := sum.check(); err != nil {
		t.Errorf("%v\n%+v\n%s", err, sum, out.String())
	}
	for _, want := range []string{"zone1 fails", "reparent commerce/-80", "roll the drain back", "done"} {
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
	if err := sum.check(); err != nil {
		t.Errorf("%v\n%+v\n%s", err, sum, out.String())
	}
	for _, want := range []string{"health streams report serving=false", "PlannedReparentShard commerce/-80", "roll the drain back", "done"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q", want)
		}
	}
}
