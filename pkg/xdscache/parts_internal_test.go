package xdscache

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/shardmesh/shardmesh/pkg/topology"
	"github.com/shardmesh/shardmesh/pkg/translate"
	"github.com/shardmesh/shardmesh/pkg/weights"
)

// TestPatchedSnapshotsMatchFreshBuilds: over random changes (tablets
// flipping, appearing and leaving, keyspaces coming and going), the
// snapshot a long-lived translator assembles from reused parts equals a
// fresh translator's, name lookups through its parts find every resource,
// and the names it reports as changed are exactly those whose content
// differs from the previous xdscache.
func TestPatchedSnapshotsMatchFreshBuilds(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	b := topology.NewBuilder()
	put := func(key, value string) {
		t.Helper()
		if err := b.Put(key, []byte(value)); err != nil {
			t.Fatal(err)
		}
	}
	put("cells/zone1", `{"region":"r1","zone":"z1"}`)
	put("cells/zone2", `{"region":"r2","zone":"z2"}`)
	put("keyspaces/ks0", `{"mysql_port_base":16000}`) // Envoy groups get its MySQL listeners too
	keyspaces := []string{"ks0", "ks1", "ks2", "ks3"}
	shards := []string{"-80", "80-"}
	tablet := func(id int) string { return fmt.Sprintf("zone%d-%010d", 1+id%2, id) }
	record := func(id int, state string) string {
		typ := []string{"primary", "replica", "rdonly"}[id%3]
		return fmt.Sprintf(`{"keyspace":%q,"shard":%q,"type":%q,"hostname":"10.0.0.%d","port_map":{"grpc":15000,"mysql":3306},"state":%q,"primary_term_start":"2026-11-20T10:00:00Z"}`,
			keyspaces[id/12%len(keyspaces)], shards[id/3%2], typ, id, state)
	}
	for id := range 48 {
		put("tablets/"+tablet(id), record(id, "SERVING"))
	}
	groups := []translate.Group{
		{Region: "r1", Zone: "z1", Kind: weights.KindGRPC},
		{Region: "r2", Zone: "z2", Kind: weights.KindEnvoy},
	}
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	var patched Translator
	prev := map[string]Snapshot{}
	for step := range 60 {
		switch id := rng.IntN(60); {
		case id < 48 && rng.IntN(3) == 0:
			b.Delete("tablets/" + tablet(id))
		case id < 48:
			put("tablets/"+tablet(id), record(id, []string{"SERVING", "NOT_SERVING"}[rng.IntN(2)]))
		default: // a keyspace leaves or comes back whole
			ks, leave := rng.IntN(len(keyspaces)), rng.IntN(2) == 0
			for id := ks * 12; id < ks*12+12; id++ {
				if leave {
					b.Delete("tablets/" + tablet(id))
				} else {
					put("tablets/"+tablet(id), record(id, "SERVING"))
				}
			}
		}
		topo := b.Build(int64(step + 1))
		for _, g := range groups {
			gs, changed, err := patched.build(topo, g, now)
			if err != nil {
				t.Fatal(err)
			}
			got := Snapshot{gs}
			var fresh Translator
			want, err := fresh.Build(topo, g, now)
			if err != nil {
				t.Fatal(err)
			}
			for _, u := range typeURLs {
				if diff := cmp.Diff(want.GetVersionMap(u), got.GetVersionMap(u)); diff != "" {
					t.Fatalf("step %d, group %s, %s: patched snapshot differs from a fresh one (-fresh +patched):\n%s", step, g.ID(), u, diff)
				}
				if want.GetVersion(u) != got.GetVersion(u) || len(got.GetResources(u)) != len(want.GetResources(u)) {
					t.Fatalf("step %d, group %s, %s: version or resource count differs", step, g.ID(), u)
				}
				for name, h := range want.GetVersionMap(u) {
					if got := gs.view(u).hash(name); got != h {
						t.Fatalf("step %d, group %s, %s: lookup of %s gives hash %q, want %q", step, g.ID(), u, name, got, h)
					}
				}
				if _, ok := gs.view(u).get("nosuch/0/primary"); ok {
					t.Fatalf("step %d, group %s, %s: lookup of a missing name succeeded", step, g.ID(), u)
				}
				p, seen := prev[g.ID()]
				if !seen || p.GetVersion(u) == got.GetVersion(u) {
					continue
				}
				names, ok := changed[u]
				if !ok {
					t.Fatalf("step %d, group %s, %s: version changed but no names reported", step, g.ID(), u)
				}
				slices.Sort(names)
				if diff := cmp.Diff(differing(p.GetVersionMap(u), got.GetVersionMap(u)), names); diff != "" {
					t.Fatalf("step %d, group %s, %s: reported changes differ from the real ones (-real +reported):\n%s", step, g.ID(), u, diff)
				}
			}
			prev[g.ID()] = got
		}
	}
}

// differing returns the sorted names whose hash differs between two
// version maps, including names in only one.
func differing(a, b map[string]string) []string {
	var out []string
	for n, h := range b {
		if a[n] != h {
			out = append(out, n)
		}
	}
	for n := range a {
		if _, ok := b[n]; !ok {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return out
}
