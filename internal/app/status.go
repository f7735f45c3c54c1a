package app

import (
	"embed"
	"html/template"
	"io/fs"
	"net/http"
	"strings"
	"time"

	"github.com/shardmesh/shardmesh/pkg/weights"
)

//go:embed web
var webFiles embed.FS

var statusTemplates = template.Must(template.ParseFS(webFiles, "web/status.html"))

// registerStatus serves the status page on / and its parts: /status/body
// (the server-rendered body the page polls) and /static/ (its CSS and
// JavaScript, embedded in the binary: nothing is fetched from elsewhere).
func (a *App) registerStatus(mux *http.ServeMux) {
	static, _ := fs.Sub(webFiles, "web")
	mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) { a.renderStatus(w, r, "page") })
	mux.HandleFunc("GET /status/body", func(w http.ResponseWriter, r *http.Request) { a.renderStatus(w, r, "body") })
}

// renderStatus renders the page or its body for the client locality of
// ?locality=region/zone (default: the first cell's), ?kind=grpc|envoy and
// ?keyspace=K (default: every keyspace).
func (a *App) renderStatus(w http.ResponseWriter, r *http.Request, name string) {
	params := r.URL.Query()
	q := statusQuery{Kind: weights.ClientKind(params.Get("kind")), Keyspace: params.Get("keyspace")}
	if q.Kind != weights.KindEnvoy {
		q.Kind = weights.KindGRPC
	}
	if region, zone, ok := strings.Cut(params.Get("locality"), "/"); ok {
		q.Client = weights.Locality{Region: region, Zone: zone}
	}
	topo := a.Cache.Topology()
	now := time.Now()
	page := buildStatus(topo, a.Watcher.Health(), a.Server.Nodes(), q, now)
	if q.Client == (weights.Locality{}) && len(page.Localities) > 0 {
		q.Client = page.Localities[0]
		page = buildStatus(topo, a.Watcher.Health(), a.Server.Nodes(), q, now)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if err := statusTemplates.ExecuteTemplate(w, name, page); err != nil {
		a.log.Warn("status page", "error", err)
	}
}
