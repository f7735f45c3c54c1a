package ops

import (
	"context"
	"fmt"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/shardmesh/shardmesh/pkg/topology"
)

// MaxTxnOps is etcd's default limit of operations in one transaction
// (--max-txn-ops); ApplyRecords never puts more than this in one.
const MaxTxnOps = 128

// ApplyRecords puts every record under prefix (the key is prefix+Key), in
// order, in transactions of at most MaxTxnOps puts. It does not delete keys
// that recs leave out. Each transaction is atomic but the whole is not: on
// error (including ctx cancellation) the transactions already committed
// stay, and the error names the first key of the one that failed. recs is
// only read.
func ApplyRecords(ctx context.Context, cli *clientv3.Client, prefix string, recs []topology.Record) error {
	for start := 0; start < len(recs); start += MaxTxnOps {
		chunk := recs[start:min(start+MaxTxnOps, len(recs))]
		ops := make([]clientv3.Op, len(chunk))
		for i, r := range chunk {
			ops[i] = clientv3.OpPut(prefix+r.Key, string(r.Value))
		}
		if _, err := cli.Txn(ctx).Then(ops...).Commit(); err != nil {
			return fmt.Errorf("put records %s%s.. (%d of %d): %w", prefix, chunk[0].Key, len(chunk), len(recs), err)
		}
	}
	return nil
}
