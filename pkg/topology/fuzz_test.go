package topology_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/shardmesh/shardmesh/pkg/topology"
)

// The seed corpora are in testdata/fuzz/<FuzzName>/; run a fuzzer with
//
//	go test -run='^$' -fuzz=FuzzDecodeTablet -fuzztime=30s ./pkg/topology/

// checkFieldError checks what every decoder promises about its errors.
func checkFieldError(t *testing.T, err error, record string) {
	t.Helper()
	var fe *topology.FieldError
	if !errors.As(err, &fe) {
		t.Fatalf("error %v (%T) is not a *FieldError", err, err)
	}
	if !errors.Is(err, topology.ErrInvalid) {
		t.Fatalf("errors.Is(%v, ErrInvalid) = false", err)
	}
	if fe.Record != record || !strings.HasPrefix(err.Error(), record+": ") {
		t.Fatalf("error %q does not name record %q", err, record)
	}
}

func FuzzDecodeTablet(f *testing.F) {
	f.Add(alias101, []byte(designTablet))
	f.Fuzz(func(t *testing.T, alias string, data []byte) {
		tb, err := topology.DecodeTablet(alias, data)
		if err != nil {
			if tb != nil {
				t.Fatalf("tablet %+v returned with error %v", tb, err)
			}
			checkFieldError(t, err, "tablet "+alias)
			return
		}
		cell, _, aerr := topology.ParseAlias(alias)
		if aerr != nil {
			t.Fatalf("decoded a tablet with a bad alias %q: %v", alias, aerr)
		}
		if tb.Alias != alias || tb.Cell != cell {
			t.Errorf("alias %q cell %q, want %q %q", tb.Alias, tb.Cell, alias, cell)
		}
		if tb.Keyspace == "" || tb.Hostname == "" {
			t.Errorf("keyspace %q hostname %q: required fields empty", tb.Keyspace, tb.Hostname)
		}
		if tb.Weight < 1 || tb.Weight > 10000 {
			t.Errorf("weight %d out of 1..10000", tb.Weight)
		}
		if len(tb.PortMap) == 0 {
			t.Error("no ports")
		}
		for name, p := range tb.PortMap {
			if p < 1 || p > 65535 {
				t.Errorf("port %s = %d out of 1..65535", name, p)
			}
		}
		if _, err := topology.ParseShardName(tb.Shard); err != nil || tb.Shard != strings.ToLower(tb.Shard) {
			t.Errorf("shard %q is not a routable lower-case shard name: %v", tb.Shard, err)
		}
		switch tb.Type {
		case topology.TypePrimary, topology.TypeReplica, topology.TypeRdonly, topology.TypeSpare,
			topology.TypeBackup, topology.TypeRestore, topology.TypeDrained, topology.TypeExperimental:
		default:
			t.Errorf("type %q is not a Vitess tablet type", tb.Type)
		}
		switch tb.State {
		case topology.StateServing, topology.StateNotServing, topology.StateDraining:
		default:
			t.Errorf("state %q is not a serving state", tb.State)
		}
		switch tb.Replication {
		case "", topology.ReplicationSemiSync, topology.ReplicationAsync:
		default:
			t.Errorf("replication %q", tb.Replication)
		}
		if tb.ReplicationLag < 0 {
			t.Errorf("negative lag %v", tb.ReplicationLag)
		}
		for _, tm := range []time.Time{tb.PrimaryTermStart, tb.ServingSince} {
			if !tm.IsZero() && tm.Location() != time.UTC {
				t.Errorf("time %v not in UTC", tm)
			}
		}
		if tb.LagHeld {
			t.Error("DecodeTablet set LagHeld, which only the Builder sets")
		}
		// A valid record goes into a Builder, a shard and a Topology.
		b := topology.NewBuilder()
		if err := b.Put(topology.TabletsPrefix+alias, data); err != nil {
			t.Fatalf("Builder.Put of a record DecodeTablet accepts: %v", err)
		}
		topo := b.Build(1)
		if s := topo.Shards[topology.ShardKey{Keyspace: tb.Keyspace, Shard: tb.Shard}]; s == nil || len(s.Tablets) != 1 {
			t.Errorf("tablet not in its shard %s/%s", tb.Keyspace, tb.Shard)
		}
	})
}

