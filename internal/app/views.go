package app

import (
	"time"

	"github.com/shardmesh/shardmesh/pkg/topology"
	"github.com/shardmesh/shardmesh/pkg/topowatch"
)

// The admin API's JSON is for scripts: snake_case field names and
// durations as Go duration strings ("1.5s"), whatever the Go types say.

// dur is a duration written as a string such as "1.5s".
type dur time.Duration

func (d dur) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

type sourceJSON struct {
	Connected bool      `json:"connected"`
	Synced    bool      `json:"synced"`
	Revision  int64     `json:"revision"`
	LastError string    `json:"last_error"`
	Since     time.Time `json:"since"`
}

func sourceView(h topowatch.Health) sourceJSON {
	return sourceJSON{Connected: h.Connected, Synced: h.Synced, Revision: h.Revision, LastError: h.LastError, Since: h.Since}
}

type tabletJSON struct {
	Alias            string            `json:"alias"`
	Keyspace         string            `json:"keyspace"`
	Shard            string            `json:"shard"`
	Type             string            `json:"type"`
	Cell             string            `json:"cell"`
	Hostname         string            `json:"hostname"`
	PortMap          map[string]uint32 `json:"port_map"`
	State            string            `json:"state"`
	HealthError      string            `json:"health_error,omitempty"`
	ReplicationLag   dur               `json:"replication_lag"`
	LagHeld          bool              `json:"lag_held,omitempty"`
	Replication      string            `json:"replication,omitempty"`
	SchemaVersion    string            `json:"schema_version,omitempty"`
	PrimaryTermStart time.Time         `json:"primary_term_start,omitzero"`
	ServingSince     time.Time         `json:"serving_since,omitzero"`
	Weight           uint32            `json:"weight"`
	Tags             map[string]string `json:"tags,omitempty"`
}

func tabletJSONOf(t *topology.Tablet) tabletJSON {
	return tabletJSON{Alias: t.Alias, Keyspace: t.Keyspace, Shard: t.Shard, Type: string(t.Type), Cell: t.Cell, Hostname: t.Hostname,
		PortMap: t.PortMap, State: string(t.State), HealthError: t.HealthError, ReplicationLag: dur(t.ReplicationLag), LagHeld: t.LagHeld,
		Replication: t.Replication, SchemaVersion: t.SchemaVersion, PrimaryTermStart: t.PrimaryTermStart, ServingSince: t.ServingSince,
		Weight: t.Weight, Tags: t.Tags}
}

type keyspaceJSON struct {
	Name                 string   `json:"name"`
	Tenant               string   `json:"tenant,omitempty"`
	PortName             string   `json:"port_name"`
	MySQLPortBase        uint32   `json:"mysql_port_base,omitempty"`
	MySQLPortName        string   `json:"mysql_port_name"`
	SchemaVersions       []string `json:"schema_versions,omitempty"`
	ReadAfterWriteMaxLag dur      `json:"read_after_write_max_lag"`
	BufferWindow         dur      `json:"buffer_window"`
	Lag                  struct {
		Degraded   dur `json:"degraded"`
		Max        dur `json:"max"`
		MinServing int `json:"min_serving"`
	} `json:"lag"`
	Failover struct {
		CrossRegion bool                `json:"cross_region"`
		RegionOrder map[string][]string `json:"region_order,omitempty"`
	} `json:"failover"`
	Ramp struct {
		Window           dur    `json:"window"`
		MinWeightPercent uint32 `json:"min_weight_percent"`
	} `json:"ramp"`
	CircuitBreakers struct {
		MaxConnections     uint32 `json:"max_connections"`
		MaxPendingRequests uint32 `json:"max_pending_requests"`
		MaxRequests        uint32 `json:"max_requests"`
		MaxRetries         uint32 `json:"max_retries"`
	} `json:"circuit_breakers"`
	OutlierDetection struct {
		Enabled                     bool   `json:"enabled"`
		Interval                    dur    `json:"interval"`
		BaseEjectionTime            dur    `json:"base_ejection_time"`
		MaxEjectionPercent          uint32 `json:"max_ejection_percent"`
		Consecutive5xx              uint32 `json:"consecutive_5xx"`
		FailurePercentThreshold     uint32 `json:"failure_percent_threshold"`
		FailurePercentMinimumHosts  uint32 `json:"failure_percent_minimum_hosts"`
		FailurePercentRequestVolume uint32 `json:"failure_percent_request_volume"`
	} `json:"outlier_detection"`
}

