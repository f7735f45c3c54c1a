package main

import (
	"context"
	"fmt"
	"sort"

	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"sigs.k8s.io/yaml"

	"github.com/shardmesh/shardmesh/pkg/clients"
	"github.com/shardmesh/shardmesh/pkg/translate"
	"github.com/shardmesh/shardmesh/pkg/weights"
)

// runRender prints, as YAML, the resources a node in the given place would
// receive, translated from etcd exactly as xds-server does.
func runRender(ctx context.Context, e env, args []string) error {
	fs := subflags("render", e.stdout)
	var g translate.Group
	kind := fs.String("kind", "grpc", "grpc or envoy")
	encoding := fs.String("encoding", "current", "current, legacy or legacy-core (docs/clients.md)")
	fs.StringVar(&g.Region, "region", "", "node locality region")
	fs.StringVar(&g.Zone, "zone", "", "node locality zone")
	fs.StringVar(&g.Tenant, "tenant", "", "node tenant")
	if pos, err := parseSub(fs, args); err != nil || len(pos) > 0 {
		return fmt.Errorf("%w: render --region R --zone Z [--tenant T] [--kind grpc|envoy] [--encoding current|legacy|legacy-core]", errUsage)
	}
	switch g.Kind = weights.ClientKind(*kind); g.Kind {
	case weights.KindGRPC, weights.KindEnvoy:
	default:
		return fmt.Errorf("%w: --kind %q: want grpc or envoy", errUsage, *kind)
	}
	enc, err := clients.ParseEncoding(*encoding)
	if err != nil {
		return fmt.Errorf("%w: --encoding: %w", errUsage, err)
	}
	g.Encoding = enc
	topo, err := e.store.Load(ctx)
	if err != nil {
		return err
	}
	snap, err := translate.Translate(topo, g, e.now())
	if err != nil {
		return err
	}
	for _, typ := range []string{resourcev3.ListenerType, resourcev3.ScopedRouteType, resourcev3.RouteType, resourcev3.ClusterType, resourcev3.EndpointType} {
		res := snap.GetResources(typ)
		names := make([]string, 0, len(res))
		for n := range res {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			js, err := protojson.Marshal(res[n].(proto.Message))
			if err != nil {
				return err
			}
			y, err := yaml.JSONToYAML(js)
			if err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "---\n# %s %s\n%s", typ[len("type.googleapis.com/"):], n, y)
		}
	}
	return nil
}
