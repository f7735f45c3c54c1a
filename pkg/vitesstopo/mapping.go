package vitesstopo

import (
	"encoding/json"
	"fmt"
	"maps"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	querypb "vitess.io/vitess/go/vt/proto/query"
	topodatapb "vitess.io/vitess/go/vt/proto/topodata"
	vttimepb "vitess.io/vitess/go/vt/proto/vttime"

	"github.com/shardmesh/shardmesh/pkg/topology"
	"github.com/shardmesh/shardmesh/pkg/vitesshealth"
)

// Tablet tags shardmesh reads.
const (
	TagSchemaVersion = "schema_version" // the tablet's schema version
	TagWeight        = "weight"         // relative capacity, 1..10000
)

// grpcPort is the port_map entry of a vttablet's gRPC port: its health
// stream, and the port_name of keyspaces by default.
const grpcPort = "grpc"

// mapLocked returns the shardmesh records (relative keys) that the Vitess
// records and the tablets' health stand for.
func (s *Source) mapLocked(v view) map[string][]byte {
	out := map[string][]byte{}
	for name := range v.cells {
		out[topology.CellsPrefix+name] = s.cellRecord(name, v)
	}
	memo := make(map[string]tabletMemo, len(v.tablets))
	for alias, t := range v.tablets {
		in := tabletInputs{
			tablet: t, health: s.health[alias], keyspace: v.keyspaces[t.GetKeyspace()],
			shard: v.shards[topology.ShardKey{Keyspace: t.GetKeyspace(), Shard: t.GetShard()}],
		}
		m, ok := s.memo[alias]
		if !ok || m.in != in {
			m = tabletMemo{in: in, rec: tabletRecord(in)}
		}
		memo[alias] = m
		if m.rec != nil {
			out[topology.TabletsPrefix+alias] = m.rec
		}
	}
	s.memo = memo
	if v.rules != nil {
		type rule struct {
			From string `json:"from_keyspace"`
			To   string `json:"to_keyspace"`
		}
		var rules []rule
		for _, r := range v.rules.GetRules() {
			rules = append(rules, rule{r.GetFromKeyspace(), r.GetToKeyspace()})
		}
		out[topology.RulesKey] = mustJSON(map[string]any{"rules": rules})
	}
	return out
}

// tabletInputs is everything tabletRecord reads for one tablet, and the
// key of its memo. Decoded
// records are replaced, never modified, so pointer equality means the same
// record; a Status is a value.
type tabletInputs struct {
	tablet   *topodatapb.Tablet
	health   vitesshealth.Status
	keyspace *topodatapb.Keyspace
	shard    *topodatapb.Shard
}

// tabletMemo is a tablet's mapped record and the inputs it was mapped from,
// so that a build re-maps only the tablets whose inputs changed.
type tabletMemo struct {
	in  tabletInputs
	rec []byte
}

// cellRecord places a Vitess cell: the overlay's cell record when there is
// one; else region = the first (by name) cells alias that lists the cell,
// or the cell's own name, and zone = the cell name.
func (s *Source) cellRecord(name string, v view) []byte {
	if rec, ok := s.overlay.cells[name]; ok {
		return rec
	}
	region := name
	for _, a := range slices.Sorted(maps.Keys(v.aliases)) {
		if slices.Contains(v.aliases[a].GetCells(), name) {
			region = a
			break
		}
	}
	return mustJSON(map[string]string{"region": region, "zone": name})
}

