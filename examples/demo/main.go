// Command demo shows shardmesh at work in one terminal for about a minute:
// an embedded etcd, xds-server, simulated tablets that register their own
// records under etcd leases (as tablet agents do), and two grpc-go xDS
// clients in different zones sending steady traffic. Every second it prints
// where the traffic went, while a script fails a zone with the primary in
// it, fails writes over to the replica az-rank names (the route's retries
// hold writes through it, and the write-unavailability window is measured),
// brings the zone back, reparents back as az-rank then advises, and drains
// a cell gradually, then undoes the drain.
//
// With -source vitess the same story runs on a Vitess cluster: xds-server
// --source=vitess reads a Vitess topology (written with Vitess's own topo
// library) and the tablets' StreamHealth streams; zone1 fails in the health
// streams and the reparent is a PlannedReparentShard.
//
//	go run ./examples/demo [-duration 60s] [-source vitess]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"time"
)

func main() {
	duration := flag.Duration("duration", 60*time.Second, "how long the demo runs; the script scales with it")
	source := flag.String("source", "shardmesh", "shardmesh (tablet agents write shardmesh records) or vitess (a Vitess topology and health streams)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	play, check := run, summary.check
	switch *source {
	case "shardmesh":
	case "vitess":
		play, check = runVitess, summary.checkVitess
	default:
		fmt.Fprintf(os.Stderr, "demo: -source: %q is not shardmesh or vitess\n", *source)
		os.Exit(2)
	}
	sum, err := play(ctx, *duration, os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
	if err := check(sum); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

// summary is what the demo saw, for its test and exit code.
type summary struct {
	served              int           // calls served in total
	zone1ReadsInFault   int           // reads of the us-east-1a client served by zone1 while zone1 was down (after convergence)
	otherReadsInFault   int           // ... served elsewhere
	failoverTo          string        // the replica az-rank named when zone1 failed
	plannedTo           string        // the replica az-rank named for the planned reparent back
	writeErrors         int           // writes that failed, in the whole run
	failoverWrites      int           // writes on failoverTo while zone1 was down or coming back
	unavailable         time.Duration // last write on the old primary to first on failoverTo
	slowestWrite        time.Duration // the slowest successful write up to zone1's return
	newPrimaryWrites    int           // writes on plannedTo after the planned reparent
	oldPrimaryLate      int           // writes on failoverTo well after the planned reparent
	zone1ReadsDrained   int           // reads of the us-east-1a client on zone1 once its drain completed
	ticksDrained        int           // ticks counted once the drain completed
	zone1ReadsAfterUndo int           // ... after the drain was undone
}

func (s summary) check() error {
	switch {
	case s.served > 0 && (s.failoverTo == "" || s.failoverWrites == 0):
		return fmt.Errorf("zone failure: writes never reached a new primary (az-rank named %q)", s.failoverTo)
	case s.served > 0 && s.unavailable <= 0:
		return fmt.Errorf("zone failure: no write-unavailability window was measured")
	}
	return s.checkVitess()
}

// checkVitess is check without the failover of writes: the Vitess story's
// zone failure takes replicas only, and its reparent is planned.
func (s summary) checkVitess() error {
	switch {
	case s.served == 0:
		return fmt.Errorf("no call was ever served")
	case s.otherReadsInFault == 0 || s.zone1ReadsInFault > 0:
		return fmt.Errorf("zone1 failure: %d reads stayed in zone1, %d moved", s.zone1ReadsInFault, s.otherReadsInFault)
	case s.writeErrors > 0:
		return fmt.Errorf("%d writes failed: the retries did not ride through", s.writeErrors)
	case s.newPrimaryWrites == 0 || s.oldPrimaryLate > 0:
		return fmt.Errorf("reparent: %d writes on the new primary, %d late on the old one", s.newPrimaryWrites, s.oldPrimaryLate)
	case s.ticksDrained == 0:
		return fmt.Errorf("no tick was counted after zone1's drain completed")
	case s.zone1ReadsDrained > 0:
		return fmt.Errorf("%d reads still on zone1 after its drain completed", s.zone1ReadsDrained)
	case s.zone1ReadsAfterUndo == 0:
		return fmt.Errorf("reads never came back to zone1 after the drain was undone")
	}
	return nil
}
