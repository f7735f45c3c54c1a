package xdscache_test

import (
	"slices"
	"testing"
)

// TestLinearBasic ports linear_test.go TestLinearBasic: a named and a
// wildcard watch opened before there is a snapshot wait; the first
// snapshot answers both; new streams naming a version the cache never
// served get the same resources again; a later change sends the named
// stream the changed assignment alone, and the wildcard stream the changed
// and the added ones, at the snapshot's new version.
func TestLinearBasic(t *testing.T) {
	f := newWatchFleet(t, false)
	named := f.sotw(edsType, ksLoReplica)
	wild := f.sotw(edsType)
	named.none("before the first topology")
	wild.none("before the first topology")

	f.apply()
	v1 := named.expect(ksLoReplica)
	wild.expect(f.every(edsType)...)
	if v1 != f.version(edsType) {
		t.Errorf("response version %q, want the snapshot's %q", v1, f.version(edsType))
	}

	f.sotwAt("0", nil, edsType, ksLoReplica).expect(ksLoReplica)
	f.sotwAt("0", nil, edsType).expect(f.every(edsType)...)

	f.replica("-80", "NOT_SERVING")
	f.keyspace(2, true)
	f.apply()
	v2 := named.expect(ksLoReplica)
	wild.expect(append(keyspaceNames(2), ksLoReplica)...)
	if v2 == v1 || v2 != f.version(edsType) {
		t.Errorf("after a change, response version %q (before %q), want the snapshot's new %q", v2, v1, f.version(edsType))
	}
}

// TestLinearWatchTwo ports linear_test.go TestLinearWatchTwo: a named and
// a wildcard stream holding two assignments both get only the one that
// changed.
func TestLinearWatchTwo(t *testing.T) {
	f := newWatchFleet(t, true)
	named := f.sotw(edsType, ksLoReplica, ksHiReplica)
	named.expect(ksLoReplica, ksHiReplica)
	wild := f.sotw(edsType)
	wild.expect(f.every(edsType)...)

	f.replica("-80", "NOT_SERVING")
	f.apply()
	named.expect(ksLoReplica)
	wild.expect(ksLoReplica)
}

// TestLinearDeletion ports linear_test.go TestLinearDeletion. SotW cannot
// tell a client that an assignment was removed, so removing one answers
// nobody; a cluster's removal, as clients take clusters as a full set,
// sends the set left: empty for a stream that asked only for that one.
func TestLinearDeletion(t *testing.T) {
	t.Run("non full-state resource", func(t *testing.T) {
		f := newWatchFleet(t, false)
		f.keyspace(2, true)
		f.apply()
		named := f.sotw(edsType, ks2Replica, ksLoReplica)
		named.expect(ks2Replica, ksLoReplica)
		wild := f.sotw(edsType)
		wild.expect(f.every(edsType)...)

		f.keyspace(2, false)
		f.apply()
		named.none("an assignment it holds was removed")
		wild.none("assignments were removed")

		// Both watches are still open: a change they subscribe to
		// answers them, with that change alone.
		f.replica("-80", "NOT_SERVING")
		f.apply()
		named.expect(ksLoReplica)
		wild.expect(ksLoReplica)
	})

	t.Run("full-state resource", func(t *testing.T) {
		f := newWatchFleet(t, false)
		f.keyspace(2, true)
		f.apply()
		named := f.sotw(cdsType, ks2Primary)
		named.expect(ks2Primary)
		wild := f.sotw(cdsType)
		wild.expect(f.every(cdsType)...)

		f.keyspace(2, false)
		f.apply()
		named.expect() // its only cluster is gone
		left := f.every(cdsType)
		if len(left) != 8 || slices.Contains(left, ks2Primary) {
			t.Fatalf("clusters after ks2 was removed: %v, want ks's 8", left)
		}
		wild.expect(left...)
	})
}

// TestLinearCancel ports linear_test.go TestLinearCancel: a cancelled
// watch, named or wildcard, is not answered, while a twin left open is.
func TestLinearCancel(t *testing.T) {
	for name, names := range map[string][]string{"named": {ksLoReplica}, "wildcard": nil} {
		t.Run(name, func(t *testing.T) {
			f := newWatchFleet(t, true)
			first := names
			if names == nil {
				first = f.every(edsType)
			}
			cancelled := f.sotw(edsType, names...)
			cancelled.expect(first...)
			open := f.sotw(edsType, names...)
			open.expect(first...)
			cancelled.cancel()

			f.replica("-80", "NOT_SERVING")
			f.apply()
			open.expect(ksLoReplica)
			cancelled.none("its watch was cancelled")
		})
	}
}

