package translate_test

import (
	"cmp"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	gocmp "github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/anypb"
	"sigs.k8s.io/yaml"

	"github.com/shardmesh/shardmesh/internal/topotest"
	"github.com/shardmesh/shardmesh/pkg/topology"
	"github.com/shardmesh/shardmesh/pkg/translate"
	"github.com/shardmesh/shardmesh/pkg/weights"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/ from the current output")

// goldenNow is the clock of every golden rendering.
var goldenNow = time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)

// Node groups by the name they have in golden file names.
var (
	envoyEast = translate.Group{Kind: weights.KindEnvoy, Region: "us-east-1", Zone: "us-east-1a"}
	grpcEast  = translate.Group{Kind: weights.KindGRPC, Region: "us-east-1", Zone: "us-east-1a"}
	envoyWest = translate.Group{Kind: weights.KindEnvoy, Region: "us-west-2", Zone: "us-west-2a"}
	grpcWest  = translate.Group{Kind: weights.KindGRPC, Region: "us-west-2", Zone: "us-west-2a"}

	standardGroups = map[string]translate.Group{
		"envoy-us-east-1a": envoyEast, "grpc-us-east-1a": grpcEast,
		"envoy-us-west-2a": envoyWest, "grpc-us-west-2a": grpcWest,
	}
)

// goldenTypes maps the type part of golden file names to xDS types.
var goldenTypes = []struct {
	name    string
	typeURL string
	new     func() proto.Message
}{
	{"clusters", resourcev3.ClusterType, func() proto.Message { return &clusterv3.Cluster{} }},
	{"endpoints", resourcev3.EndpointType, func() proto.Message { return &endpointv3.ClusterLoadAssignment{} }},
	{"listeners", resourcev3.ListenerType, func() proto.Message { return &listenerv3.Listener{} }},
	{"routes", resourcev3.RouteType, func() proto.Message { return &routev3.RouteConfiguration{} }},
	{"scopes", resourcev3.ScopedRouteType, func() proto.Message { return &routev3.ScopedRouteConfiguration{} }},
}

// rendered is a case's topology and the snapshot of each of its groups.
type rendered struct {
	topo  *topology.Topology
	snaps map[string]translate.Resources // by group name
}

// seedRecords reads the records of testdata/<name>.topology.yaml.
func seedRecords(t *testing.T, name string) []topology.Record {
	return topotest.Records(t, filepath.Join("testdata", name+".topology.yaml"))
}

// loadSeed puts the records of testdata/<name>.topology.yaml into a new
// Builder.
func loadSeed(t *testing.T, name string) *topology.Builder {
	return topotest.Builder(t, filepath.Join("testdata", name+".topology.yaml"))
}

// renderGroups translates every group's resources and checks
// what holds for every snapshot: each resource passes ValidateAll, and the
// snapshot is consistent (see consistent).
func renderGroups(t *testing.T, topo *topology.Topology, groups map[string]translate.Group) rendered {
	t.Helper()
	r := rendered{topo: topo, snaps: map[string]translate.Resources{}}
	for name, g := range groups {
		snap, err := translate.Translate(topo, g, goldenNow)
		if err != nil {
			t.Fatalf("group %s: %v", name, err)
		}
		if err := consistent(snap); err != nil {
			t.Errorf("group %s: inconsistent snapshot: %v", name, err)
		}
		for _, gt := range goldenTypes {
			for rn, res := range snap.GetResources(gt.typeURL) {
				v, ok := res.(interface{ ValidateAll() error })
				if !ok {
					t.Errorf("group %s: %s %s has no ValidateAll", name, gt.name, rn)
				} else if err := v.ValidateAll(); err != nil {
					t.Errorf("group %s: %s %s: %v", name, gt.name, rn, err)
				}
			}
		}
		r.snaps[name] = snap
	}
	return r
}