func keyspaceView(k *topology.Keyspace) keyspaceJSON {
	v := keyspaceJSON{Name: k.Name, Tenant: k.Tenant, PortName: k.PortName, MySQLPortBase: k.MySQLPortBase, MySQLPortName: k.MySQLPortName,
		SchemaVersions: k.SchemaVersions, ReadAfterWriteMaxLag: dur(k.ReadAfterWriteMaxLag), BufferWindow: dur(k.BufferWindow)}
	v.Lag.Degraded, v.Lag.Max, v.Lag.MinServing = dur(k.Lag.Degraded), dur(k.Lag.Max), k.Lag.MinServing
	v.Failover.CrossRegion, v.Failover.RegionOrder = k.Failover.CrossRegion, k.Failover.RegionOrder
	v.Ramp.Window, v.Ramp.MinWeightPercent = dur(k.Ramp.Window), k.Ramp.MinWeightPercent
	cb := k.CircuitBreakers
	v.CircuitBreakers.MaxConnections, v.CircuitBreakers.MaxPendingRequests = cb.MaxConnections, cb.MaxPendingRequests
	v.CircuitBreakers.MaxRequests, v.CircuitBreakers.MaxRetries = cb.MaxRequests, cb.MaxRetries
	od := k.OutlierDetection
	v.OutlierDetection.Enabled, v.OutlierDetection.Interval, v.OutlierDetection.BaseEjectionTime = od.Enabled, dur(od.Interval), dur(od.BaseEjectionTime)
	v.OutlierDetection.MaxEjectionPercent, v.OutlierDetection.Consecutive5xx = od.MaxEjectionPercent, od.Consecutive5xx
	v.OutlierDetection.FailurePercentThreshold, v.OutlierDetection.FailurePercentMinimumHosts = od.FailurePercentThreshold, od.FailurePercentMinimumHost
	v.OutlierDetection.FailurePercentRequestVolume = od.FailurePercentRequestVol
	return v
}

type drainJSON struct {
	StartedAt time.Time `json:"started_at,omitzero"`
	Window    dur       `json:"window"`
	Reason    string    `json:"reason,omitempty"`
}

type problemView struct {
	Key   string `json:"key"`
	Error string `json:"error"`
}

type topologyJSON struct {
	Revision  int64                    `json:"revision"`
	Cells     map[string]topology.Cell `json:"cells"`
	Keyspaces map[string]keyspaceJSON  `json:"keyspaces"`
	Shards    map[string][]tabletJSON  `json:"shards"`
	Drains    map[string]drainJSON     `json:"drains"`
	Prefer    map[string]string        `json:"prefer"`
	Problems  []problemView            `json:"problems"`
}

func topologyView(t *topology.Topology) any {
	if t == nil {
		return nil
	}
	v := topologyJSON{Revision: t.Revision, Cells: t.Cells, Keyspaces: map[string]keyspaceJSON{}, Shards: map[string][]tabletJSON{},
		Drains: map[string]drainJSON{}, Prefer: t.Overrides.Prefer, Problems: []problemView{}}
	for name, k := range t.Keyspaces {
		v.Keyspaces[name] = keyspaceView(k)
	}
	for k, s := range t.Shards {
		for _, tab := range s.Tablets {
			v.Shards[k.String()] = append(v.Shards[k.String()], tabletJSONOf(tab))
		}
	}
	for cell, d := range t.Overrides.Drains {
		v.Drains[cell] = drainJSON{StartedAt: d.StartedAt, Window: dur(d.Window), Reason: d.Reason}
	}
	for _, p := range t.Problems {
		v.Problems = append(v.Problems, problemView{p.Key, p.Err.Error()})
	}
	return v
}
