// Package topotest builds topologies for tests from seed files (the YAML
// format of examples/topology.yaml).
package topotest

import (
	"os"
	"testing"

	"github.com/shardmesh/shardmesh/pkg/topology"
)

// Records reads and validates the records of a seed file, failing the test
// on any error.
func Records(t testing.TB, path string) []topology.Record {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := topology.ParseSeed(data)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return recs
}

// Builder returns a new Builder holding every record of a seed file.
func Builder(t testing.TB, path string) *topology.Builder {
	t.Helper()
	b := topology.NewBuilder()
	for _, r := range Records(t, path) {
		if err := b.Put(r.Key, r.Value); err != nil {
			t.Fatalf("%s: put %s: %v", path, r.Key, err)
		}
	}
	return b
}
