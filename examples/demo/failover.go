package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/shardmesh/shardmesh/pkg/weights"
)

// writeLog is what clients saw of writes: when each tablet first and last
// acknowledged one, and the slowest write (one the route's retries held
// through a failover).
type writeLog struct {
	mu      sync.Mutex // guards the fields below
	first   map[string]time.Time
	last    map[string]time.Time
	slowest time.Duration
	errors  int
	lastErr error
}

// failed records a write that failed.
func (w *writeLog) failed(err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.errors++
	w.lastErr = err
}

// failures returns how many writes failed and the last error.
func (w *writeLog) failures() (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.errors, w.lastErr
}

func newWriteLog() *writeLog {
	return &writeLog{first: map[string]time.Time{}, last: map[string]time.Time{}}
}

// served records a write acknowledged by a tablet at done after took.
func (w *writeLog) served(tablet string, done time.Time, took time.Duration) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if _, ok := w.first[tablet]; !ok {
		w.first[tablet] = done
	}
	w.last[tablet] = done
	w.slowest = max(w.slowest, took)
}

// window is the write-unavailability window of a failover from one primary
// to another: from the last write the old one acknowledged to the first the
// new one did; ok is false until both happened.
func (w *writeLog) window(from, to string) (gap time.Duration, slowest time.Duration, ok bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	last, ok1 := w.last[from]
	first, ok2 := w.first[to]
	return first.Sub(last), w.slowest, ok1 && ok2 && first.After(last)
}

// azRank asks the control plane's admin API which replica a reparent of
// the shard should promote (shardctl az-rank; /debug/azrank).
func azRank(ctx context.Context, admin, shard string) (weights.AZRanking, error) {
	var r weights.AZRanking
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+admin+"/debug/azrank?shard="+shard, nil)
	if err != nil {
		return r, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return r, fmt.Errorf("az-rank %s: %w", shard, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return r, fmt.Errorf("az-rank %s: %s", shard, resp.Status)
	}
	var body struct {
		Candidate string `json:"candidate"`
		Advice    string `json:"advice"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return r, fmt.Errorf("az-rank %s: %w", shard, err)
	}
	if body.Candidate == "" {
		return r, fmt.Errorf("az-rank %s names no candidate: %s", shard, body.Advice)
	}
	r.Candidate, r.Advice = body.Candidate, body.Advice
	return r, nil
}

// promote makes a replica the shard's primary with a term starting now, as
// a reparent does.
func promote(ctx context.Context, cli *clientv3.Client, tablets map[string]*tablet, alias string) error {
	t, ok := tablets[alias]
	if !ok {
		return fmt.Errorf("promote %s: no such tablet", alias)
	}
	return t.write(ctx, cli, map[string]any{"type": "primary", "primary_term_start": time.Now().UTC().Format(time.RFC3339Nano)})
}
