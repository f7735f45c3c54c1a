package ha

import (
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/shardmesh/shardmesh/internal/xdstest"
)

// TestChaos runs random faults for -chaos.duration (60 s in make test; make
// chaos runs longer) against a 3-member etcd cluster and two xds-server
// replicas, all separate processes, while four grpc-go clients write and
// read: etcd member and leader kills and restarts, SIGSTOP/SIGCONT of an
// etcd member, compactions, replica kills and restarts, SIGSTOP/SIGCONT of
// a replica, tablet flaps,
// reparents and schema-version flips. It then checks that no write reached
// a fenced primary and no read a tablet out of service or on a disallowed
// schema (beyond the 2 s a change may take to arrive), that every client
// converged within 2 s of the last change, that no stream NACKed and no
// process crashed, and prints a summary.
func TestChaos(t *testing.T) {
	rng := rand.New(rand.NewPCG(seedChaos(t), 1))
	c := startCluster(t, 3)
	backends := xdstest.StartBackends(t, append(slices.Clone(chaosPrimaries), chaosReplicas...)...)
	base := time.Now().Add(-time.Hour)
	st := chaosState{terms: [2]time.Time{base, base.Add(-time.Minute)}, serving: map[string]bool{}, badSchema: map[string]bool{}}
	for _, a := range chaosReplicas {
		st.serving[a] = true
	}
	tl := &timeline{}
	apply := func() {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for {
			start := time.Now()
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			_, err := c.Client().Txn(ctx).Then(st.puts(backends)...).Commit()
			cancel()
			if err == nil {
				st.at = start
				tl.add(st)
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("etcd took no write for 30 s: %v", err)
			}
		}
	}
	apply()

	set := &replicaSet{}
	for i := range 2 {
		set.rs = append(set.rs, startReplica(t, fmt.Sprintf("xds-%d", i), c, "--max-connection-age=20s"))
	}
	target := newFront(set.rs...)

	// Clients record every RPC until stopped.
	var recMu sync.Mutex
	var recs []rpcRecord
	ctx, stopClients := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	const nClients = 4
	for i := range nClients {
		node := client
		node.ID = fmt.Sprintf("app-chaos-%d", i)
		cl := xdstest.DialBootstrap(t, xdstest.Bootstrap(target, node), "chaos", backends)
		routesTo(t, cl, 15*time.Second, chaosPrimaries[0])
		wg.Go(func() {
			tick := time.NewTicker(20 * time.Millisecond)
			defer tick.Stop()
			for ctx.Err() == nil {
				for _, write := range []bool{true, false} {
					var h []string
					if !write {
						h = replicaRead
					}
					alias, _ := cl.Call(ctx, h...)
					if ctx.Err() != nil {
						return // cut short by the end of the run, not a result
					}
					recMu.Lock()
					recs = append(recs, rpcRecord{at: time.Now(), client: i, write: write, alias: alias})
					recMu.Unlock()
				}
				select {
				case <-ctx.Done():
				case <-tick.C:
				}
			}
		})
	}
	defer func() { stopClients(); wg.Wait() }()

	// NACKs, as the replicas report them.
	nacks := map[string]string{}
	var nackMu sync.Mutex
	wg.Go(func() {
		tick := time.NewTicker(250 * time.Millisecond)
		defer tick.Stop()
		for ctx.Err() == nil {
			for _, r := range set.rs {
				ns, _ := nodes(r)
				for _, n := range ns {
					if n.LastNack != nil {
						nackMu.Lock()
						nacks[r.Name+"/"+n.NodeID] = fmt.Sprintf("%+v", *n.LastNack)
						nackMu.Unlock()
					}
				}
			}
			select {
			case <-ctx.Done():
			case <-tick.C:
			}
		}
	})

	faults := map[string]int{}
	var etcdCrashes []string
	pause := func(lo, hi time.Duration) { <-time.After(lo + time.Duration(rng.Int64N(int64(hi-lo)))) }
	change := func() {
		switch rng.IntN(3) {
		case 0:
			st.primary = 1 - st.primary
			st.terms[st.primary] = time.Now()
			faults["reparent"]++
		case 1:
			a := chaosReplicas[rng.IntN(len(chaosReplicas))]
			st.serving[a] = !st.serving[a]
			faults["tablet flap"]++
		default:
			a := chaosReplicas[rng.IntN(len(chaosReplicas))]
			st.badSchema[a] = !st.badSchema[a]
			faults["schema flip"]++
		}
		// Keep one replica readable most of the time, so that reads test
		// routing rather than answer UNAVAILABLE: with none left, one comes
		// back in the same write.
		if !slices.ContainsFunc(chaosReplicas, st.readable) && rng.IntN(4) > 0 {
			a := chaosReplicas[rng.IntN(len(chaosReplicas))]
			st.serving[a], st.badSchema[a] = true, false
		}
		apply()
	}
	restartMember := func(i int) {
		if crashed, how := c.Members[i].Proc().Crashed(); crashed {
			etcdCrashes = append(etcdCrashes, c.Members[i].Name+": "+how)
		}
		if err := c.StartMember(i); err != nil {
			t.Fatal(err)
		}
		if err := c.WaitHealthy(30 * time.Second); err != nil {
			t.Fatal(err)
		}
	}
	end := time.Now().Add(*chaosDuration)
	for time.Now().Before(end) {
		switch rng.IntN(7) {
		case 0:
			i := rng.IntN(len(c.Members))
			c.Kill(i)
			faults["etcd member kill"]++
			change()
			pause(300*time.Millisecond, 2*time.Second)
			restartMember(i)
		case 1:
			lctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			i, err := c.Leader(lctx)
			cancel()
			if err != nil {
				continue
			}
			c.Kill(i)
			faults["etcd leader kill"]++
			change()
			pause(300*time.Millisecond, 2*time.Second)
			restartMember(i)
		case 2:
			cctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			if resp, err := c.Client().Get(cctx, "compact"); err == nil {
				if _, err := c.Client().Compact(cctx, resp.Header.Revision); err == nil {
					faults["compaction"]++
				}
			}
			cancel()
			change()
		case 3:
			r := set.pick(rng)
			r.Kill()
			faults["replica kill"]++
			change()
			pause(200*time.Millisecond, time.Second)
			set.checkCrash(r)
			if err := r.Start(30 * time.Second); err != nil {
				t.Fatal(err)
			}
		case 4:
			r := set.pick(rng)
			r.Signal(syscall.SIGSTOP)
			faults["replica SIGSTOP"]++
			change()
			pause(200*time.Millisecond, 800*time.Millisecond)
			r.Signal(syscall.SIGCONT)
		case 5:
			i := rng.IntN(len(c.Members))
			p := c.Members[i].Proc()
			p.Signal(syscall.SIGSTOP)
			faults["etcd member SIGSTOP"]++
			change()
			pause(300*time.Millisecond, 1500*time.Millisecond)
			p.Signal(syscall.SIGCONT)
			if err := c.WaitHealthy(30 * time.Second); err != nil {
				t.Fatal(err)
			}
		default:
			change()
			change()
		}
		pause(200*time.Millisecond, time.Second)
	}

	// The last change; then every client must converge within 2 s.
	change()
	last := st.at
	final := st.clone()
	<-time.After(staleness + time.Second) // observe the clients after the bound
	stopClients()
	wg.Wait()

	var violations []string
	converged := map[int]time.Duration{}
	counts := map[string]int{}
	for _, r := range recs {
		kind := "read"
		if r.write {
			kind = "write"
		}
		counts[kind]++
		if r.alias == "" {
			counts[kind+" failed"]++
		}
		if v := tl.violation(r); v != "" {
			violations = append(violations, v)
		}
		ok := r.alias != "" && ((r.write && r.alias == chaosPrimaries[final.primary]) || (!r.write && final.readable(r.alias)))
		if !r.write && r.alias == "" && !slices.ContainsFunc(chaosReplicas, final.readable) {
			ok = true // no replica may serve: UNAVAILABLE is the right answer
		}
		if r.at.After(last) && !ok {
			converged[r.client] = max(converged[r.client], r.at.Sub(last))
		}
	}
	var crashes []string
	for i, m := range c.Members {
		if crashed, how := c.Members[i].Proc().Crashed(); crashed {
			crashes = append(crashes, m.Name+": "+how)
		}
	}
	crashes = append(append(crashes, etcdCrashes...), set.crashed...)
	for _, r := range set.rs {
		set.checkCrash(r)
		select {
		case <-r.Proc().Exited():
			crashes = append(crashes, r.Name+" exited")
		default:
		}
	}
	worst := time.Duration(0)
	for _, d := range converged {
		worst = max(worst, d)
	}

	var b strings.Builder
	fmt.Fprintf(&b, "chaos run: %v, %d etcd members, %d replicas, %d clients\n", *chaosDuration, len(c.Members), len(set.rs), nClients)
	for _, k := range slices.Sorted(maps.Keys(faults)) {
		fmt.Fprintf(&b, "  fault %-18s %5d\n", k, faults[k])
	}
	for _, k := range slices.Sorted(maps.Keys(counts)) {
		fmt.Fprintf(&b, "  rpc   %-18s %5d\n", k, counts[k])
	}
	fmt.Fprintf(&b, "  check %-18s %5d\n", "fence/schema viol.", len(violations))
	fmt.Fprintf(&b, "  check %-18s %5v (worst client after the last change)\n", "convergence", worst.Round(time.Millisecond))
	fmt.Fprintf(&b, "  check %-18s %5d\n", "NACKs", len(nacks))
	fmt.Fprintf(&b, "  check %-18s %5d\n", "crashes", len(crashes))
	t.Log("\n" + b.String())

	for i, v := range violations {
		if i == 10 {
			t.Errorf("... and %d more violations", len(violations)-10)
			break
		}
		t.Error(v)
	}
	if worst > staleness {
		t.Errorf("a client took %v to converge to the final topology after the last change, want <= %v", worst, staleness)
	}
	for k, v := range nacks {
		t.Errorf("NACK on %s: %s", k, v)
	}
	for _, cr := range crashes {
		t.Errorf("crash: %s", cr)
	}
}
