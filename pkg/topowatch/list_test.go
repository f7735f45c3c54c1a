package topowatch

import (
	"testing"

	"github.com/shardmesh/shardmesh/pkg/topology"
)

// The listing is paged and every page is read at the revision of the first
// one: writes made while it pages (here: between the first and second Get)
// are not in the first topology, and arrive next through the watch.
func TestListIsPagedAtOneRevision(t *testing.T) {
	srv := startEtcd(t)
	cli := newClient(t, srv)
	rev0 := seed(t, cli, fleet(10)) // 11 keys: cells/zone1, tablets 100..109

	h := newHarness(Config{Client: cli, PageSize: 3, ProbeInterval: -1, Logger: testLogger(t, nil)})
	var pages []int64 // revision of each page
	var lastWrite int64
	h.w.hooks.afterPage = func(page int, rev int64) {
		pages = append(pages, rev)
		if page == 0 {
			// 200 sorts after every listed tablet, 109 is on the last page.
			put(t, cli, tabletKey(200), tabletJSON("0", "replica"))
			lastWrite = del(t, cli, tabletKey(109))
		}
	}
	h.run(t)

	first := h.pubs.nextAt(t, rev0)
	if len(pages) != 4 {
		t.Errorf("listed %d pages of 3 keys, want 4 for 11 keys", len(pages))
	}
	for i, rev := range pages {
		if rev != rev0 {
			t.Errorf("page %d read at revision %d, want %d", i, rev, rev0)
		}
	}
	wantAliases(t, first, uids(100, 110)...)
	if first.Cells["zone1"].Region != "r1" {
		t.Errorf("cells = %v, want zone1 in r1", first.Cells)
	}
	// Health follows the observer's return.
	h.waitHealth(t, "synced", func(hl Health) bool { return hl.Synced && hl.Connected && hl.Revision == rev0 && hl.LastError == "" })

	// The writes made during the listing come through the watch.
	var last *topology.Topology
	for last == nil || last.Revision < lastWrite {
		last = h.pubs.next(t)
	}
	if last.Revision != lastWrite {
		t.Fatalf("published revision %d, want %d", last.Revision, lastWrite)
	}
	wantAliases(t, last, append(uids(100, 109), 200)...)
}

// A prefix without its trailing slash is the same prefix.
func TestListEmptyPrefix(t *testing.T) {
	srv := startEtcd(t)
	cli := newClient(t, srv)
	// Outside the prefix, though "/shardmesh" is a string prefix of it.
	resp, err := cli.Put(t.Context(), "/shardmesh-old/tablets/"+alias(1), tabletJSON("0", "replica"))
	if err != nil {
		t.Fatal(err)
	}
	rev := resp.Header.Revision

	h := newHarness(Config{Client: cli, Prefix: "/shardmesh", ProbeInterval: -1, Logger: testLogger(t, nil)})
	h.run(t)
	topo := h.pubs.nextAt(t, rev)
	if len(topo.Shards) != 0 || len(topo.Problems) != 0 {
		t.Fatalf("empty prefix: got shards %v, problems %v", topo.Shards, topo.Problems)
	}
}