func FuzzDecodeKeyspace(f *testing.F) {
	f.Add("commerce", []byte(designKeyspace))
	f.Fuzz(func(t *testing.T, name string, data []byte) {
		ks, err := topology.DecodeKeyspace(name, data)
		if err != nil {
			if ks != nil {
				t.Fatalf("keyspace %+v returned with error %v", ks, err)
			}
			checkFieldError(t, err, "keyspace "+name)
			return
		}
		if ks.Name != name || ks.PortName == "" {
			t.Errorf("name %q port name %q", ks.Name, ks.PortName)
		}
		if ks.Lag.Degraded < 0 || ks.Lag.Max < 0 || ks.Lag.Degraded > ks.Lag.Max || ks.Lag.MinServing < 0 {
			t.Errorf("lag policy %+v: want 0 <= degraded <= max, min_serving >= 0", ks.Lag)
		}
		if ks.ReadAfterWriteMaxLag < 0 || ks.Ramp.Window < 0 {
			t.Errorf("negative duration: read-after-write %v, ramp window %v", ks.ReadAfterWriteMaxLag, ks.Ramp.Window)
		}
		if p := ks.Ramp.MinWeightPercent; p < 1 || p > 100 {
			t.Errorf("ramp.min_weight_percent %d out of 1..100", p)
		}
		if ks.BufferWindow < 100*time.Millisecond || ks.BufferWindow > 5*time.Minute {
			t.Errorf("buffer window %v out of range", ks.BufferWindow)
		}
		for i, v := range ks.SchemaVersions {
			if v == "" {
				t.Errorf("schema_versions[%d] empty", i)
			}
		}
		if od := ks.OutlierDetection; od.Enabled && (od.Interval <= 0 || od.BaseEjectionTime <= 0) {
			t.Errorf("outlier detection enabled with interval %v, base ejection %v", od.Interval, od.BaseEjectionTime)
		}
		if ks.OutlierDetection.MaxEjectionPercent > 100 || ks.OutlierDetection.FailurePercentThreshold > 100 {
			t.Errorf("outlier detection percentages %+v", ks.OutlierDetection)
		}
	})
}

func FuzzParseShardName(f *testing.F) {
	f.Add("-80", "7fffffffffffffff")
	f.Fuzz(func(t *testing.T, name, id string) {
		r, err := topology.ParseShardName(name)
		if err != nil {
			if r != (topology.KeyRange{}) {
				t.Fatalf("range %+v returned with error %v", r, err)
			}
			return
		}
		for _, b := range []string{r.Start, r.End} {
			if len(b) > topology.KeyspaceIDHexLen || len(b)%2 != 0 || strings.Trim(b, "0123456789abcdef") != "" {
				t.Fatalf("bound %q of %q is not lower-case hex of even length <= 16", b, name)
			}
		}
		start, end := r.PaddedBounds()
		if len(start) != topology.KeyspaceIDHexLen || (end != "" && len(end) != topology.KeyspaceIDHexLen) {
			t.Fatalf("PaddedBounds() = %q, %q: want 16 digits", start, end)
		}
		if end != "" && start >= end {
			t.Fatalf("PaddedBounds() = %q, %q: empty range", start, end)
		}
		if (end == "") != (r.End == "") {
			t.Fatalf("End %q but padded end %q", r.End, end)
		}
		if r.Full() && (start != strings.Repeat("0", 16) || end != "") {
			t.Fatalf("full range with bounds %q, %q", start, end)
		}
		// Contains agrees with the padded bounds, for the fuzzed id and
		// for the ids at the edges of the range.
		valid := func(id string) bool {
			return len(id) == topology.KeyspaceIDHexLen && strings.Trim(strings.ToLower(id), "0123456789abcdef") == ""
		}
		probes := []string{id, strings.ToUpper(id), start, strings.ToUpper(start)}
		if end != "" {
			probes = append(probes, end, predecessor(end))
		}
		if start != strings.Repeat("0", 16) {
			probes = append(probes, predecessor(start))
		}
		for _, p := range probes {
			lp := strings.ToLower(p)
			want := valid(p) && lp >= start && (end == "" || lp < end)
			if got := r.Contains(p); got != want {
				t.Errorf("%q.Contains(%q) = %v, want %v (bounds %q, %q)", name, p, got, want, start, end)
			}
		}
		if !r.Contains(start) {
			t.Errorf("%q does not contain its start %q", name, start)
		}
		if end != "" && (r.Contains(end) || !r.Contains(predecessor(end))) {
			t.Errorf("%q: end %q contained or its predecessor not", name, end)
		}
		// The canonical name parses to the same range.
		if !r.Full() {
			again, err := topology.ParseShardName(r.Start + "-" + r.End)
			if err != nil || again != r {
				t.Errorf("re-parsing %q: %+v, %v; want %+v", r.Start+"-"+r.End, again, err, r)
			}
		}
		if r.Less(r) {
			t.Errorf("%q is Less than itself", name)
		}
	})
}

// predecessor returns the 16-digit hex id just below a non-zero one.
func predecessor(id string) string {
	b := []byte(id)
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] != '0' {
			switch b[i] {
			case 'a':
				b[i] = '9'
			default:
				b[i]--
			}
			return string(b)
		}
		b[i] = 'f'
	}
	return string(b)
}
