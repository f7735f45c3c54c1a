package topology_test

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/shardmesh/shardmesh/pkg/topology"
)

// op is one change to a Builder: a put, or a delete when del is set.
type op struct {
	key, val string
	del      bool
}

func put(key, val string) op { return op{key: key, val: val} }
func del(key string) op      { return op{key: key, del: true} }

// tabletKey returns the key of a tablet alias.
func tabletKey(alias string) string { return topology.TabletsPrefix + alias }

// tabletVal is a valid tablet record; extra are more JSON fields.
func tabletVal(keyspace, shard, typ string, extra ...string) string {
	fields := append([]string{
		fmt.Sprintf(`"keyspace":%q,"shard":%q,"type":%q,"hostname":"10.0.0.1","port_map":{"grpc":15991},"state":"SERVING"`, keyspace, shard, typ),
	}, extra...)
	return "{" + strings.Join(fields, ",") + "}"
}

func lagField(seconds float64) string { return fmt.Sprintf(`"replication_lag_seconds":%v`, seconds) }

const (
	cellZone1 = `{"region":"us-east-1","zone":"us-east-1a"}`
	cellZone2 = `{"region":"us-east-1","zone":"us-east-1b"}`
	badTablet = `{"keyspace":"commerce","shard":"-80","type":"replica","hostname":"10.0.0.1","port_map":{"grpc":70000},"state":"SERVING"}`
)

// apply applies ops to b; puts must succeed unless their value is one of
// the invalid records of the test.
func apply(t *testing.T, b *topology.Builder, ops []op) {
	t.Helper()
	for _, o := range ops {
		if o.del {
			b.Delete(o.key)
			continue
		}
		_ = b.Put(o.key, []byte(o.val)) // errors are checked through Problems
	}
}

// shardAliases renders a topology's shards as "keyspace/shard" -> aliases.
func shardAliases(topo *topology.Topology) map[string][]string {
	out := map[string][]string{}
	for k, s := range topo.Shards {
		if s.Keyspace != k.Keyspace || s.Name != k.Shard {
			out[k.String()] = []string{fmt.Sprintf("shard under the wrong key: %s/%s", s.Keyspace, s.Name)}
			continue
		}
		aliases := []string{}
		for _, t := range s.Tablets {
			aliases = append(aliases, t.Alias)
		}
		out[k.String()] = aliases
	}
	return out
}

// problemKeys renders Problems as "key: error".
func problemKeys(topo *topology.Topology) []string {
	var out []string
	for _, p := range topo.Problems {
		out = append(out, p.Key+": "+p.Err.Error())
	}
	return out
}

