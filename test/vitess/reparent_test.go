package vitess_test

import (
	"fmt"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	querypb "vitess.io/vitess/go/vt/proto/query"
	topodatapb "vitess.io/vitess/go/vt/proto/topodata"

	"github.com/shardmesh/shardmesh/internal/vitesstest"
	"github.com/shardmesh/shardmesh/internal/xdstest"
)

var deadlineExceeded = codes.DeadlineExceeded.String()

// promote makes a tablet's health stream say it is the primary since term.
func promote(tb *vitesstest.Tablet, term time.Time) {
	tb.Health.Set(func(r *querypb.StreamHealthResponse) {
		r.Target.TabletType, r.PrimaryTermStartTimestamp = topodatapb.TabletType_PRIMARY, term.Unix()
	})
}

// demote makes a tablet's health stream say it is a replica.
func demote(tb *vitesstest.Tablet) {
	tb.Health.Set(func(r *querypb.StreamHealthResponse) {
		r.Target.TabletType, r.PrimaryTermStartTimestamp = topodatapb.TabletType_REPLICA, 0
	})
}

// PlannedReparentShard, as Vitess does it, reported first by the health
// streams and then by the topology; then a second one reported by the
// topology alone. Writes follow the newest term each time; the old
// primary gets no writes.
func TestPlannedReparent(t *testing.T) {
	e := newEnv(t)
	c := e.dial(inR1A, "commerce")
	writes := hdr(toPrimary, []string{"x-shard", "-80"})
	oldP, newP := e.tablets["zone1-0000000101"], e.tablets["zone1-0000000102"]
	routesTo(t, c, []string{oldP.AliasString()}, writes...)

	// The health streams change first: the new primary reports a newer
	// term while the topology still names the old one.
	term := time.Now().Add(time.Second)
	demote(oldP)
	promote(newP, term)
	routesTo(t, c, []string{newP.AliasString()}, writes...)
	e.vt.SetType(oldP, topodatapb.TabletType_REPLICA, time.Time{})
	e.vt.SetType(newP, topodatapb.TabletType_PRIMARY, term)
	e.vt.SetShardPrimary(newP, term)
	before := oldP.Backend.Calls()
	routesTo(t, c, []string{newP.AliasString()}, writes...)
	if n := oldP.Backend.Calls() - before; n != 0 {
		t.Errorf("the old primary served %d writes after the reparent", n)
	}
	// The old primary serves reads in its zone again.
	routesTo(t, c, []string{oldP.AliasString()}, hdr(toReplica, []string{"x-shard", "-80"})...)

	// Back again, the topology first: the streams still say 102 is the
	// primary, but the topology's newer term wins.
	term2 := term.Add(time.Second)
	e.vt.SetType(oldP, topodatapb.TabletType_PRIMARY, term2)
	e.vt.SetShardPrimary(oldP, term2)
	routesTo(t, c, []string{oldP.AliasString()}, writes...)
}

// EmergencyReparentShard: the primary dies (its health stream breaks and
// cannot reconnect), writes fail in a controlled way, and go to the
// promoted replica once it reports its new term.
func TestEmergencyReparent(t *testing.T) {
	e := newEnv(t)
	c := e.dial(inR1A, "commerce")
	writes := hdr(toPrimary, []string{"x-shard", "80-"})
	oldP, newP := e.tablets["zone2-0000000211"], e.tablets["zone1-0000000111"]
	routesTo(t, c, []string{oldP.AliasString()}, writes...)

	oldP.Stop()
	// No serving primary: writes are buffered (retried for the keyspace's
	// buffer window) and fail by their deadline or as UNAVAILABLE, never
	// reach a replica.
	xdstest.Eventually(t, wait, func() (bool, string) {
		got := c.Count(3, writes...)
		return got.Only(xdstest.Unavailable, deadlineExceeded), fmt.Sprintf("writes went to %v while the shard had no primary", got)
	})

	term := time.Now().Add(time.Second)
	promote(newP, term)
	routesTo(t, c, []string{newP.AliasString()}, writes...)
	e.vt.SetType(newP, topodatapb.TabletType_PRIMARY, term)
	e.vt.SetShardPrimary(newP, term)
	routesTo(t, c, []string{newP.AliasString()}, writes...)
}
