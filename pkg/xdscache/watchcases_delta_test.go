package xdscache_test

import (
	"maps"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	"github.com/envoyproxy/go-control-plane/pkg/server/stream/v3"
)

// deltaStream plays a delta stream's part for one type, as
// go-control-plane's server does: it records each response's next version
// map in its subscription and ACKs it with the next watch.
type deltaStream struct {
	t       *testing.T
	w       cache.Cache
	typeURL string
	initial map[string]string
	sub     stream.Subscription
	out     chan cache.DeltaResponse
	cancel  func()
	nonce   int
}

// delta opens a delta stream on the cache: named, or wildcard without
// names; initial are the versions the client says it holds.
func (f *watchFleet) delta(typeURL string, initial map[string]string, names ...string) *deltaStream {
	s := &deltaStream{t: f.t, w: f.c.Watcher(), typeURL: typeURL, initial: initial, out: make(chan cache.DeltaResponse, 1),
		sub: stream.NewDeltaSubscription(names, nil, maps.Clone(initial), true)}
	s.watch()
	return s
}

func (s *deltaStream) watch() {
	s.t.Helper()
	req := &cache.DeltaRequest{Node: envoyZ1, TypeUrl: s.typeURL}
	if s.nonce == 0 {
		req.InitialResourceVersions = s.initial
	} else {
		req.ResponseNonce = strconv.Itoa(s.nonce)
	}
	cancel, err := s.w.CreateDeltaWatch(req, s.sub, s.out)
	if err != nil {
		s.t.Fatal(err)
	}
	s.cancel = cancel
}

// update subscribes and unsubscribes names, as a request does: the open
// watch is closed, and one opened with the new subscription.
func (s *deltaStream) update(subscribe, unsubscribe []string) {
	s.cancel()
	s.sub.UpdateResourceSubscriptions(subscribe, unsubscribe)
	s.watch()
}

// expect checks that the next response updates exactly the names updated
// and removes exactly removed, opens the next watch, and returns the
// versions of the resources sent.
func (s *deltaStream) expect(updated []string, removed ...string) map[string]string {
	s.t.Helper()
	var r cache.DeltaResponse
	select {
	case r = <-s.out:
	case <-time.After(5 * time.Second):
		s.t.Fatal("no delta response within 5s")
	}
	out, err := r.GetDeltaDiscoveryResponse()
	if err != nil {
		s.t.Fatal(err)
	}
	versions := map[string]string{}
	for _, res := range out.GetResources() {
		versions[res.GetName()] = res.GetVersion()
	}
	got, gone := slices.Sorted(maps.Keys(versions)), slices.Sorted(slices.Values(out.GetRemovedResources()))
	slices.Sort(updated)
	slices.Sort(removed)
	if !slices.Equal(got, updated) || !slices.Equal(gone, removed) {
		s.t.Fatalf("delta response updates %v and removes %v, want %v and %v", got, gone, updated, removed)
	}
	s.sub.SetReturnedResources(r.GetNextVersionMap())
	s.nonce++
	s.watch()
	return versions
}

func (s *deltaStream) none(why string) {
	s.t.Helper()
	select {
	case r := <-s.out:
		out, _ := r.GetDeltaDiscoveryResponse()
		s.t.Fatalf("%s: got a delta response updating %d and removing %v, want none", why, len(out.GetResources()), out.GetRemovedResources())
	default:
	}
}

// TestLinearDeltaWildcard ports linear_test.go TestLinearDeltaWildcard: a
// wildcard stream's first request is answered even with nothing to send,
// as Envoy needs to finish initializing; its next watch waits; a change
// sends every wildcard stream what changed.
func TestLinearDeltaWildcard(t *testing.T) {
	f := newWatchFleet(t, false) // keyspace ks removed: no assignment at all
	f.b.Delete("tablets/zone1-0000000100")
	f.b.Delete("tablets/zone2-0000000101")
	f.b.Delete("tablets/zone1-0000000102")
	f.b.Delete("tablets/zone2-0000000103")
	f.apply()
	if n := len(f.every(edsType)); n != 0 {
		t.Fatalf("the group has %d assignments, want none", n)
	}
	w1 := f.delta(edsType, nil)
	w1.expect(nil)
	w2 := f.delta(edsType, nil)
	w2.expect(nil)
	w1.none("nothing changed since its first response")
	w2.none("nothing changed since its first response")

	f.keyspace(2, true)
	f.apply()
	v1 := w1.expect(keyspaceNames(2))
	v2 := w2.expect(keyspaceNames(2))
	if !maps.Equal(v1, v2) {
		t.Errorf("two streams got different versions for the same resources: %v and %v", v1, v2)
	}
}

// TestLinearDeltaExistingResources ports linear_test.go
// TestLinearDeltaExistingResources: a stream gets the subscribed names
// that exist, and none of the others. Extended: unsubscribing sends
// nothing, and subscribing again sends the name again.
func TestLinearDeltaExistingResources(t *testing.T) {
	f := newWatchFleet(t, true)
	f.delta(edsType, nil, ksHiReplica, ks2Replica).expect([]string{ksHiReplica})
	s := f.delta(edsType, nil, ksLoReplica, ksHiReplica)
	s.expect([]string{ksLoReplica, ksHiReplica})

	s.update(nil, []string{ksHiReplica})
	s.none("it unsubscribed from a name")
	f.replica("80-", "NOT_SERVING")
	f.apply()
	s.none("it no longer subscribes to the name that changed")
	s.update([]string{ksHiReplica}, nil)
	s.expect([]string{ksHiReplica})
}

