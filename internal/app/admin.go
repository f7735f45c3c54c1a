package app

import (
	"encoding/json"
	"net/http"

	"github.com/shardmesh/shardmesh/pkg/topology"
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
		w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /debug/nodes", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, a.Server.Nodes())
	})
	mux.HandleFunc("GET /debug/topology", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, topologyView(a.Cache.Topology()))
	})
	mux.HandleFunc("GET /debug/source", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, a.Watcher.Health())
	})
	return mux
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

type problemView struct {
	Key   string `json:"key"`
	Error string `json:"error"`
}

type topologyJSON struct {
	Revision  int64                         `json:"revision"`
	Cells     map[string]topology.Cell      `json:"cells"`
	Keyspaces map[string]*topology.Keyspace `json:"keyspaces"`
	Shards    map[string][]*topology.Tablet `json:"shards"`
	Problems  []problemView                 `json:"problems"`
}

func topologyView(t *topology.Topology) any {
	if t == nil {
		return nil
	}
	v := topologyJSON{Revision: t.Revision, Cells: t.Cells, Keyspaces: t.Keyspaces, Shards: map[string][]*topology.Tablet{}}
	for k, s := range t.Shards {
		v.Shards[k.String()] = s.Tablets
	}
	for _, p := range t.Problems {
		v.Problems = append(v.Problems, problemView{p.Key, p.Err.Error()})
	}
	return v
}
