package metrics

import (
	"fmt"
	"testing"

	"github.com/shardmesh/shardmesh/pkg/topology"
)

// tabletSeries returns shardmesh_tablets by "keyspace/type/cell/state".
func tabletSeries(t *testing.T, m *Metrics) map[string]float64 {
	t.Helper()
	mfs, err := m.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		if mf.GetName() != "shardmesh_tablets" {
			continue
		}
		for _, s := range mf.GetMetric() {
			l := map[string]string{}
			for _, p := range s.GetLabel() {
				l[p.GetName()] = p.GetValue()
			}
			out[l["keyspace"]+"/"+l["type"]+"/"+l["cell"]+"/"+l["state"]] = s.GetGauge().GetValue()
		}
	}
	return out
}

// TestTabletGaugesFollowChanges: the tablet counts follow state changes,
// removed tablets and removed shards, and series that reach zero go away.
func TestTabletGaugesFollowChanges(t *testing.T) {
	b := topology.NewBuilder()
	put := func(alias, shard, typ, state string) {
		t.Helper()
		rec := fmt.Sprintf(`{"keyspace":"ks","shard":%q,"type":%q,"hostname":"h","port_map":{"grpc":1},"state":%q}`, shard, typ, state)
		if err := b.Put("tablets/"+alias, []byte(rec)); err != nil {
			t.Fatal(err)
		}
	}
	put("zone1-0000000001", "-80", "replica", "SERVING")
	put("zone1-0000000002", "-80", "replica", "SERVING")
	put("zone1-0000000003", "80-", "replica", "SERVING")
	m := New(nil)
	m.OnTopology(b.Build(1))
	want := map[string]float64{"ks/replica/zone1/SERVING": 3}
	if got := tabletSeries(t, m); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("got %v, want %v", got, want)
	}

	put("zone1-0000000002", "-80", "replica", "NOT_SERVING")
	b.Delete("tablets/zone1-0000000003") // the shard 80- goes with it
	m.OnTopology(b.Build(2))
	want = map[string]float64{"ks/replica/zone1/SERVING": 1, "ks/replica/zone1/NOT_SERVING": 1}
	if got := tabletSeries(t, m); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("after a state change and a removed shard, got %v, want %v", got, want)
	}

	put("zone1-0000000002", "-80", "replica", "SERVING")
	m.OnTopology(b.Build(3))
	want = map[string]float64{"ks/replica/zone1/SERVING": 2}
	if got := tabletSeries(t, m); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("after recovery, got %v, want %v (the NOT_SERVING series must go)", got, want)
	}
}
