package vitesstopo

import (
	"bytes"
	"fmt"
	"maps"
	"math/rand/v2"
	"testing"
	"time"

	querypb "vitess.io/vitess/go/vt/proto/query"
	topodatapb "vitess.io/vitess/go/vt/proto/topodata"
	vttimepb "vitess.io/vitess/go/vt/proto/vttime"

	"github.com/shardmesh/shardmesh/pkg/topology"
	"github.com/shardmesh/shardmesh/pkg/vitesshealth"
)

// The memoised mapping equals a fresh one after every random change of
// every input a tablet's record depends on: its record, its health, its
// shard's record and its keyspace's record.
func TestMemoMatchesFreshMapping(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	s := New(Config{}, nil)
	v := view{
		cells: map[string]*topodatapb.CellInfo{"zone1": {Root: "/vitess/zone1"}}, aliases: map[string]*topodatapb.CellsAlias{},
		keyspaces: map[string]*topodatapb.Keyspace{}, shards: map[topology.ShardKey]*topodatapb.Shard{},
		tablets: map[string]*topodatapb.Tablet{},
	}
	types := []topodatapb.TabletType{topodatapb.TabletType_PRIMARY, topodatapb.TabletType_REPLICA, topodatapb.TabletType_RDONLY, topodatapb.TabletType_SPARE}
	shards := []string{"-80", "80-"}
	term := func() *vttimepb.Time { return &vttimepb.Time{Seconds: 1_800_000_000 + rng.Int64N(100)} }
	alias := func(uid uint32) *topodatapb.TabletAlias { return &topodatapb.TabletAlias{Cell: "zone1", Uid: uid} }
	for i := range 3000 {
		uid := 100 + uint32(rng.IntN(6))
		a := aliasString(alias(uid))
		shard := shards[rng.IntN(len(shards))]
		switch rng.IntN(7) {
		case 0, 1:
			v.tablets[a] = &topodatapb.Tablet{Alias: alias(uid), Keyspace: "ks", Shard: shard, Type: types[rng.IntN(len(types))],
				Hostname: "10.0.0.1", PortMap: map[string]int32{"grpc": 15991}, PrimaryTermStartTime: term(),
				Tags: map[string]string{TagSchemaVersion: fmt.Sprint("v", rng.IntN(3))}}
		case 2:
			delete(v.tablets, a)
		case 3:
			v.shards[topology.ShardKey{Keyspace: "ks", Shard: shard}] = &topodatapb.Shard{PrimaryAlias: alias(uid), PrimaryTermStartTime: term()}
		case 4:
			v.keyspaces["ks"] = &topodatapb.Keyspace{DurabilityPolicy: []string{"semi_sync", "none", ""}[rng.IntN(3)]}
		case 5:
			s.health[a] = vitesshealth.Status{Connected: true, ServingSince: time.Unix(rng.Int64N(3), 0), Response: &querypb.StreamHealthResponse{
				Target:  &querypb.Target{Keyspace: "ks", Shard: shard, TabletType: types[rng.IntN(len(types))]},
				Serving: rng.IntN(2) == 0, PrimaryTermStartTimestamp: term().Seconds,
				RealtimeStats: &querypb.RealtimeStats{ReplicationLagSeconds: uint32(rng.IntN(40))},
			}}
		case 6:
			s.health[a] = vitesshealth.Status{Err: fmt.Sprint("down ", rng.IntN(2))}
		}
		got := s.mapLocked(v)
		fresh := New(Config{}, nil)
		fresh.health = maps.Clone(s.health)
		want := fresh.mapLocked(v)
		if len(got) != len(want) {
			t.Fatalf("change %d: memoised mapping has %d records, fresh %d", i, len(got), len(want))
		}
		for k, w := range want {
			if !bytes.Equal(got[k], w) {
				t.Fatalf("change %d: %s memoised\n%s\nfresh\n%s", i, k, got[k], w)
			}
		}
	}
}
