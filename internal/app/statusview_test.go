package app

import (
	"strings"
	"testing"
	"time"

	"github.com/shardmesh/shardmesh/pkg/topology"
	"github.com/shardmesh/shardmesh/pkg/topowatch"
	"github.com/shardmesh/shardmesh/pkg/weights"
)

// TestStatusBody renders the page body for a fleet with a tablet in a cell
// without a record, an invalid record, a shard without a primary and a
// lagging replica: each shows where an operator looks for it.
func TestStatusBody(t *testing.T) {
	b := topology.NewBuilder()
	for k, v := range map[string]string{
		"cells/zone1":              `{"region":"r1","zone":"r1a"}`,
		"keyspaces/ks":             `{"lag":{"degraded":"10s","max":"30s","min_serving":1}}`,
		"tablets/zone1-0000000001": `{"keyspace":"ks","shard":"0","type":"replica","hostname":"h","port_map":{"grpc":1},"state":"SERVING","replication_lag_seconds":1}`,
		"tablets/zone1-0000000002": `{"keyspace":"ks","shard":"0","type":"replica","hostname":"h","port_map":{"grpc":1},"state":"SERVING","replication_lag_seconds":45}`,
		"tablets/zone9-0000000003": `{"keyspace":"ks","shard":"0","type":"replica","hostname":"h","port_map":{"grpc":1},"state":"SERVING"}`,
		"tablets/zone1-0000000004": `{"keyspace":"ks","shard":"0","type":"replica","hostname":"h","port_map":{"grpc":70000},"state":"SERVING"}`,
	} {
		_ = b.Put(k, []byte(v))
	}
	page := buildStatus(b.Build(9), topowatch.Health{Connected: true, Synced: true}, nil, statusQuery{Client: weights.Locality{Region: "r1", Zone: "r1a"}, Kind: weights.KindGRPC}, time.Now())
	var out strings.Builder
	if err := statusTemplates.ExecuteTemplate(&out, "body", page); err != nil {
		t.Fatal(err)
	}
	html := out.String()
	for _, want := range []string{
		`revision <b id="revision">9</b>`,
		`<th>zone9<br><small>no cell record / -</small></th>`, // its own column
		`id="t-zone9-0000000003"`,
		`no serving primary`,
		`lag 45s &gt; lag.max 30s`,
		`invalid zone1-0000000004`,
		`tablet zone1-0000000004: port_map.grpc: 70000 out of range`,
	} {
		if !strings.Contains(html, want) {
			t.Errorf("status body lacks %q:\n%s", want, html)
		}
	}
	if other := buildStatus(b.Build(9), topowatch.Health{}, nil, statusQuery{Kind: weights.KindGRPC, Keyspace: "other"}, time.Now()); len(other.Shards) != 0 {
		t.Errorf("?keyspace=other shows %d shards of ks", len(other.Shards))
	}
}