func TestBuilder(t *testing.T) {
	a1, a2, a3 := "zone1-0000000101", "zone1-0000000102", "zone2-0000000201"
	tests := map[string]struct {
		ops          []op
		wantShards   map[string][]string
		wantProblems []string
		check        func(t *testing.T, topo *topology.Topology)
	}{
		"empty": {
			wantShards: map[string][]string{},
		},
		"tablets grouped by shard, sorted by alias": {
			ops: []op{
				put(tabletKey(a3), tabletVal("commerce", "-80", "replica")),
				put(tabletKey(a1), tabletVal("commerce", "-80", "primary")),
				put(tabletKey(a2), tabletVal("commerce", "80-", "primary")),
			},
			wantShards: map[string][]string{"commerce/-80": {a1, a3}, "commerce/80-": {a2}},
		},
		"shard names are lower-cased": {
			ops:        []op{put(tabletKey(a1), tabletVal("commerce", "-C0", "primary"))},
			wantShards: map[string][]string{"commerce/-c0": {a1}},
		},
		"delete a tablet": {
			ops: []op{
				put(tabletKey(a1), tabletVal("commerce", "-80", "primary")),
				put(tabletKey(a2), tabletVal("commerce", "-80", "replica")),
				del(tabletKey(a1)),
			},
			wantShards: map[string][]string{"commerce/-80": {a2}},
		},
		"deleting the last tablet removes the shard and its default keyspace": {
			ops: []op{
				put(tabletKey(a1), tabletVal("commerce", "-80", "primary")),
				del(tabletKey(a1)),
			},
			wantShards: map[string][]string{},
			check: func(t *testing.T, topo *topology.Topology) {
				if len(topo.Keyspaces) != 0 || len(topo.ShardsOf("commerce")) != 0 {
					t.Errorf("keyspaces %v, shards %v; want none", topo.KeyspaceNames(), topo.ShardsOf("commerce"))
				}
			},
		},
		"deleting an unknown key is harmless": {
			ops: []op{
				put(tabletKey(a1), tabletVal("commerce", "-80", "primary")),
				del(tabletKey(a2)), del("cells/nowhere"), del("keyspaces/none"), del("unknown/key"),
			},
			wantShards: map[string][]string{"commerce/-80": {a1}},
		},
		"invalid tablet is a problem and the other tablets stay": {
			ops: []op{
				put(tabletKey(a1), tabletVal("commerce", "-80", "primary")),
				put(tabletKey(a2), badTablet),
			},
			wantShards:   map[string][]string{"commerce/-80": {a1}},
			wantProblems: []string{"tablets/zone1-0000000102: tablet zone1-0000000102: port_map.grpc: 70000 out of range"},
		},
		"invalid value of a valid tablet takes it out of its shard": {
			ops: []op{
				put(tabletKey(a1), tabletVal("commerce", "-80", "primary")),
				put(tabletKey(a2), tabletVal("commerce", "-80", "replica")),
				put(tabletKey(a2), badTablet),
			},
			wantShards:   map[string][]string{"commerce/-80": {a1}},
			wantProblems: []string{"tablets/zone1-0000000102: tablet zone1-0000000102: port_map.grpc: 70000 out of range"},
		},
		"re-putting a valid value clears the problem": {
			ops: []op{
				put(tabletKey(a2), badTablet),
				put(tabletKey(a2), tabletVal("commerce", "-80", "replica")),
			},
			wantShards: map[string][]string{"commerce/-80": {a2}},
		},
		"deleting a key clears its problem": {
			ops: []op{
				put(tabletKey(a2), badTablet),
				del(tabletKey(a2)),
			},
			wantShards: map[string][]string{},
		},
		"problems sorted by key": {
			ops: []op{
				put(tabletKey(a2), badTablet),
				put("keyspaces/commerce", `{"lag":{"max":"x"}}`),
				put("cells/zone1", `{}`),
				put(topology.RulesKey, `{"rules":[{"from_keyspace":"@x","to_keyspace":"y"}]}`),
			},
			wantShards: map[string][]string{},
			wantProblems: []string{
				`cells/zone1: cell zone1: region: required`,
				`keyspaces/commerce: keyspace commerce: lag.max: "x" is not a non-negative duration such as 10s`,
				`routing/keyspace_rules: routing/keyspace_rules: rules[0].from_keyspace: "@x" is not <keyspace> or <keyspace>@<tablet type>`,
				`tablets/zone1-0000000102: tablet zone1-0000000102: port_map.grpc: 70000 out of range`,
			},
		},
		"tablet moved between shards leaves the old shard": {
			ops: []op{
				put(tabletKey(a1), tabletVal("commerce", "-80", "primary")),
				put(tabletKey(a2), tabletVal("commerce", "-80", "replica")),
				put(tabletKey(a2), tabletVal("commerce", "80-", "replica")),
			},
			wantShards: map[string][]string{"commerce/-80": {a1}, "commerce/80-": {a2}},
		},
		"tablet moved between keyspaces leaves the old keyspace": {
			ops: []op{
				put(tabletKey(a1), tabletVal("commerce", "0", "primary")),
				put(tabletKey(a1), tabletVal("customer", "0", "primary")),
			},
			wantShards: map[string][]string{"customer/0": {a1}},
			check: func(t *testing.T, topo *topology.Topology) {
				if got := topo.KeyspaceNames(); !slices.Equal(got, []string{"customer"}) {
					t.Errorf("keyspaces %v, want [customer]", got)
				}
			},
		},
		"tablet key and record disagree on the cell": {
			ops: []op{
				put(tabletKey(a1), tabletVal("commerce", "-80", "primary", `"cell":"zone2"`)),
			},
			wantShards:   map[string][]string{},
			wantProblems: []string{`tablets/zone1-0000000101: tablet zone1-0000000101: cell: "zone2" does not match the alias's cell "zone1"`},
		},
		"unknown keys are ignored": {
			ops: []op{
				put("status/s1", `{"anything": true}`),
				put("something/else", `not json`),
			},
			wantShards: map[string][]string{},
		},
		"cells": {
			ops: []op{
				put("cells/zone1", cellZone1),
				put("cells/zone2", cellZone2),
				put("cells/zone3", `{"region":"us-west-2"}`),
				del("cells/zone2"),
			},
			wantShards: map[string][]string{},
			check: func(t *testing.T, topo *topology.Topology) {
				want := map[string]topology.Cell{
					"zone1": {Name: "zone1", Region: "us-east-1", Zone: "us-east-1a"},
					"zone3": {Name: "zone3", Region: "us-west-2", Zone: "zone3"},
				}
				if diff := cmp.Diff(want, topo.Cells); diff != "" {
					t.Errorf("cells (-want +got):\n%s", diff)
				}
				if c, ok := topo.CellOf("zone2"); ok || c != (topology.Cell{Name: "zone2"}) {
					t.Errorf("CellOf(zone2) = %+v, %v; want a cell without locality", c, ok)
				}
			},
		},
		"invalid cell record keeps the previous cell": {
			ops: []op{
				put("cells/zone1", cellZone1),
				put("cells/zone1", `{"zone":"us-east-1c"}`),
			},
			wantShards:   map[string][]string{},
			wantProblems: []string{"cells/zone1: cell zone1: region: required"},
			check: func(t *testing.T, topo *topology.Topology) {
				if c, _ := topo.CellOf("zone1"); c.Zone != "us-east-1a" {
					t.Errorf("zone1 = %+v, want the previous record's zone us-east-1a", c)
				}
			},
		},
		"keyspace with tablets but no policy gets DefaultKeyspace": {
			ops:        []op{put(tabletKey(a1), tabletVal("customer", "0", "primary"))},
			wantShards: map[string][]string{"customer/0": {a1}},
			check: func(t *testing.T, topo *topology.Topology) {
				if diff := cmp.Diff(topology.DefaultKeyspace("customer"), topo.Keyspaces["customer"]); diff != "" {
					t.Errorf("customer policy (-want +got):\n%s", diff)
				}
			},
		},
		"keyspace policy without tablets is listed": {
			ops:        []op{put("keyspaces/commerce", `{"tenant":"acme"}`)},
			wantShards: map[string][]string{},
			check: func(t *testing.T, topo *topology.Topology) {
				if ks := topo.Keyspaces["commerce"]; ks == nil || ks.Tenant != "acme" {
					t.Errorf("commerce policy %+v, want tenant acme", ks)
				}
			},
		},
		"invalid keyspace record keeps the previous valid policy": {
			ops: []op{
				put("keyspaces/commerce", `{"tenant":"acme","lag":{"max":"1m"}}`),
				put(tabletKey(a1), tabletVal("commerce", "-80", "primary")),
				put("keyspaces/commerce", `{"tenant":"other","lag":{"max":"forever"}}`),
			},
			wantShards:   map[string][]string{"commerce/-80": {a1}},
			wantProblems: []string{`keyspaces/commerce: keyspace commerce: lag.max: "forever" is not a non-negative duration such as 10s`},
			check: func(t *testing.T, topo *topology.Topology) {
				if ks := topo.Keyspaces["commerce"]; ks.Tenant != "acme" || ks.Lag.Max != time.Minute {
					t.Errorf("commerce policy tenant %q lag.max %v, want the previous acme, 1m", ks.Tenant, ks.Lag.Max)
				}
			},
		},
		"invalid first keyspace record leaves the defaults": {
			ops: []op{
				put(tabletKey(a1), tabletVal("commerce", "-80", "primary")),
				put("keyspaces/commerce", `{"tenant":"acme","ramp":{"min_weight_percent":0}}`),
			},
			wantShards:   map[string][]string{"commerce/-80": {a1}},
			wantProblems: []string{`keyspaces/commerce: keyspace commerce: ramp.min_weight_percent: 0 out of range 1..100`},
			check: func(t *testing.T, topo *topology.Topology) {
				if diff := cmp.Diff(topology.DefaultKeyspace("commerce"), topo.Keyspaces["commerce"]); diff != "" {
					t.Errorf("commerce policy (-want +got):\n%s", diff)
				}
			},
		},
		"deleting a policy falls back to the defaults": {
			ops: []op{
				put("keyspaces/commerce", `{"tenant":"acme"}`),
				put(tabletKey(a1), tabletVal("commerce", "-80", "primary")),
				del("keyspaces/commerce"),
			},
			wantShards: map[string][]string{"commerce/-80": {a1}},
			check: func(t *testing.T, topo *topology.Topology) {
				if diff := cmp.Diff(topology.DefaultKeyspace("commerce"), topo.Keyspaces["commerce"]); diff != "" {
					t.Errorf("commerce policy (-want +got):\n%s", diff)
				}
			},
		},
		"routing rules put and replaced": {
			ops: []op{
				put(topology.RulesKey, `{"rules":[{"from_keyspace":"a","to_keyspace":"b"}]}`),
				put(topology.RulesKey, `{"rules":[{"from_keyspace":"c@rdonly","to_keyspace":"d"}]}`),
			},
			wantShards: map[string][]string{},
			check: func(t *testing.T, topo *topology.Topology) {
				want := []topology.RoutingRule{{FromKeyspace: "c", TabletType: topology.TypeRdonly, ToKeyspace: "d"}}
				if diff := cmp.Diff(want, topo.Rules); diff != "" {
					t.Errorf("rules (-want +got):\n%s", diff)
				}
			},
		},
		"invalid rules keep the previous rules": {
			ops: []op{
				put(topology.RulesKey, `{"rules":[{"from_keyspace":"a","to_keyspace":"b"}]}`),
				put(topology.RulesKey, `{"rules":[{"from_keyspace":"a","to_keyspace":"b"},{"from_keyspace":"a","to_keyspace":"c"}]}`),
			},
			wantShards:   map[string][]string{},
			wantProblems: []string{`routing/keyspace_rules: routing/keyspace_rules: rules[1].from_keyspace: "a" has more than one rule`},
			check: func(t *testing.T, topo *topology.Topology) {
				want := []topology.RoutingRule{{FromKeyspace: "a", ToKeyspace: "b"}}
				if diff := cmp.Diff(want, topo.Rules); diff != "" {
					t.Errorf("rules (-want +got):\n%s", diff)
				}
			},
		},
		"deleting the rules": {
			ops: []op{
				put(topology.RulesKey, `{"rules":[{"from_keyspace":"a","to_keyspace":"b"}]}`),
				del(topology.RulesKey),
			},
			wantShards: map[string][]string{},
			check: func(t *testing.T, topo *topology.Topology) {
				if len(topo.Rules) != 0 {
					t.Errorf("rules %+v, want none", topo.Rules)
				}
			},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			b := topology.NewBuilder()
			apply(t, b, tc.ops)
			topo := b.Build(42)
			if topo.Revision != 42 {
				t.Errorf("Revision = %d, want 42", topo.Revision)
			}
			if diff := cmp.Diff(tc.wantShards, shardAliases(topo)); diff != "" {
				t.Errorf("shards (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantProblems, problemKeys(topo)); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
			for k := range topo.Shards {
				if topo.Keyspaces[k.Keyspace] == nil {
					t.Errorf("shard %s has no keyspace policy", k)
				}
			}
			if tc.check != nil {
				tc.check(t, topo)
			}
		})
	}
}

// TestBuilderPutReturnsError: Put returns the validation error that
// becomes the key's Problem.
func TestBuilderPutReturnsError(t *testing.T) {
	b := topology.NewBuilder()
	if err := b.Put(tabletKey("zone1-0000000101"), []byte(tabletVal("commerce", "-80", "primary"))); err != nil {
		t.Fatalf("valid put: %v", err)
	}
	err := b.Put(tabletKey("zone1-0000000102"), []byte(badTablet))
	if err == nil || !strings.Contains(err.Error(), "port_map.grpc") {
		t.Fatalf("invalid put returned %v, want the port_map.grpc error", err)
	}
	topo := b.Build(1)
	if len(topo.Problems) != 1 || topo.Problems[0].Err != err {
		t.Errorf("Problems %v, want exactly the error Put returned", topo.Problems)
	}
}

// TestBuilderPointerIdentity: a Build shares the shards whose tablets did
// not change since the previous Build, and only those; cells, overrides and
// shifts leave every shard as it was (their effect is resolved per shard
// by weights.ShardInputs).
func TestBuilderPointerIdentity(t *testing.T) {
	base := []op{
		put("cells/zone1", cellZone1),
		put("cells/zone2", cellZone2),
		put("keyspaces/commerce", `{"tenant":"acme"}`),
		put(tabletKey("zone1-0000000101"), tabletVal("commerce", "-80", "primary")),
		put(tabletKey("zone1-0000000102"), tabletVal("commerce", "-80", "replica")),
		put(tabletKey("zone2-0000000201"), tabletVal("commerce", "80-", "primary")),
		put(tabletKey("zone1-0000000111"), tabletVal("customer", "0", "primary")),
	}
	tests := map[string]struct {
		ops             []op
		changed         []string // shards with a new pointer
		changedPolicies []string // keyspaces with a new policy pointer
	}{
		"nothing": {},
		"new tablet": {
			ops:     []op{put(tabletKey("zone2-0000000202"), tabletVal("commerce", "80-", "replica"))},
			changed: []string{"commerce/80-"},
		},
		"changed tablet": {
			ops:     []op{put(tabletKey("zone1-0000000102"), tabletVal("commerce", "-80", "replica", `"state":"DRAINING"`))},
			changed: []string{"commerce/-80"},
		},
		"deleted tablet": {
			ops:     []op{del(tabletKey("zone1-0000000102"))},
			changed: []string{"commerce/-80"},
		},
		"tablet becomes invalid": {
			ops:     []op{put(tabletKey("zone1-0000000102"), badTablet)},
			changed: []string{"commerce/-80"},
		},
		"invalid record of an unknown tablet": {
			ops: []op{put(tabletKey("zone1-0000000199"), badTablet)},
		},
		"tablet moved between shards": {
			ops:     []op{put(tabletKey("zone1-0000000102"), tabletVal("commerce", "80-", "replica"))},
			changed: []string{"commerce/-80", "commerce/80-"},
		},
		"tablet moved to another keyspace": {
			ops:     []op{put(tabletKey("zone1-0000000102"), tabletVal("customer", "0", "replica"))},
			changed: []string{"commerce/-80", "customer/0"},
		},
		"cell changed": {
			ops: []op{put("cells/zone2", `{"region":"us-west-2"}`)},
		},
		"cell added": {
			ops: []op{put("cells/zone3", `{"region":"us-west-2"}`)},
		},
		"cell deleted": {
			ops: []op{del("cells/zone2")},
		},
		"invalid cell record changes nothing": {
			ops: []op{put("cells/zone2", `{}`)},
		},
		"keyspace policy changed": {
			ops:             []op{put("keyspaces/commerce", `{"tenant":"other"}`)},
			changedPolicies: []string{"commerce"},
		},
		"invalid keyspace policy changes nothing": {
			ops: []op{put("keyspaces/commerce", `{"lag":{"max":"x"}}`)},
		},
		"policy for a defaulted keyspace": {
			ops:             []op{put("keyspaces/customer", `{"tenant":"acme"}`)},
			changedPolicies: []string{"customer"},
		},
		"routing rules": {
			ops: []op{put(topology.RulesKey, `{"rules":[{"from_keyspace":"commerce","to_keyspace":"customer"}]}`)},
		},
		"drain": {
			ops: []op{put("overrides/drain/zone1", `{"window":"10m","started_at":"2026-11-20T10:00:00Z"}`)},
		},
		"preferred cell": {
			ops: []op{put("overrides/prefer/commerce", `{"cell":"zone2"}`)},
		},
		"shift": {
			ops: []op{put("shifts/s1", `{"keyspace":"commerce","tablet_type":"replica","from_cell":"zone1","to_cell":"zone2","steps":[100],"hold":"1m","started_at":"2026-11-20T10:00:00Z"}`)},
		},
		"unknown key": {
			ops: []op{put("status/s1", `{}`)},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			b := topology.NewBuilder()
			apply(t, b, base)
			before := b.Build(1)
			apply(t, b, tc.ops)
			after := b.Build(2)

			var changed []string
			for k, s := range after.Shards {
				if before.Shards[k] != s {
					changed = append(changed, k.String())
				}
			}
			sort.Strings(changed)
			if diff := cmp.Diff(tc.changed, changed); diff != "" {
				t.Errorf("shards with a new pointer (-want +got):\n%s", diff)
			}
			var changedPolicies []string
			for name, ks := range after.Keyspaces {
				if before.Keyspaces[name] != ks {
					changedPolicies = append(changedPolicies, name)
				}
			}
			sort.Strings(changedPolicies)
			if diff := cmp.Diff(tc.changedPolicies, changedPolicies); diff != "" {
				t.Errorf("keyspaces with a new policy pointer (-want +got):\n%s", diff)
			}
			// An earlier Topology is immutable: building again does not
			// change what it shows.
			if got := shardAliases(before)["commerce/-80"]; !slices.Equal(got, []string{"zone1-0000000101", "zone1-0000000102"}) {
				t.Errorf("the previous topology's commerce/-80 changed to %v", got)
			}
		})
	}
}

