package ops

import (
	"context"
	"fmt"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/shardmesh/shardmesh/pkg/topology"
)

func TestApplyRecordsChunks(t *testing.T) {
	cli := newStore(t).Client
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()

	const n = 2*MaxTxnOps + 3 // three transactions, the last one short
	recs := make([]topology.Record, n)
	for i := range recs {
		recs[i] = topology.Record{Key: fmt.Sprintf("tablets/zone1-%010d", i), Value: []byte(fmt.Sprintf(`{"n":%d}`, i))}
	}
	before, err := cli.Get(ctx, "/x")
	if err != nil {
		t.Fatal(err)
	}
	if err := ApplyRecords(ctx, cli, "/records/", recs); err != nil {
		t.Fatal(err)
	}
	get, err := cli.Get(ctx, "/records/", clientv3.WithPrefix())
	if err != nil {
		t.Fatal(err)
	}
	if len(get.Kvs) != n {
		t.Fatalf("got %d keys, want %d", len(get.Kvs), n)
	}
	for i, kv := range get.Kvs {
		if want := "/records/" + recs[i].Key; string(kv.Key) != want || string(kv.Value) != string(recs[i].Value) {
			t.Fatalf("key %d = %s=%s, want %s=%s", i, kv.Key, kv.Value, want, recs[i].Value)
		}
	}
	// One revision per transaction.
	if got, want := get.Header.Revision-before.Header.Revision, int64(3); got != want {
		t.Errorf("ApplyRecords used %d revisions, want %d transactions", got, want)
	}

	if err := ApplyRecords(ctx, cli, "/records/", nil); err != nil {
		t.Errorf("no records: %v", err)
	}
	cancelled, cancel2 := context.WithCancel(ctx)
	cancel2()
	if err := ApplyRecords(cancelled, cli, "/records/", recs); err == nil {
		t.Error("cancelled context: want an error")
	}
}
