package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/shardmesh/shardmesh/internal/ops"
	"github.com/shardmesh/shardmesh/pkg/topology"
)

// runTablet changes fields of a tablet record: read, change, validate with
// the control plane's own decoder, write if nobody changed it meanwhile.
func runTablet(ctx context.Context, e env, args []string) error {
	if len(args) == 0 || args[0] != "set" {
		return fmt.Errorf("%w: tablet set ALIAS [--state S] [--lag 12s] ...", errUsage)
	}
	fs := subflags("tablet set", e.stdout)
	state := fs.String("state", "", "SERVING, NOT_SERVING or DRAINING")
	lag := fs.Duration("lag", -1, "replication lag, e.g. 12s")
	schema := fs.String("schema-version", "", "schema version")
	health := fs.String("health-error", "", "health error (\"-\" clears it)")
	typ := fs.String("type", "", "tablet type")
	weight := fs.Int("weight", 0, "relative capacity, 1..10000")
	pos, err := parseSub(fs, args[1:])
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return fmt.Errorf("%w: tablet set takes one ALIAS", errUsage)
	}
	alias, key := pos[0], e.store.Prefix+topology.TabletsPrefix+pos[0]
	resp, err := e.store.Client.Get(ctx, key)
	if err != nil {
		return err
	}
	if len(resp.Kvs) == 0 {
		return fmt.Errorf("tablet %s: %w", alias, ops.ErrNotFound)
	}
	var rec map[string]any
	if err := json.Unmarshal(resp.Kvs[0].Value, &rec); err != nil {
		return fmt.Errorf("tablet %s: stored record is not JSON: %w", alias, err)
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if len(set) == 0 {
		return fmt.Errorf("%w: tablet set: no field to change", errUsage)
	}
	if set["state"] {
		rec["state"] = *state
	}
	if set["lag"] {
		rec["replication_lag_seconds"] = lag.Seconds()
	}
	if set["schema-version"] {
		rec["schema_version"] = *schema
	}
	if set["health-error"] {
		rec["health_error"] = *health
		if *health == "-" {
			rec["health_error"] = ""
		}
	}
	if set["type"] {
		rec["type"] = *typ
	}
	if set["weight"] {
		rec["weight"] = *weight
	}
	value, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	if _, err := topology.DecodeTablet(alias, value); err != nil {
		return err
	}
	txn, err := e.store.Client.Txn(ctx).
		If(clientv3.Compare(clientv3.ModRevision(key), "=", resp.Kvs[0].ModRevision)).
		Then(clientv3.OpPut(key, string(value))).Commit()
	if err != nil {
		return err
	}
	if !txn.Succeeded {
		return fmt.Errorf("tablet %s: %w", alias, ops.ErrConflict)
	}
	fmt.Fprintf(e.stdout, "tablet %s updated\n", alias)
	return nil
}
