package topology

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"

	"sigs.k8s.io/yaml"
)

// Record is one etcd key (relative to the prefix) and its JSON value.
type Record struct {
	Key   string
	Value []byte
}

// SeedFile is the YAML file that `xds-server --seed` and `shardctl apply`
// read: the records of a topology, keyed by name.
type SeedFile struct {
	Cells     map[string]json.RawMessage `json:"cells"`
	Keyspaces map[string]json.RawMessage `json:"keyspaces"`
	Tablets   map[string]json.RawMessage `json:"tablets"`
	Rules     json.RawMessage            `json:"rules,omitempty"`
}

// ParseSeed converts a YAML (or JSON) seed file into records, validating
// every record. It returns the records sorted by key, and every validation
// error (each naming its record and field) joined; records are returned
// only when there is no error, so that a bad file changes nothing.
func ParseSeed(data []byte) ([]Record, error) {
	var f SeedFile
	if err := yaml.UnmarshalStrict(data, &f); err != nil {
		return nil, fmt.Errorf("seed file: %w", err)
	}
	var recs []Record
	var errs []error
	add := func(key string, value json.RawMessage, check func() error) {
		if err := check(); err != nil {
			errs = append(errs, err)
			return
		}
		recs = append(recs, Record{Key: key, Value: value})
	}
	for name, v := range f.Cells {
		add(CellsPrefix+name, v, func() error { _, err := DecodeCell(name, v); return err })
	}
	for name, v := range f.Keyspaces {
		add(KeyspacesPrefix+name, v, func() error { _, err := DecodeKeyspace(name, v); return err })
	}
	for alias, v := range f.Tablets {
		add(TabletsPrefix+alias, v, func() error { _, err := DecodeTablet(alias, v); return err })
	}
	if len(f.Rules) > 0 && string(f.Rules) != "null" {
		add(RulesKey, f.Rules, func() error { _, err := DecodeRoutingRules(f.Rules); return err })
	}
	if len(errs) > 0 {
		sort.Slice(errs, func(i, j int) bool { return errs[i].Error() < errs[j].Error() })
		return nil, errors.Join(errs...)
	}
	sort.Slice(recs, func(i, j int) bool { return recs[i].Key < recs[j].Key })
	return recs, nil
}