// tabletRecord maps a Vitess tablet and its health onto a shardmesh tablet
// record, or returns nil for a tablet outside any shard (unassigned spare)
// or of type UNKNOWN (still initialising).
//
// The health stream is authoritative for serving state, lag and health
// error: without a connected stream the tablet is NOT_SERVING. A tablet
// claims the primary role when its record or its stream says PRIMARY,
// with the newest term either one (or the shard record, for the shard's
// primary_alias) reports, so a reparent takes effect from whichever source
// reports it first and the topology fences the older term.
func tabletRecord(in tabletInputs) []byte {
	t, h := in.tablet, in.health
	if t.GetKeyspace() == "" || t.GetType() == topodatapb.TabletType_UNKNOWN {
		return nil
	}
	alias := aliasString(t.GetAlias())
	resp := h.Response
	typ := t.GetType()
	if h.Connected && resp.GetTarget().GetTabletType() != topodatapb.TabletType_UNKNOWN {
		typ = resp.GetTarget().GetTabletType()
	}
	term := vtTime(t.GetPrimaryTermStartTime())
	if ts := resp.GetPrimaryTermStartTimestamp(); h.Connected && ts > 0 {
		term = later(term, time.Unix(ts, 0))
	}
	sh := in.shard
	if aliasString(sh.GetPrimaryAlias()) == alias {
		term = later(term, vtTime(sh.GetPrimaryTermStartTime()))
	}
	if t.GetType() == topodatapb.TabletType_PRIMARY || (h.Connected && resp.GetTarget().GetTabletType() == topodatapb.TabletType_PRIMARY) {
		typ = topodatapb.TabletType_PRIMARY
	}
	if typ == topodatapb.TabletType_UNKNOWN {
		return nil
	}

	ports := map[string]int32{}
	maps.Copy(ports, t.GetPortMap())
	if p := t.GetMysqlPort(); p != 0 {
		ports["mysql"] = p
	}
	rec := map[string]any{
		"keyspace": t.GetKeyspace(),
		"shard":    t.GetShard(),
		"type":     strings.ToLower(typ.String()),
		"cell":     t.GetAlias().GetCell(),
		"hostname": t.GetHostname(),
		"port_map": ports,
		"tags":     t.GetTags(),
	}
	if v := t.GetTags()[TagSchemaVersion]; v != "" {
		rec["schema_version"] = v
	}
	if w, ok := t.GetTags()[TagWeight]; ok {
		n, err := strconv.ParseInt(w, 10, 64)
		if err != nil {
			n = -1 // fails validation, naming the field
		}
		rec["weight"] = n
	}
	if !term.IsZero() {
		rec["primary_term_start"] = term.UTC().Format(time.RFC3339Nano)
	}
	if typ == topodatapb.TabletType_REPLICA {
		switch in.keyspace.GetDurabilityPolicy() {
		case "semi_sync", "cross_cell":
			rec["replication"] = topology.ReplicationSemiSync
		case "none":
			rec["replication"] = topology.ReplicationAsync
		}
	}
	state, herr := healthState(t, h)
	rec["state"], rec["health_error"] = state, herr
	if state == topology.StateServing {
		rec["replication_lag_seconds"] = resp.GetRealtimeStats().GetReplicationLagSeconds()
		if !h.ServingSince.IsZero() {
			rec["serving_since"] = h.ServingSince.UTC().Format(time.RFC3339Nano)
		}
	}
	return mustJSON(rec)
}

// healthState is the serving state and health error of a tablet from its
// health stream.
func healthState(t *topodatapb.Tablet, h vitesshealth.Status) (topology.ServingState, string) {
	resp := h.Response
	switch {
	case !h.Connected && h.Err != "":
		return topology.StateNotServing, "health stream: " + h.Err
	case !h.Connected:
		return topology.StateNotServing, "health stream: no response yet"
	}
	if err := targetMismatch(t, resp); err != "" {
		return topology.StateNotServing, err
	}
	if !resp.GetServing() {
		return topology.StateNotServing, resp.GetRealtimeStats().GetHealthError()
	}
	return topology.StateServing, resp.GetRealtimeStats().GetHealthError()
}

// targetMismatch describes how a health response names another tablet or
// another keyspace/shard than the tablet's record, "" when it does not.
func targetMismatch(t *topodatapb.Tablet, resp *querypb.StreamHealthResponse) string {
	tg := resp.GetTarget()
	if a := resp.GetTabletAlias(); a != nil && aliasString(a) != aliasString(t.GetAlias()) {
		return fmt.Sprintf("health stream is from tablet %s, not %s", aliasString(a), aliasString(t.GetAlias()))
	}
	if tg.GetKeyspace() != t.GetKeyspace() || tg.GetShard() != t.GetShard() {
		return fmt.Sprintf("health stream target %s/%s does not match the topology record's %s/%s",
			tg.GetKeyspace(), tg.GetShard(), t.GetKeyspace(), t.GetShard())
	}
	return ""
}

// healthTargets is the gRPC address of every tablet that has one.
func healthTargets(v view) map[string]string {
	out := map[string]string{}
	for alias, t := range v.tablets {
		p, ok := t.GetPortMap()[grpcPort]
		if !ok || t.GetHostname() == "" || t.GetKeyspace() == "" {
			continue
		}
		out[alias] = net.JoinHostPort(t.GetHostname(), strconv.Itoa(int(p)))
	}
	return out
}

func vtTime(t *vttimepb.Time) time.Time {
	if t == nil || (t.GetSeconds() == 0 && t.GetNanoseconds() == 0) {
		return time.Time{}
	}
	return time.Unix(t.GetSeconds(), int64(t.GetNanoseconds()))
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("vitesstopo: marshal a record: %v", err))
	}
	return b
}
