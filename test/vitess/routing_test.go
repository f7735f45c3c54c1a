package vitess_test

import (
	"context"
	"testing"

	querypb "vitess.io/vitess/go/vt/proto/query"
	vschemapb "vitess.io/vitess/go/vt/proto/vschema"
)

var (
	toPrimary = []string{"x-tablet-type", "primary"}
	toReplica = []string{"x-tablet-type", "replica"}
)

func hdr(pairs ...[]string) []string {
	var out []string
	for _, p := range pairs {
		out = append(out, p...)
	}
	return out
}

// Shards of a Vitess keyspace route by x-shard and x-keyspace-id to the
// primaries the Vitess topology names.
func TestShardRouting(t *testing.T) {
	e := newEnv(t)
	c := e.dial(inR1A, "commerce")
	routesTo(t, c, []string{"zone1-0000000101"}, hdr(toPrimary, []string{"x-shard", "-80"})...)
	routesTo(t, c, []string{"zone2-0000000211"}, hdr(toPrimary, []string{"x-shard", "80-"})...)
	routesTo(t, c, []string{"zone2-0000000211"}, hdr(toPrimary, []string{"x-keyspace-id", "c000000000000000"})...)
	routesTo(t, c, []string{"zone1-0000000102"}, hdr(toReplica, []string{"x-shard", "-80"})...)
}

// Replica reads fail over zone → region → other region as tablets stop
// serving in their health streams, and come back when they serve again.
func TestZoneRegionFailoverFromHealthStreams(t *testing.T) {
	e := newEnv(t)
	c := e.dial(inR1A, "commerce")
	reads := hdr(toReplica, []string{"x-shard", "-80"})
	routesTo(t, c, []string{"zone1-0000000102"}, reads...)

	notServing := func(r *querypb.StreamHealthResponse) { r.Serving = false }
	e.tablets["zone1-0000000102"].Health.Set(notServing)
	routesTo(t, c, []string{"zone2-0000000201"}, reads...) // same region, other zone
	e.tablets["zone2-0000000201"].Health.Set(notServing)
	routesTo(t, c, []string{"zone3-0000000301"}, reads...) // other region
	e.tablets["zone1-0000000102"].Health.Set(func(r *querypb.StreamHealthResponse) { r.Serving = true })
	routesTo(t, c, []string{"zone1-0000000102"}, reads...)
}

// A replica whose stream reports lag above the keyspace's lag.max (an
// overlay policy) is excluded while others are eligible.
func TestLagExclusion(t *testing.T) {
	e := newEnv(t)
	c := e.dial(inR1A, "commerce")
	reads := hdr(toReplica, []string{"x-shard", "-80"})
	routesTo(t, c, []string{"zone1-0000000102"}, reads...)
	e.tablets["zone1-0000000102"].Health.Set(func(r *querypb.StreamHealthResponse) { r.RealtimeStats.ReplicationLagSeconds = 60 })
	routesTo(t, c, []string{"zone2-0000000201"}, reads...)
	e.tablets["zone1-0000000102"].Health.Set(func(r *querypb.StreamHealthResponse) { r.RealtimeStats.ReplicationLagSeconds = 1 })
	routesTo(t, c, []string{"zone1-0000000102"}, reads...)
}

// A tablet deleted from the Vitess topology stops receiving traffic and
// its health stream is closed.
func TestTabletDeletedFromTopology(t *testing.T) {
	e := newEnv(t)
	c := e.dial(inR2A, "commerce")
	reads := hdr(toReplica, []string{"x-shard", "-80"})
	routesTo(t, c, []string{"zone3-0000000301"}, reads...)
	e.tablets["zone3-0000000301"].Stop() // so that only the topology can say where it went
	e.vt.DeleteTablet(e.tablets["zone3-0000000301"])
	routesTo(t, c, []string{"zone1-0000000102", "zone2-0000000201"}, reads...)
}

// Vitess keyspace routing rules (what MoveTables switches) move a
// keyspace's traffic to another keyspace.
func TestKeyspaceRoutingRules(t *testing.T) {
	e := newEnv(t)
	c := e.dial(inR1A, "orders")
	routesTo(t, c, []string{"zone1-0000000401"}, toPrimary...)
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if err := e.vt.TS.CreateKeyspaceRoutingRules(ctx, &vschemapb.KeyspaceRoutingRules{
		Rules: []*vschemapb.KeyspaceRoutingRule{{FromKeyspace: "orders", ToKeyspace: "orders2"}},
	}); err != nil {
		t.Fatal(err)
	}
	routesTo(t, c, []string{"zone1-0000000501"}, toPrimary...)
}

// A tablet restarted on another port is followed: its health stream moves
// to the new address and traffic follows it there.
func TestTabletRestartedOnNewPort(t *testing.T) {
	e := newEnv(t)
	c := e.dial(inR2A, "commerce")
	reads := hdr(toReplica, []string{"x-shard", "-80"})
	tb := e.tablets["zone3-0000000301"]
	routesTo(t, c, []string{tb.AliasString()}, reads...)
	opened := tb.Health.Opened()
	e.vt.Restart(tb)
	routesTo(t, c, []string{tb.AliasString()}, reads...)
	if tb.Health.Opened() <= opened {
		t.Errorf("no health stream was opened to the new port")
	}
}
