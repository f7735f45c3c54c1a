package topology

import (
	"fmt"
	"strings"
	"time"
)

type keyspaceRecord struct {
	Tenant               string   `json:"tenant"`
	PortName             string   `json:"port_name"`
	SchemaVersions       []string `json:"schema_versions"`
	ReadAfterWriteMaxLag string   `json:"read_after_write_max_lag"`
	Lag                  *struct {
		Degraded   string `json:"degraded"`
		Max        string `json:"max"`
		MinServing *int   `json:"min_serving"`
	} `json:"lag"`
	Failover *struct {
		CrossRegion *bool               `json:"cross_region"`
		RegionOrder map[string][]string `json:"region_order"`
	} `json:"failover"`
	Ramp *struct {
		Window           string `json:"window"`
		MinWeightPercent *int   `json:"min_weight_percent"`
	} `json:"ramp"`
}

// DecodeKeyspace decodes the JSON keyspace policy stored under
// P/keyspaces/<name>; fields it leaves out take DefaultKeyspace's values.
func DecodeKeyspace(name string, data []byte) (*Keyspace, error) {
	record := "keyspace " + name
	if !nameRE.MatchString(name) {
		return nil, &FieldError{Record: record, Msg: "not a valid keyspace name"}
	}
	var r keyspaceRecord
	if err := decodeJSON(record, data, &r); err != nil {
		return nil, err
	}
	ks := DefaultKeyspace(name)
	d := durations{record: record}
	ks.Tenant = r.Tenant
	if r.PortName != "" {
		ks.PortName = r.PortName
	}
	for i, v := range r.SchemaVersions {
		if v == "" {
			return nil, &FieldError{Record: record, Field: fmt.Sprintf("schema_versions[%d]", i), Msg: "empty version"}
		}
	}
	ks.SchemaVersions = r.SchemaVersions
	d.parse("read_after_write_max_lag", r.ReadAfterWriteMaxLag, &ks.ReadAfterWriteMaxLag)
	if r.Lag != nil {
		d.parse("lag.degraded", r.Lag.Degraded, &ks.Lag.Degraded)
		d.parse("lag.max", r.Lag.Max, &ks.Lag.Max)
		if r.Lag.MinServing != nil {
			if *r.Lag.MinServing < 0 {
				d.fail("lag.min_serving", "%d is negative", *r.Lag.MinServing)
			}
			ks.Lag.MinServing = *r.Lag.MinServing
		}
	}
	if r.Failover != nil {
		if r.Failover.CrossRegion != nil {
			ks.Failover.CrossRegion = *r.Failover.CrossRegion
		}
		ks.Failover.RegionOrder = r.Failover.RegionOrder
	}
	if r.Ramp != nil {
		d.parse("ramp.window", r.Ramp.Window, &ks.Ramp.Window)
		if p := r.Ramp.MinWeightPercent; p != nil {
			if *p < 1 || *p > 100 {
				d.fail("ramp.min_weight_percent", "%d out of range 1..100", *p)
			} else {
				ks.Ramp.MinWeightPercent = uint32(*p)
			}
		}
	}
	if d.err == nil && ks.Lag.Degraded > ks.Lag.Max {
		d.fail("lag.degraded", "%v is above lag.max %v", ks.Lag.Degraded, ks.Lag.Max)
	}
	if d.err != nil {
		return nil, d.err
	}
	return ks, nil
}

// durations parses optional duration fields, keeping the first error.
type durations struct {
	record string
	err    error
}

func (d *durations) fail(field, format string, args ...any) {
	if d.err == nil {
		d.err = &FieldError{Record: d.record, Field: field, Msg: fmt.Sprintf(format, args...)}
	}
}

func (d *durations) parse(field, s string, dst *time.Duration) {
	if s == "" {
		return
	}
	v, err := time.ParseDuration(s)
	if err != nil || v < 0 {
		d.fail(field, "%q is not a non-negative duration such as 10s", s)
		return
	}
	*dst = v
}

type rulesRecord struct {
	Rules []struct {
		FromKeyspace string `json:"from_keyspace"`
		ToKeyspace   string `json:"to_keyspace"`
	} `json:"rules"`
}

// DecodeRoutingRules decodes Vitess keyspace routing rules stored under
// P/routing/keyspace_rules: {"rules":[{"from_keyspace":"ks@replica","to_keyspace":"ks2"}]}.
func DecodeRoutingRules(data []byte) ([]RoutingRule, error) {
	const record = "routing/keyspace_rules"
	var r rulesRecord
	if err := decodeJSON(record, data, &r); err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	out := make([]RoutingRule, 0, len(r.Rules))
	for i, raw := range r.Rules {
		field := fmt.Sprintf("rules[%d]", i)
		from, typ, _ := strings.Cut(raw.FromKeyspace, "@")
		rule := RoutingRule{FromKeyspace: from, TabletType: TabletType(strings.ToLower(typ)), ToKeyspace: raw.ToKeyspace}
		switch {
		case !nameRE.MatchString(rule.FromKeyspace):
			return nil, &FieldError{Record: record, Field: field + ".from_keyspace", Msg: fmt.Sprintf("%q is not <keyspace> or <keyspace>@<tablet type>", raw.FromKeyspace)}
		case rule.TabletType != "" && !rule.TabletType.Routable():
			return nil, &FieldError{Record: record, Field: field + ".from_keyspace", Msg: fmt.Sprintf("tablet type %q is not primary, replica or rdonly", typ)}
		case !nameRE.MatchString(rule.ToKeyspace):
			return nil, &FieldError{Record: record, Field: field + ".to_keyspace", Msg: fmt.Sprintf("%q is not a valid keyspace name", raw.ToKeyspace)}
		case seen[raw.FromKeyspace]:
			return nil, &FieldError{Record: record, Field: field + ".from_keyspace", Msg: fmt.Sprintf("%q has more than one rule", raw.FromKeyspace)}
		}
		seen[raw.FromKeyspace] = true
		out = append(out, rule)
	}
	return out, nil
}
