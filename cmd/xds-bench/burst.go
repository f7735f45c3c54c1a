package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// measureBurst writes burst changes within cfg.burstWindow and records
// how many responses each client got until every change was seen.
func measureBurst(ctx context.Context, cfg config, cli *clientv3.Client, clients []*adsClient, byKeyspace map[int][]*adsClient, ph *phase, burst int, rng *rand.Rand) error {
	f := cfg.fleet
	before := map[*adsClient]int{}
	for _, c := range clients {
		r, _, _ := c.counters()
		before[c] = r
	}
	type pending struct {
		key     watchKey
		clients []*adsClient
	}
	var waits []pending
	done := map[string]bool{}
	for len(waits) < burst {
		k, s, t := rng.IntN(f.keyspaces), rng.IntN(f.shards), 1+rng.IntN(9)
		alias := f.alias(k, s, t)
		if done[alias] {
			continue
		}
		done[alias] = true
		key := watchKey{cluster: f.keyspace(k) + "/" + shardName(s, f.shards) + "/replica", alias: alias}
		for _, c := range byKeyspace[k] {
			c.expect(key, corev3.HealthStatus_UNHEALTHY)
		}
		waits = append(waits, pending{key, byKeyspace[k]})
	}
	t0 := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, 1)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i, w := range waits {
			k, s, t := parseAlias(f, w.key.alias)
			rec, _ := json.Marshal(f.tablet(k, s, t, "NOT_SERVING"))
			if _, err := cli.Put(ctx, "/shardmesh/tablets/"+w.key.alias, string(rec)); err != nil {
				select {
				case errs <- err:
				default:
				}
				return
			}
			if due := t0.Add(cfg.burstWindow * time.Duration(i+1) / time.Duration(len(waits))); time.Until(due) > 0 {
				time.Sleep(time.Until(due)) // pacing the writes across the window
			}
		}
	}()
	wg.Wait()
	ph.BurstWritten = time.Since(t0).Seconds()
	select {
	case err := <-errs:
		return err
	default:
	}
	deadline := time.Now().Add(60 * time.Second)
	for _, w := range waits {
		for _, c := range w.clients {
			for _, seen := c.seenAt(w.key); !seen; _, seen = c.seenAt(w.key) {
				if time.Now().After(deadline) {
					return fmt.Errorf("burst: %v never saw %v", c, w.key)
				}
				time.Sleep(time.Millisecond)
			}
		}
	}
	ph.BurstConverged = time.Since(t0).Seconds()
	total := 0
	for _, c := range clients {
		r, _, _ := c.counters()
		total += r - before[c]
	}
	ph.BurstPushes = float64(total) / float64(len(clients))
	return nil
}

func parseAlias(f fleet, alias string) (k, s, t int) {
	var cell, uid int
	fmt.Sscanf(alias, "z%d-%d", &cell, &uid)
	per := f.tabletsPerShard()
	t = uid % per
	ks := uid / per
	return ks / f.shards, ks % f.shards, t
}

// waitWatch returns when the next watch event arrives.
func waitWatch(ctx context.Context, w clientv3.WatchChan) time.Time {
	select {
	case <-w:
	case <-ctx.Done():
	}
	return time.Now()
}
