package ops

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/shardmesh/shardmesh/pkg/topology"
)

// ApplyRules validates keyspace routing rules (YAML or JSON, Vitess's
// format) and, unless dryRun, writes them to P/routing/keyspace_rules. It
// returns a diff of the rules: "- from -> to" for removed ones, "+ ..." for
// added ones. Nothing is written when the rules are invalid.
func (s Store) ApplyRules(ctx context.Context, data []byte, dryRun bool) (string, error) {
	js, err := yaml.YAMLToJSON(data)
	if err != nil {
		return "", fmt.Errorf("rules: %w", err)
	}
	next, err := topology.DecodeRoutingRules(js)
	if err != nil {
		return "", err
	}
	var prev []topology.RoutingRule
	old, rev, err := s.get(ctx, topology.RulesKey)
	switch {
	case errors.Is(err, ErrNotFound):
	case err != nil:
		return "", err
	default:
		if prev, err = topology.DecodeRoutingRules(old); err != nil {
			prev = nil // an invalid stored value is replaced whole
		}
	}
	diff := ruleDiff(prev, next)
	if dryRun {
		return diff, nil
	}
	canonical, err := json.Marshal(json.RawMessage(js))
	if err != nil {
		return "", err
	}
	return diff, s.putIf(ctx, topology.RulesKey, canonical, rev)
}

func ruleDiff(prev, next []topology.RoutingRule) string {
	str := func(r topology.RoutingRule) string {
		from := r.FromKeyspace
		if r.TabletType != "" {
			from += "@" + string(r.TabletType)
		}
		return from + " -> " + r.ToKeyspace
	}
	in := func(rs []topology.RoutingRule, r topology.RoutingRule) bool {
		for _, x := range rs {
			if x == r {
				return true
			}
		}
		return false
	}
	var b strings.Builder
	for _, r := range prev {
		if !in(next, r) {
			b.WriteString("- " + str(r) + "\n")
		}
	}
	for _, r := range next {
		if !in(prev, r) {
			b.WriteString("+ " + str(r) + "\n")
		}
	}
	if b.Len() == 0 {
		return "no change\n"
	}
	return b.String()
}
