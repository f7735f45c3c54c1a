package translate

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/shardmesh/shardmesh/pkg/topology"
	"github.com/shardmesh/shardmesh/pkg/weights"
)

// routeSide is a keyspace that a class's traffic goes to and its weight
// (percent) of that traffic.
type routeSide struct {
	keyspace string
	shards   []*topology.Shard
	weight   uint32
	mysql    bool // the keyspace has a mysql_port_base: Envoy's TCP listeners may route to it
}

// routePlan is, for each class, the keyspaces its traffic goes to.
type routePlan map[weights.Class][]routeSide

// planRoutes applies keyspace routing rules and shifts to a keyspace's
// classes at now.
func planRoutes(topo *topology.Topology, ks *topology.Keyspace, shards []*topology.Shard, now time.Time) routePlan {
	plan := routePlan{}
	for _, c := range weights.Classes {
		own := routeSide{keyspace: ks.Name, shards: shards, weight: 100, mysql: hasMySQL(topo, ks.Name)}
		r, ok := weights.RedirectOf(topo, ks.Name, c, now)
		if !ok || r.Percent == 0 {
			plan[c] = keep(own)
			continue
		}
		own.weight = 100 - r.Percent
		plan[c] = keep(own, routeSide{keyspace: r.ToKeyspace, shards: topo.ShardsOf(r.ToKeyspace), weight: r.Percent, mysql: hasMySQL(topo, r.ToKeyspace)})
	}
	return plan
}

func hasMySQL(topo *topology.Topology, keyspace string) bool {
	ks, ok := topo.Keyspaces[keyspace]
	return ok && ks.MySQLPortBase != 0
}

// keep drops sides with no weight or no shards.
func keep(sides ...routeSide) []routeSide {
	return slices.DeleteFunc(sides, func(s routeSide) bool { return s.weight == 0 || len(s.shards) == 0 })
}

// key describes a plan completely: every field of every side (shards by
// name, which fixes their key range).
func (p routePlan) key() string {
	var b strings.Builder
	for _, c := range weights.Classes {
		b.WriteString(string(c))
		for _, sd := range p[c] {
			fmt.Fprintf(&b, "|%s:%d:%t:", sd.keyspace, sd.weight, sd.mysql)
			for _, s := range sd.shards {
				b.WriteString(s.Name)
				b.WriteByte(',')
			}
		}
		b.WriteByte(';')
	}
	return b.String()
}

// unsharded reports whether every side has a single shard, so that
// requests need no shard header.
func unsharded(sides []routeSide) bool {
	for _, sd := range sides {
		if len(sd.shards) != 1 {
			return false
		}
	}
	return len(sides) > 0
}

// shardNames is every shard name of the sides, in key range order.
func shardNames(sides []routeSide) []string {
	var all []*topology.Shard
	for _, sd := range sides {
		all = append(all, sd.shards...)
	}
	slices.SortStableFunc(all, func(a, b *topology.Shard) int {
		switch {
		case a.Range.Less(b.Range):
			return -1
		case b.Range.Less(a.Range):
			return 1
		}
		return strings.Compare(a.Name, b.Name)
	})
	var names []string
	for _, s := range all {
		if !slices.Contains(names, s.Name) {
			names = append(names, s.Name)
		}
	}
	return names
}

func shardNamed(shards []*topology.Shard, name string) *topology.Shard {
	for _, s := range shards {
		if s.Name == name {
			return s
		}
	}
	return nil
}

// pieces cuts the key space along every side's shard boundaries, so that
// each piece lies within one shard of each side.
func pieces(sides []routeSide) []topology.KeyRange {
	bounds := []string{""}
	for _, sd := range sides {
		for _, s := range sd.shards {
			start, end := s.Range.PaddedBounds()
			bounds = append(bounds, start, end)
		}
	}
	slices.Sort(bounds)
	bounds = slices.Compact(bounds)
	// "" sorts first but stands for both ends: the last piece is unbounded.
	var out []topology.KeyRange
	zero := strings.Repeat("0", topology.KeyspaceIDHexLen)
	var starts []string
	for _, b := range bounds {
		if b != "" && b != zero {
			starts = append(starts, b)
		}
	}
	prev := ""
	for _, b := range starts {
		out = append(out, topology.KeyRange{Start: prev, End: b})
		prev = b
	}
	return append(out, topology.KeyRange{Start: prev})
}

// shardHolding returns the shard whose range contains the whole piece.
func shardHolding(shards []*topology.Shard, piece topology.KeyRange) *topology.Shard {
	start, _ := piece.PaddedBounds()
	for _, s := range shards {
		if s.Range.Contains(start) {
			return s
		}
	}
	return nil
}