// TestBuilderReset: a full re-list (Reset, then every record put again,
// in any order) gives a topology equal to the one before, and records that
// are not put again are gone.
func TestBuilderReset(t *testing.T) {
	recs := exampleRecords(t)
	tests := map[string]struct {
		reput    func([]topology.Record) []topology.Record
		wantGone []string // shards missing after the re-list
	}{
		"same order": {
			reput: func(r []topology.Record) []topology.Record { return r },
		},
		"reverse order": {
			reput: func(r []topology.Record) []topology.Record {
				r = slices.Clone(r)
				slices.Reverse(r)
				return r
			},
		},
		"a shard's tablets are gone": {
			reput: func(r []topology.Record) []topology.Record {
				return slices.DeleteFunc(slices.Clone(r), func(rec topology.Record) bool {
					return strings.HasPrefix(rec.Key, "tablets/") && strings.Contains(string(rec.Value), `"shard":"0"`)
				})
			},
			wantGone: []string{"customer/0"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			b := topology.NewBuilder()
			for _, r := range recs {
				if err := b.Put(r.Key, r.Value); err != nil {
					t.Fatalf("put %s: %v", r.Key, err)
				}
			}
			_ = b.Put(tabletKey("zone1-0000000199"), []byte(badTablet)) // a problem to forget
			before := b.Build(10)

			b.Reset()
			for _, r := range tc.reput(recs) {
				if err := b.Put(r.Key, r.Value); err != nil {
					t.Fatalf("put %s: %v", r.Key, err)
				}
			}
			after := b.Build(11)

			if len(after.Problems) != 0 {
				t.Errorf("problems after the re-list: %v, want none", problemKeys(after))
			}
			wantShards := shardAliases(before)
			for _, k := range tc.wantGone {
				delete(wantShards, k)
			}
			if diff := cmp.Diff(wantShards, shardAliases(after)); diff != "" {
				t.Errorf("shards (-want +got):\n%s", diff)
			}
			for k, s := range after.Shards {
				if diff := cmp.Diff(before.Shards[k], s); diff != "" {
					t.Errorf("shard %s (-before +after):\n%s", k, diff)
				}
			}
			if diff := cmp.Diff(before.Cells, after.Cells); diff != "" {
				t.Errorf("cells (-before +after):\n%s", diff)
			}
			if diff := cmp.Diff(before.Rules, after.Rules); diff != "" {
				t.Errorf("rules (-before +after):\n%s", diff)
			}
			for _, name := range after.KeyspaceNames() {
				if diff := cmp.Diff(before.Keyspaces[name], after.Keyspaces[name]); diff != "" {
					t.Errorf("keyspace %s (-before +after):\n%s", name, diff)
				}
				if diff := cmp.Diff(shardNames(before.ShardsOf(name)), shardNames(after.ShardsOf(name))); diff != "" && len(tc.wantGone) == 0 {
					t.Errorf("ShardsOf(%s) (-before +after):\n%s", name, diff)
				}
			}
		})
	}
}