// TestLinearVersionPrefix ports linear_test.go TestLinearVersionPrefix.
// LinearCache's versions are a counter, which a prefix tells apart from
// another instance's. Here versions are content hashes: a replica fed the
// same topology at another revision serves the same version, and a client
// holding one replica's version and resources gets nothing from the other
// until something changes. A version the cache never served gets the
// subscribed resources again.
func TestLinearVersionPrefix(t *testing.T) {
	f := newWatchFleet(t, true)
	s := f.sotw(edsType, ksLoReplica)
	v := s.expect(ksLoReplica)
	s.none("the client holds the current version")

	other := newWatchFleet(t, true)
	other.apply() // another revision, the same content
	if got := other.version(edsType); got != v {
		t.Fatalf("a replica serving the same topology has version %q, want %q", got, v)
	}
	moved := other.sotwAt(v, s.sub.ReturnedResources(), edsType, ksLoReplica)
	moved.none("the client holds what the other replica serves")
	other.replica("-80", "NOT_SERVING")
	other.apply()
	moved.expect(ksLoReplica)

	f.sotwAt("instance1-1", s.sub.ReturnedResources(), edsType, ksLoReplica).expect(ksLoReplica)
}

// TestLinearSotwWatches ports linear_test.go TestLinearSotwWatches.
func TestLinearSotwWatches(t *testing.T) {
	// A stream's subscription changes: it hears only of the names it
	// subscribes to now; a newly subscribed name is sent at once.
	t.Run("watches are properly removed from all objects", func(t *testing.T) {
		f := newWatchFleet(t, false)
		f.keyspace(2, true)
		f.apply()
		s := f.sotw(edsType, ksLoReplica, ksHiReplica, ks2Replica)
		s.expect(ksLoReplica, ksHiReplica, ks2Replica)

		f.replica("-80", "NOT_SERVING")
		f.apply()
		s.expect(ksLoReplica)

		s.subscribe(ksLoReplica, ksHiReplica)
		s.none("it unsubscribed from a name")
		f.replica("80-", "NOT_SERVING")
		f.keyspace(2, false)
		f.apply()
		s.expect(ksHiReplica)

		f.keyspace(3, true)
		f.apply()
		s.none("nothing it subscribes to changed")
		s.subscribe(ks3Replica)
		s.expect(ks3Replica)
		f.replica("-80", "SERVING")
		f.apply()
		s.none("it no longer subscribes to ks/-80/replica")
		f.tablet(301, "ks3", "0", "replica", "zone2", "NOT_SERVING")
		f.apply()
		s.expect(ks3Replica)
	})

	// Clients take clusters as a full set: a change to one sends every
	// subscribed cluster; a stream none of whose clusters changed hears
	// nothing.
	t.Run("watches return full state for types requesting it", func(t *testing.T) {
		f := newWatchFleet(t, false)
		f.keyspace(2, true)
		f.apply()
		w1 := f.sotw(cdsType, ksLoPrimary, ks2Primary, ks3Primary)
		w1.expect(ksLoPrimary, ks2Primary)
		w2 := f.sotw(cdsType)
		w2.expect(f.every(cdsType)...)
		w3 := f.sotw(cdsType, ksLoPrimary, ksHiPrimary, ks3Primary)
		w3.expect(ksLoPrimary, ksHiPrimary)

		f.keyspace(2, false)
		f.apply()
		w3.none("none of its clusters changed")
		w1.expect(ksLoPrimary)
		w2.expect(f.every(cdsType)...)

		f.keyspace(3, true)
		f.apply()
		w1.expect(ksLoPrimary, ks3Primary)
		w2.expect(f.every(cdsType)...)
		w3.expect(ksLoPrimary, ksHiPrimary, ks3Primary)
	})
}

