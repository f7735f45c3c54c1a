// Package envoy holds the Envoy sidecar bootstrap files; its test checks
// that every one is a valid Envoy bootstrap.
package envoy

import (
	"os"
	"path/filepath"
	"testing"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	"google.golang.org/protobuf/encoding/protojson"
	"sigs.k8s.io/yaml"

	// Typed configs referenced by the bootstrap files.
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/upstreams/http/v3"
)

// TestBootstrapsAreValid parses every *.yaml here into Envoy's Bootstrap
// proto (unknown fields rejected) and runs ValidateAll, the constraints
// Envoy enforces when it loads the file.
func TestBootstrapsAreValid(t *testing.T) {
	files, err := filepath.Glob("*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no bootstrap files: %v", err)
	}
	for _, f := range files {
		t.Run(f, func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			js, err := yaml.YAMLToJSON(data)
			if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			var b bootstrapv3.Bootstrap
			if err := protojson.Unmarshal(js, &b); err != nil {
				t.Fatalf("%s: not an Envoy bootstrap: %v", f, err)
			}
			if err := b.ValidateAll(); err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			if b.GetNode().GetLocality().GetZone() == "" {
				t.Errorf("%s: node.locality.zone is empty; priorities need it", f)
			}
			if b.GetDynamicResources().GetAdsConfig() == nil {
				t.Errorf("%s: no ADS config", f)
			}
		})
	}
}
