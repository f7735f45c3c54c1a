package app

import (
	"errors"
	"net/http"
	"time"

	"github.com/shardmesh/shardmesh/pkg/topology"
	"github.com/shardmesh/shardmesh/pkg/weights"
)

// debugExplain answers /debug/explain?keyspace=K&shard=S|keyspace_id=HEX
// &type=CLASS&region=R&zone=Z&tenant=T&kind=grpc|envoy with
// weights.Explain on the topology in force: the targets in priority order
// with weights and expected shares, and why every other tablet gets nothing.
func (a *App) debugExplain(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	req := weights.Query{Kind: weights.ClientKind(q.Get("kind")), Client: weights.Locality{Region: q.Get("region"), Zone: q.Get("zone")}}
	switch req.Kind {
	case "":
		req.Kind = weights.KindGRPC
	case weights.KindGRPC, weights.KindEnvoy:
	default:
		http.Error(w, "kind: want grpc or envoy", http.StatusBadRequest)
		return
	}
	class := q.Get("type")
	if class == "" {
		class = string(weights.ClassPrimary)
	}
	c, ok := weights.ParseClass(class)
	if !ok {
		http.Error(w, "type: want primary, read-after-write, replica or rdonly", http.StatusBadRequest)
		return
	}
	req.Class = c
	topo := a.Cache.Topology()
	if topo == nil {
		http.Error(w, "no topology yet", http.StatusServiceUnavailable)
		return
	}
	s, err := topo.Lookup(q.Get("keyspace"), q.Get("shard"), q.Get("keyspace_id"))
	switch {
	case errors.Is(err, topology.ErrNoShard):
		http.Error(w, err.Error(), http.StatusNotFound)
		return
	case err != nil:
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	req.Topology, req.Shard, req.Now = topo, s, time.Now()
	writeJSON(w, weights.Explain(req, q.Get("tenant")))
}
