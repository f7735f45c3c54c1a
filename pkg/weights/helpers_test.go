package weights_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/shardmesh/shardmesh/pkg/topology"
	"github.com/shardmesh/shardmesh/pkg/weights"
)

// The test fleet: keyspace "ks", shard "-80", four cells in three regions.
// A tablet in zone9 names a cell the topology does not know.
const testKeyspace, testShard = "ks", "-80"

var (
	now = time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)

	clientR1A = weights.Locality{Region: "r1", Zone: "r1a"} // zone1
	clientR2A = weights.Locality{Region: "r2", Zone: "r2a"} // zone3
	noClient  = weights.Locality{}
)

// rec is one etcd record (key relative to the prefix, JSON value).
type rec struct{ key, val string }

// cells returns the test cells: zone1 r1/r1a, zone2 r1/r1b, zone3 r2/r2a,
// zone4 r3/r3a.
func cells() []rec {
	return []rec{
		{"cells/zone1", `{"region":"r1","zone":"r1a"}`},
		{"cells/zone2", `{"region":"r1","zone":"r1b"}`},
		{"cells/zone3", `{"region":"r2","zone":"r2a"}`},
		{"cells/zone4", `{"region":"r3","zone":"r3a"}`},
	}
}

// policy is the keyspace record of "ks".
func policy(json string) rec { return rec{"keyspaces/" + testKeyspace, json} }

// tablet is a record of shard ks/-80: SERVING, semi-sync, schema v1, a grpc
// port, weight 100. extra JSON fields are appended and win over the
// defaults (encoding/json keeps the last duplicate key), except port_map,
// which replaces the default when given.
func tablet(alias, typ string, extra ...string) rec {
	fields := []string{
		`"keyspace":"` + testKeyspace + `"`, `"shard":"` + testShard + `"`, fmt.Sprintf(`"type":%q`, typ),
		`"hostname":"h-` + alias + `"`, `"state":"SERVING"`, `"replication":"semi-sync"`, `"schema_version":"v1"`,
	}
	if !strings.Contains(strings.Join(extra, ","), `"port_map"`) {
		fields = append(fields, `"port_map":{"grpc":15991,"mysql":3306}`)
	}
	fields = append(fields, extra...)
	return rec{"tablets/" + alias, "{" + strings.Join(fields, ",") + "}"}
}

// lag is the extra field of a tablet's replication lag.
func lag(seconds float64) string { return fmt.Sprintf(`"replication_lag_seconds":%v`, seconds) }

// term is the extra field of a primary's term start, hours after a fixed time.
func term(hour int) string {
	return fmt.Sprintf(`"primary_term_start":%q`, time.Date(2026, 11, 20, hour, 0, 0, 0, time.UTC).Format(time.RFC3339))
}

// build puts the records into a fresh Builder and builds the topology.
func build(t testing.TB, recs ...rec) *topology.Topology {
	t.Helper()
	b := topology.NewBuilder()
	for _, r := range recs {
		if err := b.Put(r.key, []byte(r.val)); err != nil {
			t.Fatalf("put %s: %v", r.key, err)
		}
	}
	return b.Build(1)
}

// assign computes the assignment of one class of ks/-80.
func assign(t testing.TB, topo *topology.Topology, class weights.Class, client weights.Locality, kind weights.ClientKind) weights.Assignment {
	t.Helper()
	s := topo.Shards[topology.ShardKey{Keyspace: testKeyspace, Shard: testShard}]
	if s == nil {
		t.Fatalf("no shard %s/%s in the topology", testKeyspace, testShard)
	}
	return weights.Assign(weights.Request{Inputs: weights.Resolve(topo, s, now), Class: class, Client: client, Kind: kind})
}

// render prints an assignment one locality a line:
// "P0 zone1 w200: zone1-0000000001 HEALTHY/100, zone1-0000000002 UNHEALTHY/100".
func render(a weights.Assignment) []string {
	var out []string
	for _, l := range a.Localities {
		eps := make([]string, len(l.Endpoints))
		for i, e := range l.Endpoints {
			eps[i] = fmt.Sprintf("%s %s/%d", e.Alias, e.Health, e.Weight)
		}
		out = append(out, fmt.Sprintf("P%d %s w%d: %s", l.Priority, l.Cell, l.Weight, strings.Join(eps, ", ")))
	}
	return out
}

// checkAssignment compares an assignment with its rendering.
func checkAssignment(t *testing.T, a weights.Assignment, want []string) {
	t.Helper()
	if diff := cmp.Diff(want, render(a)); diff != "" {
		t.Errorf("assignment (-want +got):\n%s", diff)
	}
}

// renderGRPC prints an assignment served to proxyless gRPC: the share of
// traffic of each tablet at priority 0 ("P0 zone1-0000000001 35.5%"), then
// the failover order of the tablets that get no share ("P1 zone3-0000000003").
// It fails the test unless every locality holds one HEALTHY endpoint and is
// named after it, as flattenForGRPC promises.
func renderGRPC(t testing.TB, a weights.Assignment) []string {
	t.Helper()
	var out []string
	total := 0.0
	for _, l := range a.Localities {
		if len(l.Endpoints) != 1 || l.Endpoints[0].Alias != l.Cell || l.Endpoints[0].Health != weights.Healthy || l.Weight < 1 {
			t.Errorf("gRPC locality %+v: want one HEALTHY endpoint named by the sub_zone, weight >= 1", l)
			continue
		}
		if l.Priority == 0 {
			total += float64(l.Weight)
		}
	}
	for _, l := range a.Localities {
		if l.Priority == 0 {
			out = append(out, fmt.Sprintf("P0 %s %.1f%%", l.Cell, 100*float64(l.Weight)/total))
		} else {
			out = append(out, fmt.Sprintf("P%d %s", l.Priority, l.Cell))
		}
	}
	return out
}

// checkGRPC compares a gRPC assignment with its renderGRPC rendering.
func checkGRPC(t *testing.T, a weights.Assignment, want []string) {
	t.Helper()
	got := renderGRPC(t, a)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("gRPC assignment (-want +got):\n%s", diff)
	}
}

// alias returns the Vitess alias of a cell and uid.
func alias(cell string, uid int) string { return fmt.Sprintf("%s-%010d", cell, uid) }

// healthy renders a locality holding one HEALTHY tablet of weight 100.
func healthy(p, cell, alias string) string {
	return p + " " + cell + " w100: " + alias + " HEALTHY/100"
}
