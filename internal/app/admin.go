package app

import (
	"encoding/json"
	"net/http"
	"strings"
	"time"

	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/shardmesh/shardmesh/pkg/clients"
	"github.com/shardmesh/shardmesh/pkg/topology"
	"github.com/shardmesh/shardmesh/pkg/translate"
	"github.com/shardmesh/shardmesh/pkg/weights"
)

// adminHandler serves /healthz, /readyz and the debug views.
func (a *App) adminHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		if !a.Ready() {
			http.Error(w, "waiting for the first complete topology sync", http.StatusServiceUnavailable)
			return
		}
		if a.draining.Load() {
			http.Error(w, "draining: shutting down", http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /debug/nodes", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, a.Server.Nodes())
	})
	mux.HandleFunc("GET /debug/topology", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, topologyView(a.Cache.Topology()))
	})
	mux.HandleFunc("GET /debug/source", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, sourceView(a.SourceHealth()))
	})
	mux.Handle("GET /metrics", a.Metrics.Handler())
	mux.HandleFunc("GET /debug/config", a.debugConfig)
	mux.HandleFunc("GET /debug/azrank", a.debugAZRank)
	mux.HandleFunc("GET /debug/explain", a.debugExplain)
	a.registerStatus(mux)
	return mux
}

// debugConfig renders the resources a node with the query's region, zone,
// tenant, kind (grpc or envoy) and encoding (current, legacy or
// legacy-core) receives: the group's snapshot as its streams are served
// it, or for a group no node is in, the translation it would get.
func (a *App) debugConfig(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	g := translate.Group{Region: q.Get("region"), Zone: q.Get("zone"), Tenant: q.Get("tenant"), Kind: weights.ClientKind(q.Get("kind"))}
	switch g.Kind {
	case "":
		g.Kind = weights.KindGRPC
	case weights.KindGRPC, weights.KindEnvoy:
	default:
		http.Error(w, "kind: want grpc or envoy", http.StatusBadRequest)
		return
	}
	enc, err := clients.ParseEncoding(q.Get("encoding"))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	g.Encoding = enc
	topo := a.Cache.Topology()
	snap, ok, err := a.Cache.Render(g)
	switch {
	case err != nil:
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	case !ok || topo == nil:
		http.Error(w, "no topology yet", http.StatusServiceUnavailable)
		return
	}
	out := map[string]map[string]json.RawMessage{}
	for _, typ := range []string{resourcev3.ListenerType, resourcev3.ScopedRouteType, resourcev3.RouteType, resourcev3.ClusterType, resourcev3.EndpointType} {
		out[typ] = map[string]json.RawMessage{}
		for name, res := range snap.GetResources(typ) {
			b, err := protojson.MarshalOptions{UseProtoNames: true}.Marshal(res.(proto.Message))
			if err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			out[typ][name] = b
		}
	}
	writeJSON(w, map[string]any{"group": g.ID(), "revision": topo.Revision, "resources": out})
}

// debugAZRank ranks a shard's cells (?shard=keyspace/shard) for a zonal
// reparent: advice only.
func (a *App) debugAZRank(w http.ResponseWriter, r *http.Request) {
	ks, shard, ok := strings.Cut(r.URL.Query().Get("shard"), "/")
	topo := a.Cache.Topology()
	if !ok || topo == nil {
		http.Error(w, "want ?shard=<keyspace>/<shard>", http.StatusBadRequest)
		return
	}
	s, ok := topo.Shards[topology.ShardKey{Keyspace: ks, Shard: shard}]
	if !ok {
		http.Error(w, "no such shard", http.StatusNotFound)
		return
	}
	writeJSON(w, weights.RankCells(topo, s, time.Now()))
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}