// TestBuilderResetForgets: after Reset with nothing put again, the next
// topology is empty.
func TestBuilderResetForgets(t *testing.T) {
	b := topology.NewBuilder()
	apply(t, b, []op{
		put("cells/zone1", cellZone1),
		put("keyspaces/commerce", `{}`),
		put(tabletKey("zone1-0000000101"), tabletVal("commerce", "-80", "primary")),
		put(tabletKey("zone1-0000000102"), badTablet),
		put(topology.RulesKey, `{"rules":[{"from_keyspace":"a","to_keyspace":"b"}]}`),
	})
	b.Build(1)
	b.Reset()
	topo := b.Build(2)
	if len(topo.Cells)+len(topo.Keyspaces)+len(topo.Shards)+len(topo.Rules)+len(topo.Problems) != 0 || len(topo.ShardsOf("commerce")) != 0 {
		t.Errorf("after Reset: cells %v, keyspaces %v, shards %v, rules %v, problems %v; want none",
			topo.Cells, topo.KeyspaceNames(), shardAliases(topo), topo.Rules, problemKeys(topo))
	}
}

func shardNames(ss []*topology.Shard) []string {
	var out []string
	for _, s := range ss {
		out = append(out, s.Name)
	}
	return out
}

func TestTopologyShardsOf(t *testing.T) {
	tests := map[string]struct {
		shards []string
		want   []string
	}{
		"unsharded":  {shards: []string{"0"}, want: []string{"0"}},
		"halves":     {shards: []string{"80-", "-80"}, want: []string{"-80", "80-"}},
		"quarters":   {shards: []string{"c0-", "80-c0", "-40", "40-80"}, want: []string{"-40", "40-80", "80-c0", "c0-"}},
		"long bound": {shards: []string{"8001-", "-80", "80-8001"}, want: []string{"-80", "80-8001", "8001-"}},
		// During a Vitess reshard the source and target shards coexist and
		// overlap; their order must not depend on map iteration, or control
		// plane replicas would serve different route configurations.
		"resharding -80 into -40 and 40-80": {
			shards: []string{"40-80", "-80", "80-", "-40"},
			want:   []string{"-40", "-80", "40-80", "80-"},
		},
		"resharding 0 into halves": {
			shards: []string{"80-", "-80", "0"},
			want:   []string{"-80", "0", "80-"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			// Many Builders: the input order and map iteration differ.
			for i := range 50 {
				b := topology.NewBuilder()
				order := slices.Clone(tc.shards)
				if i%2 == 1 {
					slices.Reverse(order)
				}
				for j, s := range order {
					alias := fmt.Sprintf("zone1-%010d", j+1)
					if err := b.Put(tabletKey(alias), []byte(tabletVal("commerce", s, "primary"))); err != nil {
						t.Fatal(err)
					}
				}
				topo := b.Build(1)
				if diff := cmp.Diff(tc.want, shardNames(topo.ShardsOf("commerce"))); diff != "" {
					t.Fatalf("build %d: ShardsOf (-want +got):\n%s", i, diff)
				}
				if got := topo.ShardsOf("nothing"); len(got) != 0 {
					t.Fatalf("ShardsOf(unknown keyspace) = %v", shardNames(got))
				}
			}
		})
	}
}

