package whatif_test

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/shardmesh/shardmesh/pkg/topology"
	"github.com/shardmesh/shardmesh/pkg/weights"
	"github.com/shardmesh/shardmesh/pkg/whatif"
)

var now = time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)

// exampleFleet is examples/topology.yaml: commerce -80 (primary in zone1)
// and 80- (primary in zone2), customer/0 (primary in zone1); zone1 and
// zone2 in us-east-1, zone3 in us-west-2.
func exampleFleet(t *testing.T) *topology.Topology {
	t.Helper()
	data, err := os.ReadFile("../../examples/topology.yaml")
	if err != nil {
		t.Fatal(err)
	}
	recs, err := topology.ParseSeed(data)
	if err != nil {
		t.Fatal(err)
	}
	b := topology.NewBuilder()
	for _, r := range recs {
		if err := b.Put(r.Key, r.Value); err != nil {
			t.Fatal(err)
		}
	}
	return b.Build(7)
}

// changedRows renders the rows a report marks changed for clients in
// us-east-1a: "commerce/-80 replica: zone1-0000000102 100% -> zone2-0000000201 100%".
func changedRows(r whatif.Report) []string {
	var out []string
	for _, row := range r.Rows {
		if !row.Changed || row.Zone != "us-east-1a" {
			continue
		}
		line := fmt.Sprintf("%s/%s %s: %s -> %s", row.Keyspace, row.Shard, row.Class, split(row.Before), split(row.After))
		if row.CrossRegion > 0 {
			line += fmt.Sprintf(" (%.0f%% cross-region)", 100*row.CrossRegion)
		}
		if row.Lost {
			line += " LOST"
		}
		out = append(out, line)
	}
	return out
}

func split(s []whatif.Share) string {
	if len(s) == 0 {
		return "none"
	}
	var parts []string
	for _, x := range s {
		parts = append(parts, fmt.Sprintf("%s %.0f%%", x.Alias, 100*x.Share))
	}
	return strings.Join(parts, ", ")
}

