package topology

import (
	"fmt"
	"strings"
	"time"
)

type keyspaceRecord struct {
	Tenant               string   `json:"tenant"`
	PortName             string   `json:"port_name"`
	MySQLPortName        string   `json:"mysql_port_name"`
	MySQLPortBase        *int64   `json:"mysql_port_base"`
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
	BufferWindow    string `json:"buffer_window"`
	CircuitBreakers *struct {
		MaxConnections     *int64 `json:"max_connections"`
		MaxPendingRequests *int64 `json:"max_pending_requests"`
		MaxRequests        *int64 `json:"max_requests"`
		MaxRetries         *int64 `json:"max_retries"`
	} `json:"circuit_breakers"`
	OutlierDetection *struct {
		Enabled            *bool  `json:"enabled"`
		Interval           string `json:"interval"`
		BaseEjectionTime   string `json:"base_ejection_time"`
		MaxEjectionPercent *int64 `json:"max_ejection_percent"`
		Consecutive5xx     *int64 `json:"consecutive_5xx"`
		FailurePercent     *int64 `json:"failure_percentage_threshold"`
	} `json:"outlier_detection"`
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
	if r.MySQLPortName != "" {
		ks.MySQLPortName = r.MySQLPortName
	}
	if p := r.MySQLPortBase; p != nil {
		if *p < 1024 || *p > 65000 {
			return nil, &FieldError{Record: record, Field: "mysql_port_base", Msg: fmt.Sprintf("%d out of range 1024..65000", *p)}
		}
		ks.MySQLPortBase = uint32(*p)
	}
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
	d.parse("buffer_window", r.BufferWindow, &ks.BufferWindow)
	if cb := r.CircuitBreakers; cb != nil {
		d.count("circuit_breakers.max_connections", cb.MaxConnections, 1, 1<<30, &ks.CircuitBreakers.MaxConnections)
		d.count("circuit_breakers.max_pending_requests", cb.MaxPendingRequests, 1, 1<<30, &ks.CircuitBreakers.MaxPendingRequests)
		d.count("circuit_breakers.max_requests", cb.MaxRequests, 1, 1<<30, &ks.CircuitBreakers.MaxRequests)
		d.count("circuit_breakers.max_retries", cb.MaxRetries, 0, 1<<30, &ks.CircuitBreakers.MaxRetries)
	}
	if od := r.OutlierDetection; od != nil {
		if od.Enabled != nil {
			ks.OutlierDetection.Enabled = *od.Enabled
		}
		d.parse("outlier_detection.interval", od.Interval, &ks.OutlierDetection.Interval)
		d.parse("outlier_detection.base_ejection_time", od.BaseEjectionTime, &ks.OutlierDetection.BaseEjectionTime)
		d.count("outlier_detection.max_ejection_percent", od.MaxEjectionPercent, 0, 100, &ks.OutlierDetection.MaxEjectionPercent)
		d.count("outlier_detection.consecutive_5xx", od.Consecutive5xx, 1, 1000, &ks.OutlierDetection.Consecutive5xx)
		d.count("outlier_detection.failure_percentage_threshold", od.FailurePercent, 0, 100, &ks.OutlierDetection.FailurePercentThreshold)
	}
	if d.err == nil && (ks.BufferWindow < 100*time.Millisecond || ks.BufferWindow > 5*time.Minute) {
		d.fail("buffer_window", "%v out of range 100ms..5m", ks.BufferWindow)
	}
	if d.err == nil && ks.OutlierDetection.Enabled && (ks.OutlierDetection.Interval <= 0 || ks.OutlierDetection.BaseEjectionTime <= 0) {
		d.fail("outlier_detection", "interval and base_ejection_time must be > 0")
	}
	if d.err == nil && ks.Lag.Degraded > ks.Lag.Max {
		d.fail("lag.degraded", "%v is above lag.max %v", ks.Lag.Degraded, ks.Lag.Max)
	}
	if d.err != nil {
		return nil, d.err
	}
	return ks, nil
}

// durations parses optional fields, keeping the first error.
type durations struct {
	record string
	err    error
}

func (d *durations) fail(field, format string, args ...any) {
	if d.err == nil {
		d.err = &FieldError{Record: d.record, Field: field, Msg: fmt.Sprintf(format, args...)}
	}
}

// count checks an optional integer field against [lo, hi].
func (d *durations) count(field string, v *int64, lo, hi int64, dst *uint32) {
	if v == nil {
		return
	}
	if *v < lo || *v > hi {
		d.fail(field, "%d out of range %d..%d", *v, lo, hi)
		return
	}
	*dst = uint32(*v)
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
	seen := map[RoutingRule]bool{} // by FromKeyspace and TabletType
	out := make([]RoutingRule, 0, len(r.Rules))
	for i, raw := range r.Rules {
		field := fmt.Sprintf("rules[%d]", i)
		from, typ, at := strings.Cut(raw.FromKeyspace, "@")
		rule := RoutingRule{FromKeyspace: from, TabletType: TabletType(strings.ToLower(typ)), ToKeyspace: raw.ToKeyspace}
		source := RoutingRule{FromKeyspace: rule.FromKeyspace, TabletType: rule.TabletType}
		switch {
		case !nameRE.MatchString(rule.FromKeyspace) || at && typ == "":
			return nil, &FieldError{Record: record, Field: field + ".from_keyspace", Msg: fmt.Sprintf("%q is not <keyspace> or <keyspace>@<tablet type>", raw.FromKeyspace)}
		case rule.TabletType != "" && !rule.TabletType.Routable():
			return nil, &FieldError{Record: record, Field: field + ".from_keyspace", Msg: fmt.Sprintf("tablet type %q is not primary, replica or rdonly", typ)}
		case !nameRE.MatchString(rule.ToKeyspace):
			return nil, &FieldError{Record: record, Field: field + ".to_keyspace", Msg: fmt.Sprintf("%q is not a valid keyspace name", raw.ToKeyspace)}
		case seen[source]:
			return nil, &FieldError{Record: record, Field: field + ".from_keyspace", Msg: fmt.Sprintf("%q has more than one rule", raw.FromKeyspace)}
		}
		seen[source] = true
		out = append(out, rule)
	}
	return out, nil
}
