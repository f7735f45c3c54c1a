package whatif

import (
	"cmp"
	"errors"
	"slices"
	"time"

	"github.com/shardmesh/shardmesh/pkg/topology"
	"github.com/shardmesh/shardmesh/pkg/weights"
)

// ErrNoEligible is returned by Report.Err when a change leaves some class
// that had an eligible tablet with none: its clients would get a
// controlled error (gRPC UNAVAILABLE, Envoy 503). shardctl what-if exits 4.
var ErrNoEligible = errors.New("a class would be left with no eligible tablet")

// Share is one tablet's expected share of a class's requests.
type Share struct {
	Alias  string  `json:"alias"`
	Cell   string  `json:"cell"`
	Region string  `json:"region"`
	Share  float64 `json:"share"` // 0..1
}

// Row is one client locality's view of one class of one shard.
type Row struct {
	Region   string        `json:"region"` // the client's locality
	Zone     string        `json:"zone"`
	Keyspace string        `json:"keyspace"`
	Shard    string        `json:"shard"`
	Class    weights.Class `json:"class"`
	Before   []Share       `json:"before"` // by share, largest first
	After    []Share       `json:"after"`
	// CrossRegion is the share of requests that leave the client's
	// region after the change; CrossRegionBefore before it.
	CrossRegionBefore float64 `json:"cross_region_before"`
	CrossRegion       float64 `json:"cross_region"`
	Changed           bool    `json:"changed"`
	// Lost is set when the class had an eligible tablet before and has
	// none after: the change leaves its clients with a controlled error.
	Lost bool `json:"lost"`
	// Why lists, when Lost, why each of the shard's tablets gets nothing
	// after the change.
	Why []weights.Decision `json:"why,omitempty"`
}

// Report compares a topology before and after hypothetical changes.
type Report struct {
	Changes []string           `json:"changes"`
	Kind    weights.ClientKind `json:"kind"`
	Rows    []Row              `json:"rows"` // by locality, keyspace, shard, class
	Lost    int                `json:"lost"` // rows with Lost set
}

// Err is ErrNoEligible when some row is Lost, else nil.
func (r Report) Err() error {
	if r.Lost > 0 {
		return ErrNoEligible
	}
	return nil
}

// Compare computes, for every client locality (each cell's region and
// zone) and every class of every shard of before, the split of requests
// before and after, as a client of the kind receives it. Each keyspace is
// evaluated as seen by its own tenant.
func Compare(before, after *topology.Topology, changes []Change, kind weights.ClientKind, now time.Time) Report {
	rep := Report{Kind: kind, Rows: []Row{}}
	for _, c := range changes {
		rep.Changes = append(rep.Changes, c.String())
	}
	for _, loc := range localities(before) {
		for _, ks := range before.KeyspaceNames() {
			tenant := before.Keyspaces[ks].Tenant
			for _, s := range before.ShardsOf(ks) {
				for _, class := range weights.Classes {
					req := weights.Query{Topology: before, Shard: s, Class: class, Client: loc, Kind: kind, Now: now}
					row := Row{Region: loc.Region, Zone: loc.Zone, Keyspace: ks, Shard: s.Name, Class: class}
					row.Before, row.CrossRegionBefore = shares(weights.Explain(req, tenant), loc)
					if as, ok := after.Shards[topology.ShardKey{Keyspace: ks, Shard: s.Name}]; ok {
						req.Topology, req.Shard = after, as
						x := weights.Explain(req, tenant)
						row.After, row.CrossRegion = shares(x, loc)
						row.Why = x.Excluded
					}
					row.Changed = !slices.Equal(row.Before, row.After)
					row.Lost = len(row.Before) > 0 && len(row.After) == 0
					if !row.Lost {
						row.Why = nil
					}
					if row.Lost {
						rep.Lost++
					}
					rep.Rows = append(rep.Rows, row)
				}
			}
		}
	}
	return rep
}

// shares lists the targets that get requests, largest share first, and
// the share that leaves the client's region.
func shares(x weights.Explanation, client weights.Locality) ([]Share, float64) {
	out := []Share{}
	cross := 0.0
	for _, t := range x.Targets {
		if t.Share <= 0 {
			continue
		}
		out = append(out, Share{Alias: t.Alias, Cell: t.Cell, Region: t.Region, Share: t.Share})
		if client.Region != "" && t.Region != client.Region {
			cross += t.Share
		}
	}
	slices.SortFunc(out, func(a, b Share) int { return cmp.Or(cmp.Compare(b.Share, a.Share), cmp.Compare(a.Alias, b.Alias)) })
	return out, cross
}

// localities are the distinct (region, zone) of the topology's cells, in order.
func localities(topo *topology.Topology) []weights.Locality {
	var out []weights.Locality
	for _, c := range topo.Cells {
		l := weights.Locality{Region: c.Region, Zone: c.Zone}
		if !slices.Contains(out, l) {
			out = append(out, l)
		}
	}
	slices.SortFunc(out, func(a, b weights.Locality) int {
		return cmp.Or(cmp.Compare(a.Region, b.Region), cmp.Compare(a.Zone, b.Zone))
	})
	return out
}