// consistent checks that every reference in a snapshot resolves: each EDS
// cluster has its assignment and each assignment its cluster, each
// listener's RDS name has its route configuration and each route
// configuration a listener, and each route's cluster exists.
// go-control-plane's Snapshot.Consistent does not follow api_listener, so
// it cannot check the listeners of proxyless gRPC clients.
func consistent(snap translate.Resources) error {
	clusters := snap.GetResources(resourcev3.ClusterType)
	assignments := snap.GetResources(resourcev3.EndpointType)
	routes := snap.GetResources(resourcev3.RouteType)
	var errs []string
	for name, res := range clusters {
		c := res.(*clusterv3.Cluster)
		if c.GetType() != clusterv3.Cluster_EDS {
			continue
		}
		eds := cmp.Or(c.GetEdsClusterConfig().GetServiceName(), name)
		if _, ok := assignments[eds]; !ok {
			errs = append(errs, "cluster "+name+": no assignment "+eds)
		}
	}
	for name := range assignments {
		if _, ok := clusters[name]; !ok {
			errs = append(errs, "assignment "+name+": no cluster")
		}
	}
	referenced := map[string]bool{}
	for name, res := range snap.GetResources(resourcev3.ListenerType) {
		l := res.(*listenerv3.Listener)
		anys := []*anypb.Any{l.GetApiListener().GetApiListener()}
		for _, fc := range l.GetFilterChains() {
			for _, f := range fc.GetFilters() {
				anys = append(anys, f.GetTypedConfig())
			}
		}
		for _, a := range anys {
			var hcm hcmv3.HttpConnectionManager
			if a == nil || a.UnmarshalTo(&hcm) != nil {
				continue
			}
			if srds := hcm.GetScopedRoutes(); srds != nil {
				// Envoy: every scope of the set names a route configuration.
				for sn, sres := range snap.GetResources(resourcev3.ScopedRouteType) {
					rn := sres.(*routev3.ScopedRouteConfiguration).GetRouteConfigurationName()
					referenced[rn] = true
					if _, ok := routes[rn]; !ok {
						errs = append(errs, "scope "+sn+": no route configuration "+rn)
					}
				}
				continue
			}
			rn := hcm.GetRds().GetRouteConfigName()
			referenced[rn] = true
			if _, ok := routes[rn]; !ok {
				errs = append(errs, "listener "+name+": no route configuration "+rn)
			}
		}
	}
	for name, res := range routes {
		if !referenced[name] {
			errs = append(errs, "route configuration "+name+": no listener uses it")
		}
		for _, vh := range res.(*routev3.RouteConfiguration).GetVirtualHosts() {
			for _, rt := range vh.GetRoutes() {
				targets := []string{rt.GetRoute().GetCluster()}
				for _, wc := range rt.GetRoute().GetWeightedClusters().GetClusters() {
					targets = append(targets, wc.GetName())
				}
				for _, c := range targets {
					if _, ok := clusters[c]; c != "" && !ok {
						errs = append(errs, "route configuration "+name+": no cluster "+c)
					}
				}
			}
		}
	}
	if len(errs) > 0 {
		sort.Strings(errs)
		return fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	return nil
}

// checkGolden compares every group's resources of every type with
// testdata/<case>.<group>.<type>.yaml, or rewrites the files with -update.
// Golden files of groups the case no longer renders are an error.
func checkGolden(t *testing.T, name string, r rendered) {
	t.Helper()
	want := map[string]bool{}
	for group, snap := range r.snaps {
		for _, gt := range goldenTypes {
			path := filepath.Join("testdata", fmt.Sprintf("%s.%s.%s.yaml", name, group, gt.name))
			want[path] = true
			got := sortedResources(snap.GetResources(gt.typeURL))
			if *update {
				data, err := marshalGolden(got)
				if err != nil {
					t.Fatalf("%s: %v", path, err)
				}
				if err := os.WriteFile(path, data, 0o644); err != nil {
					t.Fatal(err)
				}
				continue
			}
			data, err := os.ReadFile(path)
			if err != nil {
				t.Errorf("%v (run go test ./pkg/translate/ -update to create it)", err)
				continue
			}
			golden, err := unmarshalGolden(data, gt.new)
			if err != nil {
				t.Errorf("%s: %v", path, err)
				continue
			}
			if diff := gocmp.Diff(golden, got, protocmp.Transform()); diff != "" {
				t.Errorf("%s differs (-golden +got); run go test ./pkg/translate/ -update if the change is intended:\n%s", path, diff)
			}
		}
	}
	files, _ := filepath.Glob(filepath.Join("testdata", name+".*.yaml"))
	for _, f := range files {
		if !want[f] && f != filepath.Join("testdata", name+".topology.yaml") {
			if *update {
				os.Remove(f)
			} else {
				t.Errorf("stale golden file %s: no group of case %s renders it", f, name)
			}
		}
	}
}

// sortedResources returns a type's resources ordered by name.
func sortedResources(m map[string]types.Resource) []proto.Message {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	out := make([]proto.Message, len(names))
	for i, n := range names {
		out[i] = m[n]
	}
	return out
}

// marshalGolden renders resources as a YAML list, with the proto field
// names Envoy's own YAML uses.
func marshalGolden(msgs []proto.Message) ([]byte, error) {
	parts := make([]string, len(msgs))
	for i, m := range msgs {
		b, err := protojson.MarshalOptions{UseProtoNames: true}.Marshal(m)
		if err != nil {
			return nil, err
		}
		parts[i] = string(b)
	}
	return yaml.JSONToYAML([]byte("[" + strings.Join(parts, ",") + "]"))
}

func unmarshalGolden(data []byte, newMsg func() proto.Message) ([]proto.Message, error) {
	j, err := yaml.YAMLToJSON(data)
	if err != nil {
		return nil, err
	}
	var raws []json.RawMessage
	if err := json.Unmarshal(j, &raws); err != nil {
		return nil, err
	}
	out := make([]proto.Message, len(raws))
	for i, raw := range raws {
		out[i] = newMsg()
		if err := protojson.Unmarshal(raw, out[i]); err != nil {
			return nil, fmt.Errorf("resource %d: %w", i, err)
		}
	}
	return out, nil
}

// TestGolden renders every case of goldenCases (golden_cases_test.go) for
// its node groups, compares the result with the golden files, and runs the
// case's own checks of the routing it is about.
func TestGolden(t *testing.T) {
	for name, tc := range goldenCases {
		t.Run(name, func(t *testing.T) {
			b := loadSeed(t, name)
			for _, rec := range tc.put {
				_ = b.Put(rec.Key, rec.Value) // errors are Problems of the topology
			}
			groups := tc.groups
			if groups == nil {
				groups = standardGroups
			}
			r := renderGroups(t, b.Build(1), groups)
			checkGolden(t, name, r)
			if tc.check != nil {
				tc.check(t, r)
			}
		})
	}
}
