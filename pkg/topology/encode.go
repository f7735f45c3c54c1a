package topology

import (
	"encoding/json"
	"fmt"
	"math"
	"time"
)

// EncodeTablet returns the JSON record of t as stored under
// P/tablets/<alias>, the inverse of DecodeTablet: a producer of records (the
// tablet agent) writes exactly what the control plane decodes. The record is
// validated with DecodeTablet before it is returned, so an invalid tablet is
// an error naming the field, never a record that would not route. Lag is
// written in milliseconds precision.
func EncodeTablet(t *Tablet) ([]byte, error) {
	lag := math.Round(t.ReplicationLag.Seconds()*1000) / 1000
	weight := int64(t.Weight)
	r := tabletRecord{
		Keyspace:              t.Keyspace,
		Shard:                 t.Shard,
		Type:                  string(t.Type),
		Cell:                  t.Cell,
		Hostname:              t.Hostname,
		PortMap:               make(map[string]int64, len(t.PortMap)),
		State:                 string(t.State),
		HealthError:           t.HealthError,
		ReplicationLagSeconds: &lag,
		Replication:           t.Replication,
		SchemaVersion:         t.SchemaVersion,
		PrimaryTermStart:      formatTime(t.PrimaryTermStart),
		ServingSince:          formatTime(t.ServingSince),
		Weight:                &weight,
		Tags:                  t.Tags,
	}
	for name, p := range t.PortMap {
		r.PortMap[name] = int64(p)
	}
	b, err := json.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("tablet %s: %w", t.Alias, err)
	}
	if _, err := DecodeTablet(t.Alias, b); err != nil {
		return nil, err
	}
	return b, nil
}

func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}
