package translate

import (
	"fmt"
	"slices"
	"time"

	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"

	"github.com/shardmesh/shardmesh/pkg/clients"
	"github.com/shardmesh/shardmesh/pkg/topology"
	"github.com/shardmesh/shardmesh/pkg/weights"
)

// Item is one resource of a group's resources, not yet built. Build reads
// nothing but the name and what Key holds (Key is comparable), so a cache
// may serve what an equal key built before instead of calling Build.
type Item struct {
	TypeURL string
	Name    string
	Key     any
	build   func() types.Resource // nil: Key builds it (a keyBuilder)
}

// Build builds the item's resource.
func (it Item) Build() types.Resource {
	if it.build != nil {
		return it.build()
	}
	return it.Key.(keyBuilder).build(it.Name)
}

// keyBuilder is a key that holds every input of its resource: the build
// cannot read anything the key leaves out.
type keyBuilder interface {
	build(name string) types.Resource
}

// TypeURLs are the resource types a group receives, in a fixed order.
var TypeURLs = []string{resourcev3.ClusterType, resourcev3.EndpointType, resourcev3.ListenerType, resourcev3.RouteType, resourcev3.ScopedRouteType}

// Memo keys, one type per kind of resource: each holds every input of its
// Build.
type (
	clusterKey struct {
		keyspace *topology.Keyspace
		name     string
		class    weights.Class
		mysql    bool // a TCP cluster for MySQL traffic
	}
	// assignmentKey is every input of weights.Assign: the shard's inputs
	// (keyspace, tablets, cells, overrides and time phases) and the request.
	assignmentKey struct {
		inputs   weights.InputsKey
		class    weights.Class
		locality weights.Locality
		kind     weights.ClientKind
		mysql    bool // addressed on the tablets' MySQL port
	}
	routeKey struct {
		keyspace *topology.Keyspace
		plan     string // routePlan.key()
		encoding clients.Encoding
	}
	listenerKey string
	scopeKey    string
)

func (k clusterKey) build(name string) types.Resource {
	if k.mysql {
		return makeTCPCluster(name, k.keyspace, k.class)
	}
	return makeCluster(name, k.keyspace, k.class)
}

func (k assignmentKey) build(name string) types.Resource {
	return makeAssignment(name, weights.Assign(weights.Request{Inputs: weights.ShardInputs(k.inputs), Class: k.class,
		Client: k.locality, Kind: k.kind, MySQL: k.mysql}))
}

// KeyspaceInputs are everything a keyspace's resources are built from,
// resolved from a topology at one time: Keyspace reads nothing else
// (besides the group), so Key is a complete key of its result.
type KeyspaceInputs struct {
	ks     *topology.Keyspace
	plan   routePlan
	shards []weights.ShardInputs
	key    KeyspaceKey
}

// KeyspaceKey is KeyspaceInputs in comparable parts.
type KeyspaceKey struct {
	ks     *topology.Keyspace
	plan   string              // routePlan.key()
	shards []weights.InputsKey // per shard, in order
}

// Equal reports whether two keys are of the same inputs.
func (k KeyspaceKey) Equal(o KeyspaceKey) bool {
	return k.ks == o.ks && k.plan == o.plan && slices.Equal(k.shards, o.shards)
}

// Key returns the inputs' key.
func (in *KeyspaceInputs) Key() KeyspaceKey { return in.key }

// Keyspace returns the keyspace policy the inputs are of.
func (in *KeyspaceInputs) Keyspace() *topology.Keyspace { return in.ks }

// Resolve gathers a keyspace's inputs from a topology at now.
func Resolve(topo *topology.Topology, ks *topology.Keyspace, shards []*topology.Shard, now time.Time) *KeyspaceInputs {
	var r weights.Resolver
	return ResolveWith(&r, topo, ks, shards, now)
}

