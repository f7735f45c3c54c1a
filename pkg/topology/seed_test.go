package topology_test

import (
	"errors"
	"os"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/shardmesh/shardmesh/pkg/topology"
)

const exampleSeed = "../../examples/topology.yaml"

// exampleRecords returns the records of examples/topology.yaml.
func exampleRecords(t *testing.T) []topology.Record {
	t.Helper()
	data, err := os.ReadFile(exampleSeed)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := topology.ParseSeed(data)
	if err != nil {
		t.Fatalf("ParseSeed(%s): %v", exampleSeed, err)
	}
	return recs
}

// TestParseSeedExample: the example fleet parses and builds into what its
// comment promises: 3 cells in 2 regions, commerce sharded -80/80-,
// customer unsharded, each shard with a primary, replicas and an rdonly.
func TestParseSeedExample(t *testing.T) {
	recs := exampleRecords(t)
	if !slices.IsSortedFunc(recs, func(a, b topology.Record) int { return strings.Compare(a.Key, b.Key) }) {
		t.Error("records are not sorted by key")
	}
	b := topology.NewBuilder()
	for _, r := range recs {
		if err := b.Put(r.Key, r.Value); err != nil {
			t.Fatalf("put %s: %v", r.Key, err)
		}
	}
	topo := b.Build(1)
	if len(topo.Problems) != 0 {
		t.Fatalf("problems: %v", problemKeys(topo))
	}

	regions := map[string]bool{}
	for _, c := range topo.Cells {
		regions[c.Region] = true
	}
	if len(topo.Cells) != 3 || len(regions) != 2 {
		t.Errorf("%d cells in %d regions, want 3 in 2", len(topo.Cells), len(regions))
	}
	if c := topo.Cells["zone3"]; c.Region != "us-west-2" || c.Zone != "us-west-2a" {
		t.Errorf("zone3 = %+v, want us-west-2/us-west-2a", c)
	}
	if got := topo.KeyspaceNames(); !slices.Equal(got, []string{"commerce", "customer"}) {
		t.Errorf("keyspaces %v, want [commerce customer]", got)
	}
	if got := shardNames(topo.ShardsOf("commerce")); !slices.Equal(got, []string{"-80", "80-"}) {
		t.Errorf("commerce shards %v, want [-80 80-]", got)
	}
	cust := topo.ShardsOf("customer")
	if len(cust) != 1 || !cust[0].Range.Full() {
		t.Errorf("customer shards %v, want one unsharded", shardNames(cust))
	}
	for k, s := range topo.Shards {
		types := map[topology.TabletType]int{}
		for _, tb := range s.Tablets {
			types[tb.Type]++
			if c, ok := topo.CellOf(tb.Cell); !ok || c.Region == "" {
				t.Errorf("%s: tablet %s in unknown cell %q", k, tb.Alias, tb.Cell)
			}
		}
		if types[topology.TypePrimary] != 1 || types[topology.TypeReplica] < 2 || types[topology.TypeRdonly] < 1 {
			t.Errorf("%s: tablet types %v, want 1 primary, 2+ replicas and an rdonly", k, types)
		}
	}
	commerce := topo.Keyspaces["commerce"]
	if !slices.Equal(commerce.SchemaVersions, []string{"v41", "v42"}) || commerce.Lag.MinServing != 1 ||
		!slices.Equal(commerce.Failover.RegionOrder["us-east-1"], []string{"us-west-2"}) {
		t.Errorf("commerce policy %+v", commerce)
	}
}

