package topology

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"strings"
	"time"
)

// ErrInvalid is wrapped by every validation error, so callers can tell bad
// input from other failures with errors.Is.
var ErrInvalid = errors.New("invalid record")

// FieldError is a validation error of one field of one record. Its message
// names the record and the field: "tablet zone1-0000000101: port_map.grpc:
// 70000 out of range".
type FieldError struct {
	Record string // "tablet zone1-0000000101", "keyspace commerce", ...
	Field  string // JSON path of the field, "" for the record as a whole
	Msg    string
}

func (e *FieldError) Error() string {
	if e.Field == "" {
		return e.Record + ": " + e.Msg
	}
	return e.Record + ": " + e.Field + ": " + e.Msg
}

// Unwrap makes every FieldError match ErrInvalid.
func (e *FieldError) Unwrap() error { return ErrInvalid }

var aliasRE = regexp.MustCompile(`^([A-Za-z0-9_.]+(?:-[A-Za-z0-9_.]+)*)-([0-9]{10})$`)

// ParseAlias splits a Vitess tablet alias "<cell>-<uid>" (uid: 10 digits).
func ParseAlias(alias string) (cell, uid string, err error) {
	m := aliasRE.FindStringSubmatch(alias)
	if m == nil {
		return "", "", fmt.Errorf("alias %q is not <cell>-<10-digit uid>", alias)
	}
	return m[1], m[2], nil
}

// decodeJSON decodes a record strictly enough to name the offending field on
// a type mismatch; unknown fields are ignored so that newer writers can add
// fields.
func decodeJSON(record string, data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return &FieldError{Record: record, Field: te.Field, Msg: fmt.Sprintf("want %s, got JSON %s", jsonKind(te.Type), te.Value)}
		}
		return &FieldError{Record: record, Msg: "not a JSON object: " + err.Error()}
	}
	// dec.More would miss a stray '}' or ']': anything but the end of input
	// after the object is an error.
	if _, err := dec.Token(); err != io.EOF {
		return &FieldError{Record: record, Msg: "trailing data after the JSON object"}
	}
	return nil
}

// jsonKind names the JSON form a Go type decodes from, for error messages
// that users read ("want an integer", not "want int64" or a struct type).
func jsonKind(t reflect.Type) string {
	if t == nil {
		return "another type"
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Bool:
		return "a boolean"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Pointer:
		return jsonKind(t.Elem())
	}
	return "an object"
}

type tabletRecord struct {
	Keyspace              string            `json:"keyspace"`
	Shard                 string            `json:"shard"`
	Type                  string            `json:"type"`
	Cell                  string            `json:"cell"`
	Hostname              string            `json:"hostname"`
	PortMap               map[string]int64  `json:"port_map"`
	State                 string            `json:"state"`
	HealthError           string            `json:"health_error"`
	ReplicationLagSeconds *float64          `json:"replication_lag_seconds"`
	Replication           string            `json:"replication"`
	SchemaVersion         string            `json:"schema_version"`
	PrimaryTermStart      string            `json:"primary_term_start"`
	ServingSince          string            `json:"serving_since"`
	Weight                *int64            `json:"weight"`
	Tags                  map[string]string `json:"tags"`
}

