package ops

import (
	"context"
	"encoding/json"
	"time"

	"github.com/shardmesh/shardmesh/pkg/topology"
)

// DrainCell starts draining a cell's reads at now over window (0: at once).
func (s Store) DrainCell(ctx context.Context, cell string, window time.Duration, reason string, now time.Time) error {
	rec := map[string]string{"started_at": now.UTC().Format(time.RFC3339Nano), "reason": reason}
	if window > 0 {
		rec["window"] = window.String()
	}
	value, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	if _, err := topology.DecodeDrain(cell, value); err != nil {
		return err
	}
	return s.put(ctx, topology.DrainPrefix+cell, value)
}

// UndrainCell ends a drain: the cell's tablets take reads again at once.
func (s Store) UndrainCell(ctx context.Context, cell string) error {
	return s.del(ctx, topology.DrainPrefix+cell)
}

// PreferCell puts a cell first for every client of a keyspace; an empty
// cell removes the preference.
func (s Store) PreferCell(ctx context.Context, keyspace, cell string) error {
	if cell == "" {
		return s.del(ctx, topology.PreferPrefix+keyspace)
	}
	value, err := json.Marshal(map[string]string{"cell": cell})
	if err != nil {
		return err
	}
	if _, err := topology.DecodePrefer(keyspace, value); err != nil {
		return err
	}
	return s.put(ctx, topology.PreferPrefix+keyspace, value)
}