func TestTopologyKeyspaceNames(t *testing.T) {
	b := topology.NewBuilder()
	apply(t, b, []op{
		put("keyspaces/zeta", `{}`),
		put(tabletKey("zone1-0000000101"), tabletVal("alpha", "0", "primary")),
		put("keyspaces/mid", `{}`),
	})
	if got, want := b.Build(1).KeyspaceNames(), []string{"alpha", "mid", "zeta"}; !slices.Equal(got, want) {
		t.Errorf("KeyspaceNames() = %v, want %v", got, want)
	}
}

// TestBuilderLagHeld: lag hysteresis. A tablet above lag.max is held out
// until its lag is back to LagReadmitPercent of lag.max, judged against the
// policy in force whatever order the records arrive in.
func TestBuilderLagHeld(t *testing.T) {
	const alias = "zone1-0000000102"
	replica := func(lag float64) op {
		return put(tabletKey(alias), tabletVal("commerce", "-80", "replica", lagField(lag)))
	}
	policy := func(max string) op {
		return put("keyspaces/commerce", fmt.Sprintf(`{"lag":{"degraded":"1s","max":%q}}`, max))
	}
	tests := map[string]struct {
		ops  []op
		want bool
	}{
		"below lag.max":                {ops: []op{replica(20)}, want: false},
		"at lag.max":                   {ops: []op{replica(30)}, want: false},
		"above lag.max":                {ops: []op{replica(31)}, want: true},
		"inside the band, never above": {ops: []op{replica(28)}, want: false},
		"back inside the band":         {ops: []op{replica(31), replica(28)}, want: true},
		"back at the re-admission lag": {ops: []op{replica(31), replica(27)}, want: false},
		"back under the band":          {ops: []op{replica(31), replica(28), replica(26)}, want: false},
		"back up into the band after re-admission": {
			ops: []op{replica(31), replica(26), replica(28)}, want: false,
		},
		"deleted and put again":       {ops: []op{replica(31), del(tabletKey(alias)), replica(28)}, want: false},
		"keyspace policy honoured":    {ops: []op{policy("60s"), replica(40)}, want: false},
		"keyspace policy band":        {ops: []op{policy("60s"), replica(61), replica(55)}, want: true},
		"policy put after the tablet": {ops: []op{replica(40), policy("60s")}, want: false},
		"lag.max raised above the lag": {
			ops: []op{policy("30s"), replica(40), policy("60s")}, want: false,
		},
		"lag.max raised into the band": {
			ops: []op{policy("30s"), replica(40), policy("44s")}, want: true,
		},
		"lag.max lowered below the lag": {
			ops: []op{policy("60s"), replica(40), policy("30s")}, want: true,
		},
		"policy deleted, defaults apply": {
			ops: []op{policy("60s"), replica(40), del("keyspaces/commerce")}, want: true,
		},
		"invalid policy keeps the previous one": {
			ops: []op{policy("60s"), replica(40), put("keyspaces/commerce", `{"lag":{"max":"x"}}`)}, want: false,
		},
		"another keyspace's policy changes nothing": {
			ops: []op{replica(40), put("keyspaces/customer", `{"lag":{"max":"60s"}}`)}, want: true,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			b := topology.NewBuilder()
			apply(t, b, tc.ops)
			topo := b.Build(1)
			s := topo.Shards[topology.ShardKey{Keyspace: "commerce", Shard: "-80"}]
			if s == nil || len(s.Tablets) != 1 {
				t.Fatalf("commerce/-80 = %v, want one tablet", shardAliases(topo))
			}
			if got := s.Tablets[0].LagHeld; got != tc.want {
				t.Errorf("LagHeld = %v, want %v (lag %v)", got, tc.want, s.Tablets[0].ReplicationLag)
			}
		})
	}
}

