package main

import (
	"context"
	"strings"
	"testing"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// TestWhatIfExitCodes: a zone failure that takes primaries exits 4 and
// says which classes are left with nothing; the same failure rehearsed
// with reparents to the surviving zone leaves only the rdonly class of
// commerce/80- (its one rdonly tablet is in zone1). Nothing is written.
func TestWhatIfExitCodes(t *testing.T) {
	a := newApp(t)
	rev := func() int64 {
		resp, err := a.Client.Get(context.Background(), "/shardmesh/", clientv3.WithPrefix())
		if err != nil {
			t.Fatal(err)
		}
		return resp.Header.Revision
	}
	start := rev()
	code, out, stderr := shardctl(t, a, "what-if", "--fail-cell", "zone1", "--changed")
	if code != exitNoEligible {
		t.Fatalf("fail-cell zone1: exit %d, want %d\n%s%s", code, exitNoEligible, out, stderr)
	}
	for _, want := range []string{
		"us-east-1/us-east-1a  commerce/-80  primary           zone1-0000000101 100%  ->  NO ELIGIBLE TABLET",
		"commerce/-80 primary (was zone1-0000000101 100%) for clients in us-east-1/us-east-1a, us-east-1/us-east-1b, us-west-2/us-west-2a",
		"9 client/class pairs left with NO ELIGIBLE TABLET",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("what-if output lacks %q:\n%s", want, out)
		}
	}
	code, out, _ = shardctl(t, a, "what-if", "--fail-cell", "zone1", "--reparent", "commerce/-80=zone2-0000000201",
		"--reparent", "customer/0=zone2-0000000221", "--changed")
	if code != exitNoEligible || !strings.Contains(out, "3 client/class pairs") || !strings.Contains(out, "commerce/80- rdonly (was zone1-0000000112 100%)") {
		t.Errorf("with reparents: exit %d\n%s", code, out)
	}
	if code, out, _ := shardctl(t, a, "what-if", "--lag", "zone1-0000000102=60s", "--changed"); code != exitOK ||
		!strings.Contains(out, "commerce/-80  replica  zone1-0000000102 100%  ->  zone2-0000000201 100%") ||
		!strings.Contains(out, "every class keeps an eligible tablet") {
		t.Errorf("lag: exit %d\n%s", code, out)
	}
	if code, _, stderr := shardctl(t, a, "what-if", "--fail-cell", "zone9"); code != exitValidation || !strings.Contains(stderr, "cell zone9: no such cell") {
		t.Errorf("unknown cell: exit %d %q", code, stderr)
	}
	if code, _, _ := shardctl(t, a, "what-if"); code != exitUsage {
		t.Errorf("no change: exit %d, want %d", code, exitUsage)
	}
	if got := rev(); got != start {
		t.Errorf("etcd revision %d -> %d: what-if wrote", start, got)
	}
}