// DecodeTablet decodes and validates the JSON tablet record stored under
// P/tablets/<alias>. Errors are *FieldError values.
func DecodeTablet(alias string, data []byte) (*Tablet, error) {
	record := "tablet " + alias
	fail := func(field, format string, args ...any) (*Tablet, error) {
		return nil, &FieldError{Record: record, Field: field, Msg: fmt.Sprintf(format, args...)}
	}
	aliasCell, _, err := ParseAlias(alias)
	if err != nil {
		return fail("", "%v", err)
	}
	var r tabletRecord
	if err := decodeJSON(record, data, &r); err != nil {
		return nil, err
	}
	t := &Tablet{
		Alias:         alias,
		Keyspace:      r.Keyspace,
		Shard:         strings.ToLower(r.Shard),
		Type:          TabletType(strings.ToLower(r.Type)),
		Cell:          r.Cell,
		Hostname:      r.Hostname,
		State:         ServingState(strings.ToUpper(r.State)),
		HealthError:   r.HealthError,
		Replication:   strings.ToLower(r.Replication),
		SchemaVersion: r.SchemaVersion,
		Weight:        DefaultTabletWeight,
		Tags:          r.Tags,
	}
	if t.Keyspace == "" {
		return fail("keyspace", "required")
	}
	if !nameRE.MatchString(t.Keyspace) {
		return fail("keyspace", "%q is not a valid keyspace name", t.Keyspace)
	}
	if _, err := ParseShardName(t.Shard); err != nil {
		return fail("shard", "%v", err)
	}
	switch t.Type {
	case TypePrimary, TypeReplica, TypeRdonly, TypeSpare, TypeBackup, TypeRestore, TypeDrained, TypeExperimental:
	case "":
		return fail("type", "required")
	default:
		return fail("type", "unknown tablet type %q", r.Type)
	}
	if t.Cell == "" {
		t.Cell = aliasCell
	} else if t.Cell != aliasCell {
		return fail("cell", "%q does not match the alias's cell %q", t.Cell, aliasCell)
	}
	if t.Hostname == "" {
		return fail("hostname", "required")
	}
	if len(r.PortMap) == 0 {
		return fail("port_map", "required")
	}
	t.PortMap = make(map[string]uint32, len(r.PortMap))
	for name, p := range r.PortMap {
		if p < 1 || p > 65535 {
			return fail("port_map."+name, "%d out of range", p)
		}
		t.PortMap[name] = uint32(p)
	}
	switch t.State {
	case StateServing, StateNotServing, StateDraining:
	case "":
		return fail("state", "required")
	default:
		return fail("state", "unknown state %q (want SERVING, NOT_SERVING or DRAINING)", r.State)
	}
	if r.ReplicationLagSeconds != nil {
		lag := *r.ReplicationLagSeconds
		if lag < 0 || lag > 1e9 {
			return fail("replication_lag_seconds", "%v out of range", lag)
		}
		t.ReplicationLag = time.Duration(lag * float64(time.Second))
	}
	switch t.Replication {
	case "", ReplicationSemiSync, ReplicationAsync:
	default:
		return fail("replication", "unknown replication mode %q (want semi-sync or async)", r.Replication)
	}
	if t.PrimaryTermStart, err = parseTime(r.PrimaryTermStart); err != nil {
		return fail("primary_term_start", "%v", err)
	}
	if t.ServingSince, err = parseTime(r.ServingSince); err != nil {
		return fail("serving_since", "%v", err)
	}
	if r.Weight != nil {
		if *r.Weight < 1 || *r.Weight > 10000 {
			return fail("weight", "%d out of range 1..10000", *r.Weight)
		}
		t.Weight = uint32(*r.Weight)
	}
	return t, nil
}

func parseTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not an RFC 3339 time", s)
	}
	return t.UTC(), nil
}

var nameRE = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]*$`)

type cellRecord struct {
	Region string `json:"region"`
	Zone   string `json:"zone"`
}

// DecodeCell decodes the JSON cell record stored under P/cells/<name>.
func DecodeCell(name string, data []byte) (Cell, error) {
	record := "cell " + name
	if !nameRE.MatchString(name) {
		return Cell{}, &FieldError{Record: record, Msg: "not a valid cell name"}
	}
	var r cellRecord
	if err := decodeJSON(record, data, &r); err != nil {
		return Cell{}, err
	}
	if r.Region == "" {
		return Cell{}, &FieldError{Record: record, Field: "region", Msg: "required"}
	}
	c := Cell{Name: name, Region: r.Region, Zone: r.Zone}
	if c.Zone == "" {
		c.Zone = name
	}
	return c, nil
}