// TestBuilderLagHeldPolicyChange: a policy change that changes a tablet's
// hold gives its shard a new pointer and leaves the previous topology's
// tablet as it was.
func TestBuilderLagHeldPolicyChange(t *testing.T) {
	b := topology.NewBuilder()
	apply(t, b, []op{
		put("keyspaces/commerce", `{"lag":{"max":"30s"}}`),
		put(tabletKey("zone1-0000000101"), tabletVal("commerce", "-80", "replica", lagField(40))),
		put(tabletKey("zone1-0000000201"), tabletVal("commerce", "80-", "replica", lagField(1))),
	})
	k80, k80up := topology.ShardKey{Keyspace: "commerce", Shard: "-80"}, topology.ShardKey{Keyspace: "commerce", Shard: "80-"}
	before := b.Build(1)
	apply(t, b, []op{put("keyspaces/commerce", `{"lag":{"max":"60s"}}`)})
	after := b.Build(2)
	if !before.Shards[k80].Tablets[0].LagHeld {
		t.Fatal("before: tablet not held at lag 40s > lag.max 30s")
	}
	if after.Shards[k80] == before.Shards[k80] || after.Shards[k80].Tablets[0].LagHeld {
		t.Errorf("after raising lag.max to 60s: shard shared %v, held %v; want a new shard with the tablet not held",
			after.Shards[k80] == before.Shards[k80], after.Shards[k80].Tablets[0].LagHeld)
	}
	if after.Shards[k80up] != before.Shards[k80up] {
		t.Error("commerce/80- has a new pointer though its tablet's hold did not change")
	}
}
