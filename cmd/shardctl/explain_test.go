package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/shardmesh/shardmesh/internal/xdstest"
	"github.com/shardmesh/shardmesh/pkg/weights"
)

// TestExplainCLIAndAdmin runs explain on the example fleet after an
// operator marks a replica NOT_SERVING and lags another: the text names
// every reason, and the admin API answers the same explanation as JSON.
func TestExplainCLIAndAdmin(t *testing.T) {
	a := newApp(t)
	for _, args := range [][]string{
		{"tablet", "set", "zone1-0000000102", "--state", "NOT_SERVING"},
		{"tablet", "set", "zone2-0000000201", "--lag", "45s"},
	} {
		if code, out, stderr := shardctl(t, a, args...); code != exitOK {
			t.Fatalf("%v: exit %d %s%s", args, code, out, stderr)
		}
	}
	// 1000000000000000 is in commerce/-80.
	args := []string{"explain", "--region", "us-east-1", "--zone", "us-east-1a", "commerce", "--keyspace-id", "1000000000000000", "--type", "replica"}
	code, out, stderr := shardctl(t, a, args...)
	if code != exitOK {
		t.Fatalf("explain: exit %d %s", code, stderr)
	}
	for _, want := range []string{
		"P0        zone3-0000000301  zone3  us-west-2/us-west-2a  HEALTHY  100     100.0%",
		"zone1-0000000102  replica  not_serving  NOT_SERVING",
		"zone2-0000000201  replica  lag          lag 45s > lag.max 30s",
		"zone1-0000000101  primary  type         primary tablet: not in class replica",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("explain lacks %q:\n%s", want, out)
		}
	}
	code, out, _ = shardctl(t, a, append(args, "-o", "json")...)
	var cli weights.Explanation
	if err := json.Unmarshal([]byte(out), &cli); code != exitOK || err != nil {
		t.Fatalf("explain -o json: exit %d %v\n%s", code, err, out)
	}
	// The admin API serves the topology it watched, which catches up with
	// etcd within moments.
	xdstest.Eventually(t, 10*time.Second, func() (bool, string) {
		resp, err := http.Get("http://" + a.AdminAddr.String() + "/debug/explain?keyspace=commerce&keyspace_id=1000000000000000&type=replica&region=us-east-1&zone=us-east-1a")
		if err != nil {
			return false, err.Error()
		}
		defer resp.Body.Close()
		var admin weights.Explanation
		if err := json.NewDecoder(resp.Body).Decode(&admin); err != nil || resp.StatusCode != http.StatusOK {
			return false, fmt.Sprintf("/debug/explain: %s %v", resp.Status, err)
		}
		diff := cmp.Diff(cli, admin)
		return diff == "", "admin explanation differs from the CLI's (-cli +admin):\n" + diff
	})

	for _, bad := range [][]string{
		{"explain", "commerce", "--type", "replica"},                        // sharded: which shard?
		{"explain", "commerce", "--shard=-80", "--type", "writes"},          // unknown class
		{"explain", "commerce", "--keyspace-id", "12", "--type", "replica"}, // not 16 hex digits
		{"explain", "nosuch", "--shard=0", "--type", "replica"},             // unknown keyspace
	} {
		if code, _, stderr := shardctl(t, a, bad...); code == exitOK || stderr == "" {
			t.Errorf("%v: exit %d, stderr %q: want an error", bad, code, stderr)
		}
	}
}
