package translate

import (
	"fmt"
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"

	"github.com/shardmesh/shardmesh/pkg/topology"
)

// TestKeyRangeRegexAgreesWithContains checks the generated pattern against
// the model's own key range test on boundary ids and random ids.
func TestKeyRangeRegexAgreesWithContains(t *testing.T) {
	shards := []string{"-80", "80-", "40-80", "-40", "c0-", "-01", "ff-", "1234-5678", "a0-a1", "-8000000000000001", "7f-80"}
	rng := rand.New(rand.NewPCG(1, 2))
	for _, name := range shards {
		t.Run(name, func(t *testing.T) {
			kr, err := topology.ParseShardName(name)
			if err != nil {
				t.Fatal(err)
			}
			re := regexp.MustCompile("^(?:" + keyRangeRegex(kr) + ")$")
			lo, hi := kr.PaddedBounds()
			ids := []string{lo, "0000000000000000", "ffffffffffffffff", "7fffffffffffffff", "8000000000000000", strings.ToUpper(lo)}
			if hi != "" {
				ids = append(ids, hi, predecessor(hi))
			}
			for range 2000 {
				ids = append(ids, fmt.Sprintf("%016x", rng.Uint64()))
			}
			for _, id := range ids {
				if got, want := re.MatchString(id), kr.Contains(id); got != want {
					t.Errorf("shard %s, id %s: regex match %v, Contains %v (pattern %s)", name, id, got, want, re)
				}
			}
			for _, bad := range []string{"", "80", "800000000000000000", "g000000000000000"} {
				if re.MatchString(bad) {
					t.Errorf("shard %s: pattern matches malformed id %q", name, bad)
				}
			}
		})
	}
}

func predecessor(hex string) string {
	var v uint64
	fmt.Sscanf(hex, "%x", &v)
	return fmt.Sprintf("%016x", v-1)
}
