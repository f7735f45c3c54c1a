package xdscache_test

import (
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/shardmesh/shardmesh/pkg/topology"
	"github.com/shardmesh/shardmesh/pkg/translate"
	"github.com/shardmesh/shardmesh/pkg/weights"
	"github.com/shardmesh/shardmesh/pkg/xdscache"
)

// memoGroups are the groups the memo tests build: both kinds, two
// localities, and a client with no locality.
var memoGroups = with(standardGroups, "grpc-no-locality", translate.Group{Kind: weights.KindGRPC})

// buildAll builds every group's snapshot and ends the translator's
// generation, as the Cache does after a topology change.
func buildAll(t *testing.T, tr *xdscache.Translator, topo *topology.Topology) map[string]xdscache.Snapshot {
	t.Helper()
	out := map[string]xdscache.Snapshot{}
	for name, g := range memoGroups {
		snap, err := tr.Build(topo, g, goldenNow)
		if err != nil {
			t.Fatalf("group %s: %v", name, err)
		}
		out[name] = snap
	}
	tr.Sweep()
	return out
}

// TestTranslatorRetranslatesOnlyTheChangedShard changes one tablet of one
// shard: only that shard's assignments are translated again (one per class
// and group), and every other resource of every group is the very same
// value as before.
func TestTranslatorRetranslatesOnlyTheChangedShard(t *testing.T) {
	b := loadSeed(t, "healthy-baseline")
	var tr xdscache.Translator
	before := buildAll(t, &tr, b.Build(1))
	if s := tr.TakeStats(); s.Assignments == 0 || s.Clusters == 0 || s.Routes == 0 || s.Listeners == 0 {
		t.Fatalf("first build translated %+v, want every type", s)
	}

	// Nothing changed: nothing is translated.
	same := buildAll(t, &tr, b.Build(2))
	if s := tr.TakeStats(); s != (xdscache.Stats{}) {
		t.Errorf("rebuild of an unchanged topology translated %+v, want nothing", s)
	}
	for group := range before {
		for _, gt := range goldenTypes {
			if v, w := same[group].GetVersion(gt.typeURL), before[group].GetVersion(gt.typeURL); v != w {
				t.Errorf("group %s: unchanged topology changed the %s version from %s to %s", group, gt.name, w, v)
			}
		}
	}

	// zone2-0000000201 (commerce/-80 replica) stops serving.
	if err := b.Put("tablets/zone2-0000000201", []byte(`{"keyspace":"commerce","shard":"-80","type":"replica","cell":"zone2",
		"hostname":"10.0.2.201","port_map":{"grpc":15991,"mysql":3306},"state":"NOT_SERVING","replication":"semi-sync",
		"replication_lag_seconds":0.3,"schema_version":"v42"}`)); err != nil {
		t.Fatal(err)
	}
	after := buildAll(t, &tr, b.Build(3))
	want := xdscache.Stats{Assignments: len(weights.Classes) * len(memoGroups)}
	if s := tr.TakeStats(); s != want {
		t.Errorf("one changed tablet translated %+v, want %+v", s, want)
	}

	const changedShard = "commerce/-80/"
	for group := range memoGroups {
		for _, gt := range goldenTypes {
			old, cur := before[group].GetResources(gt.typeURL), after[group].GetResources(gt.typeURL)
			if !slices.Equal(slices.Sorted(maps.Keys(old)), slices.Sorted(maps.Keys(cur))) {
				t.Errorf("group %s: %s names changed", group, gt.name)
			}
			for name, res := range cur {
				if gt.name == "endpoints" && strings.HasPrefix(name, changedShard) {
					continue
				}
				if res != old[name] {
					t.Errorf("group %s: %s %s was translated again or copied; want the same value", group, gt.name, name)
				}
			}
		}
		// The replica assignment changed, so its version and the
		// endpoint type's version did; other types kept theirs.
		oldV := before[group].GetVersionMap(goldenTypes[1].typeURL)
		newV := after[group].GetVersionMap(goldenTypes[1].typeURL)
		if oldV[changedShard+"replica"] == newV[changedShard+"replica"] {
			t.Errorf("group %s: version of %sreplica did not change", group, changedShard)
		}
		if oldV["commerce/80-/replica"] != newV["commerce/80-/replica"] {
			t.Errorf("group %s: version of commerce/80-/replica changed", group)
		}
		for _, gt := range goldenTypes {
			changed := before[group].GetVersion(gt.typeURL) != after[group].GetVersion(gt.typeURL)
			if changed != (gt.name == "endpoints") {
				t.Errorf("group %s: %s version changed: %v, want %v", group, gt.name, changed, gt.name == "endpoints")
			}
		}
	}
}

// TestReplicasAgreeOnVersions: two control plane replicas reading the same
// revision (records in a different order, their own Translator, Builder
// and history) serve the same resources under the same versions.
func TestReplicasAgreeOnVersions(t *testing.T) {
	// Replica A reads the revision directly.
	a := loadSeed(t, "healthy-baseline")
	var trA xdscache.Translator
	snapsA := buildAll(t, &trA, a.Build(7))

	// Replica B had an older state first (a different primary term), then
	// a full re-list in reverse order.
	b := loadSeed(t, "healthy-baseline")
	var trB xdscache.Translator
	if err := b.Put("tablets/zone1-0000000101", []byte(`{"keyspace":"commerce","shard":"-80","type":"primary","hostname":"10.0.1.101",
		"port_map":{"grpc":15991},"state":"NOT_SERVING"}`)); err != nil {
		t.Fatal(err)
	}
	buildAll(t, &trB, b.Build(6))
	b.Reset()
	recs := seedRecords(t, "healthy-baseline")
	slices.Reverse(recs)
	for _, r := range recs {
		if err := b.Put(r.Key, r.Value); err != nil {
			t.Fatal(err)
		}
	}
	snapsB := buildAll(t, &trB, b.Build(7))

	for group := range memoGroups {
		for _, gt := range goldenTypes {
			va, vb := snapsA[group].GetVersion(gt.typeURL), snapsB[group].GetVersion(gt.typeURL)
			if va == "" || va != vb {
				t.Errorf("group %s: %s versions %q and %q, want equal and set", group, gt.name, va, vb)
			}
			if diff := cmp.Diff(snapsA[group].GetVersionMap(gt.typeURL), snapsB[group].GetVersionMap(gt.typeURL)); diff != "" {
				t.Errorf("group %s: %s resource versions differ (-A +B):\n%s", group, gt.name, diff)
			}
		}
	}
}