// ResolveWith is Resolve with shard inputs from r, which reuses those
// whose values did not change since its previous generation.
func ResolveWith(r *weights.Resolver, topo *topology.Topology, ks *topology.Keyspace, shards []*topology.Shard, now time.Time) *KeyspaceInputs {
	in := &KeyspaceInputs{ks: ks, plan: planRoutes(topo, ks, shards, now), shards: r.Resolve(topo, ks, shards, now)}
	in.key = KeyspaceKey{ks: ks, plan: in.plan.key(), shards: make([]weights.InputsKey, len(in.shards))}
	for i, s := range in.shards {
		in.key.shards[i] = s.Key()
	}
	return in
}

// Routed is a keyspace that has resources, with its shards.
type Routed struct {
	Keyspace *topology.Keyspace
	Shards   []*topology.Shard
}

// RoutedKeyspaces returns, in name order, every keyspace that has
// resources: those with tablets, and those whose traffic a routing rule or
// a shift sends elsewhere (they may have no tablets left once their data
// moved).
func RoutedKeyspaces(topo *topology.Topology) []Routed {
	names := topo.KeyspaceNames()
	for _, r := range topo.Rules {
		if !slices.Contains(names, r.FromKeyspace) {
			names = append(names, r.FromKeyspace)
		}
	}
	slices.Sort(names)
	out := make([]Routed, 0, len(names))
	for _, name := range names {
		ks, ok := topo.Keyspaces[name]
		if !ok {
			ks = topology.DefaultKeyspace(name) // only a routing rule names it
		}
		shards := topo.ShardsOf(name)
		if len(shards) == 0 && !redirected(topo, name) {
			continue
		}
		out = append(out, Routed{Keyspace: ks, Shards: shards})
	}
	return out
}

// redirected reports whether any class of the keyspace is routed elsewhere.
func redirected(topo *topology.Topology, keyspace string) bool {
	for _, r := range topo.Rules {
		if r.FromKeyspace == keyspace {
			return true
		}
	}
	for _, s := range topo.Shifts {
		if s.Keyspace == keyspace {
			return true
		}
	}
	return false
}

// Visible reports whether a group may see a keyspace: keyspaces without a
// tenant are shared, the others are served only to their own tenant.
func Visible(ks *topology.Keyspace, g Group) bool {
	return ks.Tenant == "" || ks.Tenant == g.Tenant
}

// Shared returns the items of a group that belong to no keyspace: Envoy's
// HTTP listener.
func Shared(g Group) []Item {
	if g.Kind != weights.KindEnvoy {
		return nil
	}
	return []Item{{resourcev3.ListenerType, HTTPListenerName, listenerKey(HTTPListenerName), func() types.Resource { return makeHTTPListener() }}}
}

// Keyspace returns a keyspace's items for a group, in a fixed order:
// Head, then every shard's ShardItems, then MySQLItems.
func Keyspace(in *KeyspaceInputs, g Group) []Item {
	items := Head(in, g)
	for i := range in.shards {
		items = append(items, ShardItems(in, i, g)...)
	}
	return append(items, MySQLItems(in, g)...)
}

// Head returns a keyspace's items that are not of one shard: its listener
// (gRPC) or scope (Envoy) and its route configuration.
func Head(in *KeyspaceInputs, g Group) []Item {
	ks, plan := in.ks, in.plan
	items := make([]Item, 0, 2)
	if g.Kind == weights.KindGRPC {
		items = append(items, Item{resourcev3.ListenerType, ks.Name, listenerKey(ks.Name), func() types.Resource { return makeAPIListener(ks.Name) }})
	} else {
		items = append(items, Item{resourcev3.ScopedRouteType, ks.Name, scopeKey(ks.Name), func() types.Resource { return makeScope(ks.Name) }})
	}
	return append(items, Item{resourcev3.RouteType, ks.Name, routeKey{ks, in.key.plan, g.Encoding},
		func() types.Resource { return makeRouteConfig(ks, plan, g.Encoding) }})
}

// Shards returns how many shards the inputs hold.
func (in *KeyspaceInputs) Shards() int { return len(in.shards) }

// ShardKey returns the key of the i-th shard's inputs: ShardItems of equal
// keys (for the same group) are equal.
func (in *KeyspaceInputs) ShardKey(i int) weights.InputsKey { return in.key.shards[i] }