func TestParseSeed(t *testing.T) {
	tests := map[string]struct {
		seed     string
		wantKeys []string
		wantErrs []string // each a line of the joined error
	}{
		"empty": {
			seed: ``,
		},
		"all record kinds": {
			seed: `
cells:
  zone1: {region: us-east-1}
keyspaces:
  ks: {tenant: acme}
tablets:
  zone1-0000000001: {keyspace: ks, shard: "0", type: primary, hostname: h, port_map: {grpc: 1}, state: SERVING}
rules:
  rules: [{from_keyspace: ks@replica, to_keyspace: ks2}]
`,
			wantKeys: []string{"cells/zone1", "keyspaces/ks", "routing/keyspace_rules", "tablets/zone1-0000000001"},
		},
		"JSON is YAML": {
			seed:     `{"cells": {"zone1": {"region": "us-east-1"}}}`,
			wantKeys: []string{"cells/zone1"},
		},
		"two bad records": {
			seed: `
cells:
  zone1: {region: us-east-1}
tablets:
  zone1-0000000001: {keyspace: ks, shard: "0", type: primary, hostname: h, port_map: {grpc: 70000}, state: SERVING}
  zone1-0000000002: {keyspace: ks, shard: "0", type: primary, hostname: h, port_map: {grpc: 1}, state: SERVING, weight: 0}
`,
			wantErrs: []string{
				"tablet zone1-0000000001: port_map.grpc: 70000 out of range",
				"tablet zone1-0000000002: weight: 0 out of range 1..10000",
			},
		},
		"bad records of every kind": {
			seed: `
cells:
  zone1: {zone: z}
keyspaces:
  ks: {lag: {max: 1x}}
tablets:
  zone1-1: {keyspace: ks}
rules:
  rules: [{from_keyspace: "@replica", to_keyspace: ks}]
`,
			wantErrs: []string{
				`cell zone1: region: required`,
				`keyspace ks: lag.max: "1x" is not a non-negative duration such as 10s`,
				`routing/keyspace_rules: rules[0].from_keyspace: "@replica" is not <keyspace> or <keyspace>@<tablet type>`,
				`tablet zone1-1: alias "zone1-1" is not <cell>-<10-digit uid>`,
			},
		},
		"unquoted shard zero is a number": {
			seed: `
tablets:
  zone1-0000000001: {keyspace: ks, shard: 0, type: primary, hostname: h, port_map: {grpc: 1}, state: SERVING}
`,
			wantErrs: []string{"tablet zone1-0000000001: shard: want a string, got JSON number"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			recs, err := topology.ParseSeed([]byte(tc.seed))
			if tc.wantErrs != nil {
				if err == nil {
					t.Fatalf("ParseSeed succeeded, want errors %q", tc.wantErrs)
				}
				if recs != nil {
					t.Errorf("ParseSeed returned %d records with errors, want none", len(recs))
				}
				got := strings.Split(err.Error(), "\n")
				if diff := cmp.Diff(tc.wantErrs, got); diff != "" {
					t.Errorf("errors (-want +got):\n%s", diff)
				}
				if !errors.Is(err, topology.ErrInvalid) {
					t.Errorf("errors.Is(%v, ErrInvalid) = false", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseSeed: %v", err)
			}
			var keys []string
			for _, r := range recs {
				keys = append(keys, r.Key)
			}
			if diff := cmp.Diff(tc.wantKeys, keys); diff != "" {
				t.Errorf("keys (-want +got):\n%s", diff)
			}
		})
	}
}

// TestParseSeedSyntax: a file that is not a seed file at all fails as a
// whole, naming the file's problem.
func TestParseSeedSyntax(t *testing.T) {
	tests := map[string]struct {
		seed string
		want string // substring
	}{
		"unknown section":  {seed: "cell:\n  zone1: {region: r}\n", want: `unknown field "cell"`},
		"not YAML":         {seed: "cells: [\n", want: "seed file: "},
		"cells not a map":  {seed: "cells: [zone1]\n", want: "seed file: "},
		"duplicate tablet": {seed: "tablets:\n  a-0000000001: {}\n  a-0000000001: {}\n", want: "seed file: "},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			recs, err := topology.ParseSeed([]byte(tc.seed))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("ParseSeed = %d records, %v; want error containing %q", len(recs), err, tc.want)
			}
		})
	}
}

// TestParseSeedRoundTrip: the records of a seed file build into the same
// topology whatever order they are put in.
func TestParseSeedRoundTrip(t *testing.T) {
	recs := exampleRecords(t)
	build := func(rs []topology.Record) map[string][]string {
		b := topology.NewBuilder()
		for _, r := range rs {
			if err := b.Put(r.Key, r.Value); err != nil {
				t.Fatalf("put %s: %v", r.Key, err)
			}
		}
		return shardAliases(b.Build(1))
	}
	reversed := slices.Clone(recs)
	slices.Reverse(reversed)
	want, got := build(recs), build(reversed)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("shards differ with the records reversed (-sorted +reversed):\n%s", diff)
	}
	var n int
	for _, aliases := range want {
		n += len(aliases)
	}
	if n != 14 {
		keys := make([]string, 0, len(want))
		for k := range want {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		t.Errorf("%d tablets in shards %v, want the example's 14", n, keys)
	}
}
