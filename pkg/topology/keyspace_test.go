package topology_test

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/shardmesh/shardmesh/pkg/topology"
)

// designKeyspace is the keyspace policy of DESIGN.md.
const designKeyspace = `{
  "tenant": "acme",
  "port_name": "grpc",
  "schema_versions": ["v41", "v42"],
  "lag": {"degraded": "10s", "max": "30s", "min_serving": 2},
  "read_after_write_max_lag": "1s",
  "failover": {"cross_region": true, "region_order": {"us-east-1": ["us-east-2", "us-west-2"]}},
  "ramp": {"window": "30s", "min_weight_percent": 10}
}`

func TestDecodeKeyspace(t *testing.T) {
	tests := map[string]struct {
		data string
		want func(*topology.Keyspace) // edits DefaultKeyspace("commerce")
	}{
		"empty record takes the defaults": {
			data: `{}`,
			want: func(*topology.Keyspace) {},
		},
		"null takes the defaults": {
			data: `null`,
			want: func(*topology.Keyspace) {},
		},
		"design record": {
			data: designKeyspace,
			want: func(ks *topology.Keyspace) {
				ks.Tenant = "acme"
				ks.SchemaVersions = []string{"v41", "v42"}
				ks.Failover.RegionOrder = map[string][]string{"us-east-1": {"us-east-2", "us-west-2"}}
			},
		},
		"durations parsed": {
			data: `{"lag": {"degraded": "1.5s", "max": "2m"}, "read_after_write_max_lag": "250ms",
				"ramp": {"window": "1m30s"}, "buffer_window": "20s"}`,
			want: func(ks *topology.Keyspace) {
				ks.Lag.Degraded, ks.Lag.Max = 1500*time.Millisecond, 2*time.Minute
				ks.ReadAfterWriteMaxLag = 250 * time.Millisecond
				ks.Ramp.Window = 90 * time.Second
				ks.BufferWindow = 20 * time.Second
			},
		},
		"zero durations allowed": {
			data: `{"lag": {"degraded": "0s", "max": "0s", "min_serving": 0}, "read_after_write_max_lag": "0", "ramp": {"window": "0s"}}`,
			want: func(ks *topology.Keyspace) {
				ks.Lag = topology.LagPolicy{}
				ks.ReadAfterWriteMaxLag = 0
				ks.Ramp.Window = 0
			},
		},
		"partial lag keeps the other defaults": {
			data: `{"lag": {"max": "1m"}}`,
			want: func(ks *topology.Keyspace) { ks.Lag.Max = time.Minute },
		},
		"degraded equal to max": {
			data: `{"lag": {"degraded": "30s"}}`,
			want: func(ks *topology.Keyspace) { ks.Lag.Degraded = 30 * time.Second },
		},
		"port name": {
			data: `{"port_name": "mysql"}`,
			want: func(ks *topology.Keyspace) { ks.PortName = "mysql" },
		},
		"cross-region off": {
			data: `{"failover": {"cross_region": false}}`,
			want: func(ks *topology.Keyspace) { ks.Failover.CrossRegion = false },
		},
		"region order alone keeps cross-region on": {
			data: `{"failover": {"region_order": {"us-west-2": ["us-east-1"], "us-east-1": ["us-west-2", "eu-west-1"]}}}`,
			want: func(ks *topology.Keyspace) {
				ks.Failover.RegionOrder = map[string][]string{"us-west-2": {"us-east-1"}, "us-east-1": {"us-west-2", "eu-west-1"}}
			},
		},
		"min weight percent bounds 1": {
			data: `{"ramp": {"min_weight_percent": 1}}`,
			want: func(ks *topology.Keyspace) { ks.Ramp.MinWeightPercent = 1 },
		},
		"min weight percent bounds 100": {
			data: `{"ramp": {"min_weight_percent": 100}}`,
			want: func(ks *topology.Keyspace) { ks.Ramp.MinWeightPercent = 100 },
		},
		"circuit breakers": {
			data: `{"circuit_breakers": {"max_connections": 10, "max_pending_requests": 20, "max_requests": 30, "max_retries": 0}}`,
			want: func(ks *topology.Keyspace) {
				ks.CircuitBreakers = topology.CircuitBreakers{MaxConnections: 10, MaxPendingRequests: 20, MaxRequests: 30}
			},
		},
		"outlier detection off": {
			data: `{"outlier_detection": {"enabled": false, "interval": "0s"}}`,
			want: func(ks *topology.Keyspace) { ks.OutlierDetection.Enabled, ks.OutlierDetection.Interval = false, 0 },
		},
		"unknown fields ignored": {
			data: `{"added_in_v2": true, "lag": {"added_in_v2": "x"}}`,
			want: func(*topology.Keyspace) {},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			want := topology.DefaultKeyspace("commerce")
			tc.want(want)
			got, err := topology.DecodeKeyspace("commerce", []byte(tc.data))
			if err != nil {
				t.Fatalf("DecodeKeyspace: %v", err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("DecodeKeyspace (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDefaultKeyspace(t *testing.T) {
	ks := topology.DefaultKeyspace("customer")
	if ks.Name != "customer" || ks.PortName != "grpc" {
		t.Errorf("name %q, port name %q; want customer, grpc", ks.Name, ks.PortName)
	}
	if ks.Lag.Degraded != 10*time.Second || ks.Lag.Max != 30*time.Second || ks.Lag.MinServing != 2 {
		t.Errorf("lag %+v, want degraded 10s, max 30s, min_serving 2", ks.Lag)
	}
	if ks.ReadAfterWriteMaxLag != time.Second || !ks.Failover.CrossRegion || ks.Ramp != (topology.RampPolicy{Window: 30 * time.Second, MinWeightPercent: 10}) {
		t.Errorf("read-after-write %v, failover %+v, ramp %+v", ks.ReadAfterWriteMaxLag, ks.Failover, ks.Ramp)
	}
	if other := topology.DefaultKeyspace("customer"); other == ks {
		t.Error("DefaultKeyspace returned the same pointer twice; callers may not share it")
	}
}

func TestDecodeKeyspaceErrors(t *testing.T) {
	tests := map[string]struct {
		name string
		data string
		want string
	}{
		"bad lag.max": {
			data: `{"lag": {"max": "30"}}`,
			want: `keyspace commerce: lag.max: "30" is not a non-negative duration such as 10s`,
		},
		"negative lag.max": {
			data: `{"lag": {"degraded": "0s", "max": "-1s"}}`,
			want: `keyspace commerce: lag.max: "-1s" is not a non-negative duration such as 10s`,
		},
		"bad lag.degraded": {
			data: `{"lag": {"degraded": "ten seconds"}}`,
			want: `keyspace commerce: lag.degraded: "ten seconds" is not a non-negative duration such as 10s`,
		},
		"lag.max as a number": {
			data: `{"lag": {"max": 30}}`,
			want: `keyspace commerce: lag.max: want a string, got JSON number`,
		},
		"degraded above max": {
			data: `{"lag": {"degraded": "31s", "max": "30s"}}`,
			want: `keyspace commerce: lag.degraded: 31s is above lag.max 30s`,
		},
		"max below the default degraded": {
			data: `{"lag": {"max": "5s"}}`,
			want: `keyspace commerce: lag.degraded: 10s is above lag.max 5s`,
		},
		"negative min_serving": {
			data: `{"lag": {"min_serving": -1}}`,
			want: `keyspace commerce: lag.min_serving: -1 is negative`,
		},
		"bad read_after_write_max_lag": {
			data: `{"read_after_write_max_lag": "1 s"}`,
			want: `keyspace commerce: read_after_write_max_lag: "1 s" is not a non-negative duration such as 10s`,
		},
		"bad ramp.window": {
			data: `{"ramp": {"window": "soon"}}`,
			want: `keyspace commerce: ramp.window: "soon" is not a non-negative duration such as 10s`,
		},
		"min_weight_percent 0": {
			data: `{"ramp": {"min_weight_percent": 0}}`,
			want: `keyspace commerce: ramp.min_weight_percent: 0 out of range 1..100`,
		},
		"min_weight_percent 101": {
			data: `{"ramp": {"min_weight_percent": 101}}`,
			want: `keyspace commerce: ramp.min_weight_percent: 101 out of range 1..100`,
		},
		"min_weight_percent fractional": {
			data: `{"ramp": {"min_weight_percent": 12.5}}`,
			want: `keyspace commerce: ramp.min_weight_percent: want an integer, got JSON number 12.5`,
		},
		"region_order not a map of lists": {
			data: `{"failover": {"region_order": {"us-east-1": "us-west-2"}}}`,
			want: `keyspace commerce: failover.region_order: want an array, got JSON string`,
		},
		"cross_region as string": {
			data: `{"failover": {"cross_region": "yes"}}`,
			want: `keyspace commerce: failover.cross_region: want a boolean, got JSON string`,
		},
		"empty schema version": {
			data: `{"schema_versions": ["v41", ""]}`,
			want: `keyspace commerce: schema_versions[1]: empty version`,
		},
		"schema_versions as string": {
			data: `{"schema_versions": "v42"}`,
			want: `keyspace commerce: schema_versions: want an array, got JSON string`,
		},
		"buffer window too short": {
			data: `{"buffer_window": "10ms"}`,
			want: `keyspace commerce: buffer_window: 10ms out of range 100ms..5m`,
		},
		"max_requests zero": {
			data: `{"circuit_breakers": {"max_requests": 0}}`,
			want: `keyspace commerce: circuit_breakers.max_requests: 0 out of range 1..1073741824`,
		},
		"outlier interval zero while enabled": {
			data: `{"outlier_detection": {"interval": "0s"}}`,
			want: `keyspace commerce: outlier_detection: interval and base_ejection_time must be > 0`,
		},
		"first bad field is named": {
			data: `{"read_after_write_max_lag": "x", "lag": {"max": "y"}}`,
			want: `keyspace commerce: read_after_write_max_lag: "x" is not a non-negative duration such as 10s`,
		},
		"bad name": {
			name: "com merce",
			data: `{}`,
			want: `keyspace com merce: not a valid keyspace name`,
		},
		"not JSON": {
			data: `lag: {max: 30s}`,
			want: `keyspace commerce: not a JSON object: invalid character 'l' looking for beginning of value`,
		},
		"trailing data": {
			data: `{}}`,
			want: `keyspace commerce: trailing data after the JSON object`,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			ksName := tc.name
			if ksName == "" {
				ksName = "commerce"
			}
			got, err := topology.DecodeKeyspace(ksName, []byte(tc.data))
			if err == nil {
				t.Fatalf("DecodeKeyspace = %+v, want error %q", got, tc.want)
			}
			if got != nil {
				t.Errorf("DecodeKeyspace returned a keyspace with error %v", err)
			}
			if err.Error() != tc.want {
				t.Errorf("error\n  %s\nwant\n  %s", err, tc.want)
			}
			if !errors.Is(err, topology.ErrInvalid) {
				t.Errorf("errors.Is(%v, ErrInvalid) = false", err)
			}
		})
	}
}