// TestLinearDeltaInitialResourcesVersionSet ports linear_test.go
// TestLinearDeltaInitialResourcesVersionSet: resources the client says it
// holds at their current version are not sent. The versions here come
// from another replica fed the same topology: versions are content
// hashes, so a client moving between replicas is not sent again what it
// has.
func TestLinearDeltaInitialResourcesVersionSet(t *testing.T) {
	other := newWatchFleet(t, true)
	held := other.delta(edsType, nil, ksLoReplica, ksHiReplica).expect([]string{ksLoReplica, ksHiReplica})

	f := newWatchFleet(t, true)
	f.delta(edsType, map[string]string{ksHiReplica: held[ksHiReplica]}, ksLoReplica, ksHiReplica).expect([]string{ksLoReplica})
	s := f.delta(edsType, held, ksLoReplica, ksHiReplica)
	s.none("the client holds every subscribed resource at its version")

	f.replica("80-", "NOT_SERVING")
	f.apply()
	if v := s.expect([]string{ksHiReplica}); v[ksHiReplica] == held[ksHiReplica] {
		t.Errorf("the changed resource kept version %q", v[ksHiReplica])
	}
}

// TestLinearDeltaResourceUpdate ports linear_test.go
// TestLinearDeltaResourceUpdate: a change sends the changed resource
// alone, at a new version.
func TestLinearDeltaResourceUpdate(t *testing.T) {
	f := newWatchFleet(t, true)
	s := f.delta(edsType, nil, ksLoReplica, ksHiReplica)
	before := s.expect([]string{ksLoReplica, ksHiReplica})
	f.replica("-80", "NOT_SERVING")
	f.apply()
	if after := s.expect([]string{ksLoReplica}); after[ksLoReplica] == before[ksLoReplica] {
		t.Errorf("the changed resource kept version %q", after[ksLoReplica])
	}
}

// TestLinearDeltaResourceDelete ports linear_test.go
// TestLinearDeltaResourceDelete: one change updating a subscribed
// resource and removing another sends the update and the removal.
func TestLinearDeltaResourceDelete(t *testing.T) {
	f := newWatchFleet(t, false)
	f.keyspace(2, true)
	f.apply()
	s := f.delta(edsType, nil, ksLoReplica, ks2Replica)
	s.expect([]string{ksLoReplica, ks2Replica})
	f.replica("-80", "NOT_SERVING")
	f.keyspace(2, false)
	f.apply()
	s.expect([]string{ksLoReplica}, ks2Replica)
}

// TestLinearDeltaMultiResourceUpdates ports linear_test.go
// TestLinearDeltaMultiResourceUpdates: changes to several resources at
// once, with resources added that the stream does not subscribe to and
// subscribed ones removed and added again; then the same for a wildcard
// stream, which hears of every addition and removal.
func TestLinearDeltaMultiResourceUpdates(t *testing.T) {
	f := newWatchFleet(t, false)
	f.keyspace(2, true)
	s := f.delta(edsType, nil, ksLoReplica, ks2Replica)
	s.none("before the first topology")
	f.apply()
	s.expect([]string{ksLoReplica, ks2Replica})

	f.replica("-80", "NOT_SERVING")
	f.tablet(201, "ks2", "0", "replica", "zone2", "NOT_SERVING")
	f.apply()
	s.expect([]string{ksLoReplica, ks2Replica})

	f.replica("-80", "SERVING")
	f.keyspace(3, true) // not subscribed
	f.keyspace(2, false)
	f.apply()
	s.expect([]string{ksLoReplica}, ks2Replica)

	f.keyspace(2, true)
	f.keyspace(3, false)
	f.apply()
	s.expect([]string{ks2Replica}) // ks3's removal is not its business

	w := f.delta(edsType, nil)
	w.expect(f.every(edsType))
	f.tablet(201, "ks2", "0", "replica", "zone2", "NOT_SERVING")
	f.keyspace(3, true)
	f.apply()
	w.expect(append(keyspaceNames(3), ks2Replica))

	f.replica("-80", "NOT_SERVING")
	f.keyspace(3, false)
	f.apply()
	w.expect([]string{ksLoReplica}, keyspaceNames(3)...)
}

// TestLinearMixedWatches ports linear_test.go TestLinearMixedWatches: a
// SotW and a delta stream subscribe to the same assignments; a removal
// reaches only the delta stream (SotW cannot say it for assignments), and
// the next change reaches both.
func TestLinearMixedWatches(t *testing.T) {
	f := newWatchFleet(t, false)
	f.keyspace(2, true)
	f.apply()
	sotw := f.sotw(edsType, ksLoReplica, ks2Replica)
	sotw.expect(ksLoReplica, ks2Replica)
	delta := f.delta(edsType, nil, ksLoReplica, ks2Replica)
	delta.expect([]string{ksLoReplica, ks2Replica})

	f.keyspace(2, false)
	f.apply()
	sotw.none("an assignment was removed")
	delta.expect(nil, ks2Replica)

	f.replica("-80", "NOT_SERVING")
	f.apply()
	sotw.expect(ksLoReplica)
	delta.expect([]string{ksLoReplica})
}