// ShardItems returns the i-th shard's cluster and assignment of every
// class, in class order.
func ShardItems(in *KeyspaceInputs, i int, g Group) []Item {
	ks, si := in.ks, in.shards[i]
	items := make([]Item, 0, 2*len(weights.Classes))
	for _, c := range weights.Classes {
		name := ClusterName(ks.Name, si.Shard.Name, c)
		items = append(items,
			Item{TypeURL: resourcev3.ClusterType, Name: name, Key: clusterKey{ks, name, c, false}},
			Item{TypeURL: resourcev3.EndpointType, Name: name, Key: assignmentKey{si.Key(), c, g.Locality(), g.Kind, false}})
	}
	return items
}

// MySQLItems are the TCP listeners, clusters and assignments of an Envoy
// group's keyspace with a mysql_port_base; none for other groups and
// keyspaces.
func MySQLItems(in *KeyspaceInputs, g Group) []Item {
	if g.Kind != weights.KindEnvoy || in.ks.MySQLPortBase == 0 {
		return nil
	}
	return mysqlItems(in, g)
}

// mysqlItems are the TCP listeners, clusters and assignments of an Envoy
// group's keyspace with a mysql_port_base.
func mysqlItems(in *KeyspaceInputs, g Group) []Item {
	ks, plan := in.ks, in.plan
	var items []Item
	for i, si := range in.shards {
		s := si.Shard
		for _, c := range weights.Classes {
			cname := MySQLClusterName(ks.Name, s.Name, c)
			lname := "mysql:" + cname[:len(cname)-len("/mysql")]
			port := MySQLPort(ks, i, c)
			targets := tcpTargets(s, c, plan[c])
			items = append(items,
				Item{resourcev3.ListenerType, lname, listenerKey(fmt.Sprintf("%s@%d%v", lname, port, targets)),
					func() types.Resource { return makeTCPListener(lname, port, targets) }},
				Item{TypeURL: resourcev3.ClusterType, Name: cname, Key: clusterKey{ks, cname, c, true}},
				Item{TypeURL: resourcev3.EndpointType, Name: cname, Key: assignmentKey{si.Key(), c, g.Locality(), g.Kind, true}})
		}
	}
	return items
}

// Validate checks a built resource against its Envoy constraints (the
// protos' ValidateAll, which Envoy enforces when it loads config); the
// error names the resource.
func Validate(it Item, res types.Resource) error {
	v, ok := res.(interface{ ValidateAll() error })
	if !ok {
		return nil
	}
	if err := v.ValidateAll(); err != nil {
		return fmt.Errorf("%s %s: generated resource failed validation: %w", shortType(it.TypeURL), it.Name, err)
	}
	return nil
}

func shortType(typeURL string) string {
	if i := len("type.googleapis.com/"); len(typeURL) > i {
		return typeURL[i:]
	}
	return typeURL
}

// Resources are a group's resources by type URL and name.
type Resources map[string]map[string]types.Resource

// Translate returns every resource a group receives for a topology at now,
// built afresh: the plain form of what the cache serves (the golden files
// and the differential test compare against it). A resource that fails
// validation is an error naming it.
func Translate(topo *topology.Topology, g Group, now time.Time) (Resources, error) {
	out := Resources{}
	for _, u := range TypeURLs {
		out[u] = map[string]types.Resource{}
	}
	items := Shared(g)
	for _, r := range RoutedKeyspaces(topo) {
		if Visible(r.Keyspace, g) {
			items = append(items, Keyspace(Resolve(topo, r.Keyspace, r.Shards, now), g)...)
		}
	}
	for _, it := range items {
		res := it.Build()
		if err := Validate(it, res); err != nil {
			return nil, err
		}
		out[it.TypeURL][it.Name] = res
	}
	return out, nil
}

// GetResources returns the resources of one type by name.
func (r Resources) GetResources(typeURL string) map[string]types.Resource { return r[typeURL] }