// TestLinearSotwNonWildcard ports linear_test.go TestLinearSotwNonWildcard:
// the same sequence for assignments, which SotW responses may send in
// part, and for clusters, which they send whole. Its a, b, c are
// ks2/0/replica, ks/80-/replica and ks/-80/replica; d and e, which do not
// exist at first, are ks3/0/replica and ks4/0/replica (assignments and
// clusters share names).
func TestLinearSotwNonWildcard(t *testing.T) {
	a, b, c, d, e := ks2Replica, ksHiReplica, ksLoReplica, ks3Replica, "ks4/0/replica"
	for _, typeURL := range []string{edsType, cdsType} {
		t.Run(typeURL, func(t *testing.T) {
			// want is what a response holds: for assignments, what
			// changed; for clusters, every subscribed one.
			want := func(changed, whole []string) []string {
				if typeURL == cdsType {
					return whole
				}
				return changed
			}
			f := newWatchFleet(t, false)
			f.keyspace(2, true)
			f.apply()

			// A wildcard stream naming the current version still gets
			// everything: the client's state is not known.
			w1 := f.sotwAt(f.version(typeURL), nil, typeURL)
			w1.expect(f.every(typeURL)...)
			w2 := f.sotwAt("", nil, typeURL, "*")
			w2.expect(f.every(typeURL)...)
			w3 := f.sotwAt("prefix-"+f.version(typeURL), nil, typeURL, a, b)
			w3.expect(a, b)
			w4 := f.sotw(typeURL, d)
			w4.expect() // the first request is answered, with nothing
			for _, w := range []*sotwStream{w1, w2, w3, w4} {
				w.none("nothing changed")
			}

			// b changes, d is added, a removed.
			f.replica("80-", "NOT_SERVING")
			f.keyspace(3, true)
			f.keyspace(2, false)
			f.apply()
			w1.expect(want(append(keyspaceNames(3), b), f.every(typeURL))...)
			w2.expect(want(append(keyspaceNames(3), b), f.every(typeURL))...)
			w3.expect(b)
			w4.expect(d)

			// w2 is no longer wildcard; w4 adds c (go-control-plane
			// issue 608: a newly subscribed name is sent).
			w2.subscribe(a, c, d)
			w2.none("it holds every name it now subscribes to")
			w4.subscribe(c, d)
			w4.expect(want([]string{c}, []string{c, d})...)

			// e is added: only the wildcard stream hears of it.
			f.keyspace(4, true)
			f.apply()
			w1.expect(want(keyspaceNames(4), f.every(typeURL))...)
			for _, w := range []*sotwStream{w2, w3, w4} {
				w.none("e is not subscribed")
			}
			if !slices.Contains(f.every(typeURL), e) {
				t.Fatalf("%s is not in the snapshot", e)
			}

			// w3 becomes wildcard at the version it holds: it gets what
			// it does not hold.
			w3.subscribe("*")
			w3.expect(want(slices.DeleteFunc(f.every(typeURL), func(n string) bool { return n == b }), f.every(typeURL))...)

			// A removal alone: assignments' streams hear nothing;
			// clusters' streams subscribed to a removed one get their
			// whole set.
			f.keyspace(3, false)
			f.apply()
			if typeURL == cdsType {
				w1.expect(f.every(typeURL)...)
				w2.expect(c)
				w3.expect(f.every(typeURL)...)
				w4.expect(c)
			}
			for _, w := range []*sotwStream{w1, w2, w3, w4} {
				w.none("only a removal")
			}

			// A change all subscribe to reaches all.
			f.replica("-80", "NOT_SERVING")
			f.apply()
			if typeURL == edsType {
				for _, w := range []*sotwStream{w1, w2, w3, w4} {
					w.expect(c)
				}
			} else {
				for _, w := range []*sotwStream{w1, w2, w3, w4} {
					w.none("clusters do not change with tablet health")
				}
			}
		})
	}
}

// TestSotWScopedRoutesComeWhole is not a linear_test.go case: it is where
// the cache differs from LinearCache, which sends a SotW response of
// scoped route configurations with only those that changed. Envoy takes
// SotW scoped route configurations as the full set, and drops the scopes
// a response lacks; so an added keyspace's scope comes with the others.
func TestSotWScopedRoutesComeWhole(t *testing.T) {
	f := newWatchFleet(t, true)
	s := f.sotw(srdsType)
	s.expect("ks")
	f.keyspace(2, true)
	f.apply()
	s.expect("ks", "ks2")
	f.keyspace(2, false)
	f.apply()
	s.expect("ks")
}
