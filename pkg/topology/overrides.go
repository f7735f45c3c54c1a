package topology

import (
	"fmt"
	"time"
)

// Operator override keys below the etcd prefix P.
const (
	// DrainPrefix + <cell>: reads leave the cell, gradually over the
	// drain's window, until its tablets are DRAINING.
	DrainPrefix = "overrides/drain/"
	// PreferPrefix + <keyspace>: the keyspace's reads go to the named cell
	// first, whatever the client's zone.
	PreferPrefix = "overrides/prefer/"
)

// Drain is an operator's drain of a cell's reads.
type Drain struct {
	Cell      string
	StartedAt time.Time     // zero: drained at once
	Window    time.Duration // how long traffic takes to leave; 0: at once
	Reason    string
}

// Overrides are the operator overrides in force.
type Overrides struct {
	Drains map[string]Drain  // by cell
	Prefer map[string]string // keyspace -> preferred cell
}

type drainRecord struct {
	StartedAt string `json:"started_at"`
	Window    string `json:"window"`
	Reason    string `json:"reason"`
}

// DecodeDrain decodes P/overrides/drain/<cell>:
// {"started_at": "2026-11-24T10:00:00Z", "window": "5m", "reason": "..."}.
func DecodeDrain(cell string, data []byte) (Drain, error) {
	record := "drain " + cell
	if !nameRE.MatchString(cell) {
		return Drain{}, &FieldError{Record: record, Msg: "not a valid cell name"}
	}
	var r drainRecord
	if err := decodeJSON(record, data, &r); err != nil {
		return Drain{}, err
	}
	d := Drain{Cell: cell, Reason: r.Reason}
	var err error
	if d.StartedAt, err = parseTime(r.StartedAt); err != nil {
		return Drain{}, &FieldError{Record: record, Field: "started_at", Msg: err.Error()}
	}
	dur := durations{record: record}
	dur.parse("window", r.Window, &d.Window)
	if dur.err != nil {
		return Drain{}, dur.err
	}
	return d, nil
}

// Step returns how far the drain has got at now: 0 (not started) up to
// steps (fully drained), in equal steps of its window.
func (d Drain) Step(now time.Time, steps int) int {
	if d.Window <= 0 || d.StartedAt.IsZero() {
		return steps
	}
	elapsed := now.Sub(d.StartedAt)
	switch {
	case elapsed < 0:
		return 0
	case elapsed >= d.Window:
		return steps
	}
	return int(elapsed * time.Duration(steps) / d.Window)
}

type preferRecord struct {
	Cell string `json:"cell"`
}

// DecodePrefer decodes P/overrides/prefer/<keyspace>: {"cell": "zone2"}.
func DecodePrefer(keyspace string, data []byte) (string, error) {
	record := "prefer " + keyspace
	if !nameRE.MatchString(keyspace) {
		return "", &FieldError{Record: record, Msg: "not a valid keyspace name"}
	}
	var r preferRecord
	if err := decodeJSON(record, data, &r); err != nil {
		return "", err
	}
	if !nameRE.MatchString(r.Cell) {
		return "", &FieldError{Record: record, Field: "cell", Msg: fmt.Sprintf("%q is not a valid cell name", r.Cell)}
	}
	return r.Cell, nil
}