// TestWhatIf rehearses each kind of change on the example fleet.
func TestWhatIf(t *testing.T) {
	cases := map[string]struct {
		flags [][2]string // op, value
		kind  weights.ClientKind
		want  []string // changed rows for us-east-1a clients
		lost  int      // client/class pairs left with nothing, every locality
	}{
		"a zone failure takes its primaries": {
			flags: [][2]string{{"fail-cell", "zone1"}},
			want: []string{
				"commerce/-80 primary: zone1-0000000101 100% -> none LOST",
				"commerce/-80 read-after-write: zone1-0000000101 100% -> zone2-0000000201 100%",
				"commerce/-80 replica: zone1-0000000102 100% -> zone2-0000000201 100%",
				"commerce/80- replica: zone1-0000000111 100% -> zone2-0000000212 100%",
				"commerce/80- rdonly: zone1-0000000112 100% -> none LOST",
				"customer/0 primary: zone1-0000000121 100% -> none LOST",
				"customer/0 read-after-write: zone1-0000000121 100% -> zone2-0000000221 100%",
			},
			lost: 9,
		},
		"an AZ evacuation: the zone fails, both primaries reparented to zone2": {
			flags: [][2]string{{"fail-cell", "zone1"}, {"reparent", "commerce/-80=zone2-0000000201"}, {"reparent", "customer/0=zone2-0000000221"}},
			want: []string{
				"commerce/-80 primary: zone1-0000000101 100% -> zone2-0000000201 100%",
				"commerce/-80 read-after-write: zone1-0000000101 100% -> zone2-0000000201 100%",
				"commerce/-80 replica: zone1-0000000102 100% -> zone3-0000000301 100% (100% cross-region)",
				"commerce/80- replica: zone1-0000000111 100% -> zone2-0000000212 100%",
				"commerce/80- rdonly: zone1-0000000112 100% -> none LOST",
				"customer/0 primary: zone1-0000000121 100% -> zone2-0000000221 100%",
				"customer/0 read-after-write: zone1-0000000121 100% -> zone2-0000000221 100%",
				"customer/0 replica: zone2-0000000221 100% -> zone3-0000000321 100% (100% cross-region)",
			},
			lost: 3,
		},
		"one replica fails": {
			flags: [][2]string{{"fail-tablet", "zone1-0000000102"}},
			want: []string{
				"commerce/-80 replica: zone1-0000000102 100% -> zone2-0000000201 100%",
			},
		},
		"one replica lags past lag.max": {
			flags: [][2]string{{"lag", "zone1-0000000102=60s"}},
			want: []string{
				"commerce/-80 replica: zone1-0000000102 100% -> zone2-0000000201 100%",
			},
		},
		"a drained cell keeps its primaries": {
			flags: [][2]string{{"drain-cell", "zone1"}},
			want: []string{
				"commerce/-80 replica: zone1-0000000102 100% -> zone2-0000000201 100%",
				"commerce/80- replica: zone1-0000000111 100% -> zone2-0000000212 100%",
				"commerce/80- rdonly: zone1-0000000112 100% -> none LOST",
			},
			lost: 3,
		},
		"a reparent: the old primary serves reads": {
			flags: [][2]string{{"reparent", "commerce/-80=zone2-0000000201"}},
			kind:  weights.KindEnvoy,
			want: []string{
				"commerce/-80 primary: zone1-0000000101 100% -> zone2-0000000201 100%",
				"commerce/-80 read-after-write: zone1-0000000101 100% -> zone2-0000000201 100%",
				"commerce/-80 replica: zone1-0000000102 100% -> zone1-0000000101 50%, zone1-0000000102 50%",
			},
		},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			before := exampleFleet(t)
			var changes []whatif.Change
			for _, f := range c.flags {
				ch, err := whatif.Parse(whatif.Op(f[0]), f[1])
				if err != nil {
					t.Fatal(err)
				}
				changes = append(changes, ch)
			}
			after, err := whatif.Apply(before, changes, now)
			if err != nil {
				t.Fatal(err)
			}
			kind := c.kind
			if kind == "" {
				kind = weights.KindGRPC
			}
			rep := whatif.Compare(before, after, changes, kind, now)
			if diff := cmp.Diff(c.want, changedRows(rep)); diff != "" {
				t.Errorf("changed rows (-want +got):\n%s", diff)
			}
			if rep.Lost != c.lost || (c.lost > 0) != errors.Is(rep.Err(), whatif.ErrNoEligible) {
				t.Errorf("lost %d (err %v), want %d", rep.Lost, rep.Err(), c.lost)
			}
			// The rehearsal never touches the topology it started from.
			if diff := cmp.Diff(changedRows(whatif.Compare(before, exampleFleet(t), nil, kind, now)), []string(nil)); diff != "" {
				t.Errorf("before was modified:\n%s", diff)
			}
		})
	}
}

// TestWhatIfErrors: a change naming what the topology lacks is an invalid
// input naming it, never a silent no-op.
func TestWhatIfErrors(t *testing.T) {
	before := exampleFleet(t)
	for _, c := range []struct{ op, value, want string }{
		{"fail-cell", "zone9", "cell zone9: no such cell"},
		{"fail-tablet", "zone1-0000000999", "tablet zone1-0000000999: no such tablet"},
		{"reparent", "commerce/-80=zone3-0000000302", "tablet zone3-0000000302: not a replica of commerce/-80"},
		{"reparent", "commerce/40-=zone2-0000000201", "shard commerce/40-: no such shard"},
		{"lag", "zone1-0000000102", "want ALIAS=DURATION"},
		{"lag", "zone1-0000000102=soon", "want ALIAS=DURATION"},
		{"reparent", "commerce-80=zone2-0000000201", "want KEYSPACE/SHARD=ALIAS"},
	} {
		ch, err := whatif.Parse(whatif.Op(c.op), c.value)
		if err == nil {
			_, err = whatif.Apply(before, []whatif.Change{ch}, now)
		}
		if !errors.Is(err, topology.ErrInvalid) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("--%s %s: error %v, want one containing %q", c.op, c.value, err, c.want)
		}
	}
}
