package topology

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestEncodeTabletRoundTrips(t *testing.T) {
	term := time.Date(2026, 11, 20, 10, 0, 0, 123456000, time.UTC)
	for name, tab := range map[string]*Tablet{
		"primary": {Alias: "zone1-0000000101", Keyspace: "commerce", Shard: "-80", Type: TypePrimary, Cell: "zone1",
			Hostname: "10.0.0.1", PortMap: map[string]uint32{"grpc": 15991, "mysql": 3306}, State: StateServing,
			PrimaryTermStart: term, ServingSince: term, SchemaVersion: "v42", Weight: 100, Tags: map[string]string{"rack": "r7"}},
		"lagging replica": {Alias: "zone2-0000000201", Keyspace: "commerce", Shard: "-80", Type: TypeReplica, Cell: "zone2",
			Hostname: "db2", PortMap: map[string]uint32{"mysql": 3306}, State: StateNotServing,
			HealthError: "replication SQL thread stopped", ReplicationLag: 1500 * time.Millisecond,
			Replication: ReplicationSemiSync, Weight: 1},
	} {
		t.Run(name, func(t *testing.T) {
			b, err := EncodeTablet(tab)
			if err != nil {
				t.Fatal(err)
			}
			got, err := DecodeTablet(tab.Alias, b)
			if err != nil {
				t.Fatalf("decode %s: %v", b, err)
			}
			if d := cmp.Diff(tab, got); d != "" {
				t.Errorf("round trip (-want +got):\n%s", d)
			}
		})
	}
}

func TestEncodeTabletRejectsInvalid(t *testing.T) {
	tab := &Tablet{Alias: "zone1-0000000101", Keyspace: "commerce", Shard: "-80", Type: TypePrimary, Cell: "zone1",
		Hostname: "h", PortMap: map[string]uint32{"grpc": 70000}, State: StateServing, Weight: 100}
	_, err := EncodeTablet(tab)
	if !errors.Is(err, ErrInvalid) || err.Error() != "tablet zone1-0000000101: port_map.grpc: 70000 out of range" {
		t.Fatalf("err = %v, want the port_map.grpc field error", err)
	}
}
