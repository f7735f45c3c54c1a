package xdscache_test

import (
	"maps"
	"path/filepath"
	"testing"
	"time"

	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"

	"github.com/shardmesh/shardmesh/internal/topotest"
	"github.com/shardmesh/shardmesh/pkg/topology"
	"github.com/shardmesh/shardmesh/pkg/translate"
	"github.com/shardmesh/shardmesh/pkg/weights"
)

// The memo tests build the golden cases' topologies (pkg/translate's
// testdata) for the golden files' groups at the golden files' time.
var (
	goldenNow      = time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	standardGroups = map[string]translate.Group{
		"envoy-us-east-1a": {Kind: weights.KindEnvoy, Region: "us-east-1", Zone: "us-east-1a"},
		"grpc-us-east-1a":  {Kind: weights.KindGRPC, Region: "us-east-1", Zone: "us-east-1a"},
		"envoy-us-west-2a": {Kind: weights.KindEnvoy, Region: "us-west-2", Zone: "us-west-2a"},
		"grpc-us-west-2a":  {Kind: weights.KindGRPC, Region: "us-west-2", Zone: "us-west-2a"},
	}
	goldenTypes = []struct{ name, typeURL string }{
		{"clusters", resourcev3.ClusterType}, {"endpoints", resourcev3.EndpointType},
		{"listeners", resourcev3.ListenerType}, {"routes", resourcev3.RouteType}, {"scopes", resourcev3.ScopedRouteType},
	}
)

func with(groups map[string]translate.Group, name string, g translate.Group) map[string]translate.Group {
	out := maps.Clone(groups)
	out[name] = g
	return out
}

// seedRecords reads the records of a golden case (pkg/translate's testdata).
func seedRecords(t *testing.T, name string) []topology.Record {
	return topotest.Records(t, filepath.Join("..", "translate", "testdata", name+".topology.yaml"))
}

// loadSeed puts a golden case's records into a new Builder.
func loadSeed(t *testing.T, name string) *topology.Builder {
	return topotest.Builder(t, filepath.Join("..", "translate", "testdata", name+".topology.yaml"))
}
