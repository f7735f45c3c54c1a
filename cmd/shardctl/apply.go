package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"reflect"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/shardmesh/shardmesh/internal/ops"
	"github.com/shardmesh/shardmesh/pkg/topology"
)

// runApply validates a whole topology file first and writes nothing unless
// every record is valid. Records are added or updated, never deleted.
func runApply(ctx context.Context, e env, args []string) error {
	fs := subflags("apply", e.stdout)
	file := fs.String("f", "", "topology file (YAML: cells, keyspaces, tablets, rules)")
	dry := fs.Bool("dry-run", false, "print what would change, write nothing")
	if _, err := parseSub(fs, args); err != nil {
		return err
	}
	if *file == "" {
		return fmt.Errorf("%w: apply: -f FILE is required", errUsage)
	}
	data, err := os.ReadFile(*file)
	if err != nil {
		return err
	}
	recs, err := topology.ParseSeed(data)
	if err != nil {
		return err // one line per invalid record, each naming key and field
	}
	changed := 0
	for _, r := range recs {
		resp, err := e.store.Client.Get(ctx, e.store.Prefix+r.Key)
		if err != nil {
			return fmt.Errorf("get %s: %w", r.Key, err)
		}
		switch {
		case len(resp.Kvs) == 0:
			fmt.Fprintf(e.stdout, "+ %s\n", r.Key)
		case !sameJSON(resp.Kvs[0].Value, r.Value):
			fmt.Fprintf(e.stdout, "~ %s\n", r.Key)
		default:
			continue
		}
		changed++
	}
	fmt.Fprintf(e.stdout, "%d of %d records to change\n", changed, len(recs))
	if *dry || changed == 0 {
		return nil
	}
	return writeRecords(ctx, e.store.Client, e.store.Prefix, recs)
}

func writeRecords(ctx context.Context, cli *clientv3.Client, prefix string, recs []topology.Record) error {
	return ops.ApplyRecords(ctx, cli, prefix, recs)
}

// sameJSON compares two JSON values, ignoring formatting and key order.
func sameJSON(a, b []byte) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}
