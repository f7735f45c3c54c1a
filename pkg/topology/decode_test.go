package topology_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/shardmesh/shardmesh/pkg/topology"
)

// designTablet is the tablet record of DESIGN.md.
const designTablet = `{
  "keyspace": "commerce",
  "shard": "-80",
  "type": "replica",
  "cell": "zone1",
  "hostname": "10.0.0.12",
  "port_map": {"grpc": 15991, "mysql": 3306},
  "state": "SERVING",
  "health_error": "",
  "replication_lag_seconds": 0.4,
  "replication": "semi-sync",
  "schema_version": "v42",
  "primary_term_start": "2026-11-20T10:00:00Z",
  "serving_since": "2026-11-20T10:00:00Z",
  "weight": 100,
  "tags": {"rack": "r7"}
}`

const alias101 = "zone1-0000000101"

// tabletJSON returns designTablet with some fields replaced (raw JSON
// values) and the fields named in drop removed.
func tabletJSON(t *testing.T, set map[string]string, drop ...string) []byte {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(designTablet), &m); err != nil {
		t.Fatal(err)
	}
	for k, v := range set {
		m[k] = json.RawMessage(v)
	}
	for _, k := range drop {
		delete(m, k)
	}
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatalf("marshal %v: %v", set, err)
	}
	return out
}

func TestDecodeTablet(t *testing.T) {
	termStart := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	tests := map[string]struct {
		alias string
		set   map[string]string
		drop  []string
		want  func(*topology.Tablet) // edits the tablet of designTablet
	}{
		"design record": {
			want: func(*topology.Tablet) {},
		},
		"weight defaults to 100": {
			drop: []string{"weight"},
			want: func(*topology.Tablet) {},
		},
		"weight null defaults to 100": {
			set:  map[string]string{"weight": `null`},
			want: func(*topology.Tablet) {},
		},
		"weight bounds 1": {
			set:  map[string]string{"weight": `1`},
			want: func(tb *topology.Tablet) { tb.Weight = 1 },
		},
		"weight bounds 10000": {
			set:  map[string]string{"weight": `10000`},
			want: func(tb *topology.Tablet) { tb.Weight = 10000 },
		},
		"type and state are case-insensitive": {
			set:  map[string]string{"type": `"RePlIcA"`, "state": `"serving"`},
			want: func(*topology.Tablet) {},
		},
		"primary in capitals": {
			set:  map[string]string{"type": `"PRIMARY"`, "state": `"Not_Serving"`},
			want: func(tb *topology.Tablet) { tb.Type, tb.State = topology.TypePrimary, topology.StateNotServing },
		},
		"draining rdonly": {
			set:  map[string]string{"type": `"rdonly"`, "state": `"DRAINING"`},
			want: func(tb *topology.Tablet) { tb.Type, tb.State = topology.TypeRdonly, topology.StateDraining },
		},
		"replication is case-insensitive": {
			set:  map[string]string{"replication": `"ASYNC"`},
			want: func(tb *topology.Tablet) { tb.Replication = topology.ReplicationAsync },
		},
		"shard is lower-cased": {
			set:  map[string]string{"shard": `"40-A0"`},
			want: func(tb *topology.Tablet) { tb.Shard = "40-a0" },
		},
		"unsharded": {
			set:  map[string]string{"shard": `"0"`},
			want: func(tb *topology.Tablet) { tb.Shard = "0" },
		},
		"cell defaults to the alias's cell": {
			drop: []string{"cell"},
			want: func(*topology.Tablet) {},
		},
		"cell with dashes": {
			alias: "us-east-1a-0000000007",
			set:   map[string]string{"cell": `"us-east-1a"`},
			want:  func(tb *topology.Tablet) { tb.Alias, tb.Cell = "us-east-1a-0000000007", "us-east-1a" },
		},
		"times are converted to UTC": {
			set: map[string]string{"primary_term_start": `"2026-11-20T12:00:00+02:00"`, "serving_since": `"2026-11-20T05:00:00.25-05:00"`},
			want: func(tb *topology.Tablet) {
				tb.ServingSince = termStart.Add(250 * time.Millisecond)
			},
		},
		"absent times are zero": {
			drop: []string{"primary_term_start", "serving_since"},
			want: func(tb *topology.Tablet) { tb.PrimaryTermStart, tb.ServingSince = time.Time{}, time.Time{} },
		},
		"absent lag and replication": {
			drop: []string{"replication_lag_seconds", "replication"},
			want: func(tb *topology.Tablet) { tb.ReplicationLag, tb.Replication = 0, "" },
		},
		"fractional lag": {
			set:  map[string]string{"replication_lag_seconds": `12.125`},
			want: func(tb *topology.Tablet) { tb.ReplicationLag = 12125 * time.Millisecond },
		},
		"health error kept": {
			set:  map[string]string{"health_error": `"mysqld down"`},
			want: func(tb *topology.Tablet) { tb.HealthError = "mysqld down" },
		},
		"unknown fields are ignored": {
			set:  map[string]string{"added_in_v2": `{"x": [1, 2]}`},
			want: func(*topology.Tablet) {},
		},
		"port bounds": {
			set:  map[string]string{"port_map": `{"grpc": 1, "mysql": 65535}`},
			want: func(tb *topology.Tablet) { tb.PortMap = map[string]uint32{"grpc": 1, "mysql": 65535} },
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			alias := tc.alias
			if alias == "" {
				alias = alias101
			}
			want := &topology.Tablet{
				Alias:            alias101,
				Keyspace:         "commerce",
				Shard:            "-80",
				Type:             topology.TypeReplica,
				Cell:             "zone1",
				Hostname:         "10.0.0.12",
				PortMap:          map[string]uint32{"grpc": 15991, "mysql": 3306},
				State:            topology.StateServing,
				ReplicationLag:   400 * time.Millisecond,
				Replication:      topology.ReplicationSemiSync,
				SchemaVersion:    "v42",
				PrimaryTermStart: termStart,
				ServingSince:     termStart,
				Weight:           100,
				Tags:             map[string]string{"rack": "r7"},
			}
			tc.want(want)
			got, err := topology.DecodeTablet(alias, tabletJSON(t, tc.set, tc.drop...))
			if err != nil {
				t.Fatalf("DecodeTablet: %v", err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("DecodeTablet (-want +got):\n%s", diff)
			}
			for _, tm := range []time.Time{got.PrimaryTermStart, got.ServingSince} {
				if !tm.IsZero() && tm.Location() != time.UTC {
					t.Errorf("time %v is in %v, want UTC", tm, tm.Location())
				}
			}
		})
	}
}

func TestDecodeTabletErrors(t *testing.T) {
	tests := map[string]struct {
		alias string
		set   map[string]string
		drop  []string
		raw   string // the whole record, instead of set and drop
		want  string // the whole error message
	}{
		"port out of range": {
			set:  map[string]string{"port_map": `{"grpc": 70000}`},
			want: "tablet zone1-0000000101: port_map.grpc: 70000 out of range",
		},
		"port zero": {
			set:  map[string]string{"port_map": `{"mysql": 0}`},
			want: "tablet zone1-0000000101: port_map.mysql: 0 out of range",
		},
		"port negative": {
			set:  map[string]string{"port_map": `{"grpc": -1}`},
			want: "tablet zone1-0000000101: port_map.grpc: -1 out of range",
		},
		"port as string": {
			set:  map[string]string{"port_map": `{"grpc": "15991"}`},
			want: "tablet zone1-0000000101: port_map: want an integer, got JSON string",
		},
		"empty port map": {
			set:  map[string]string{"port_map": `{}`},
			want: "tablet zone1-0000000101: port_map: required",
		},
		"missing port map": {
			drop: []string{"port_map"},
			want: "tablet zone1-0000000101: port_map: required",
		},
		"weight as string": {
			set:  map[string]string{"weight": `"100"`},
			want: "tablet zone1-0000000101: weight: want an integer, got JSON string",
		},
		"weight fractional": {
			set:  map[string]string{"weight": `1.5`},
			want: "tablet zone1-0000000101: weight: want an integer, got JSON number 1.5",
		},
		"weight zero": {
			set:  map[string]string{"weight": `0`},
			want: "tablet zone1-0000000101: weight: 0 out of range 1..10000",
		},
		"weight 10001": {
			set:  map[string]string{"weight": `10001`},
			want: "tablet zone1-0000000101: weight: 10001 out of range 1..10000",
		},
		"lag as string": {
			set:  map[string]string{"replication_lag_seconds": `"0.4"`},
			want: "tablet zone1-0000000101: replication_lag_seconds: want a number, got JSON string",
		},
		"negative lag": {
			set:  map[string]string{"replication_lag_seconds": `-1`},
			want: "tablet zone1-0000000101: replication_lag_seconds: -1 out of range",
		},
		"huge lag": {
			set:  map[string]string{"replication_lag_seconds": `1e300`},
			want: "tablet zone1-0000000101: replication_lag_seconds: 1e+300 out of range",
		},
		"tags not strings": {
			set:  map[string]string{"tags": `{"rack": 7}`},
			want: "tablet zone1-0000000101: tags: want a string, got JSON number",
		},
		"bad alias": {
			alias: "zone1-101",
			want:  `tablet zone1-101: alias "zone1-101" is not <cell>-<10-digit uid>`,
		},
		"alias without cell": {
			alias: "0000000101",
			want:  `tablet 0000000101: alias "0000000101" is not <cell>-<10-digit uid>`,
		},
		"alias with 11 digits": {
			alias: "zone1-00000001011",
			want:  `tablet zone1-00000001011: alias "zone1-00000001011" is not <cell>-<10-digit uid>`,
		},
		"cell mismatch with alias": {
			set:  map[string]string{"cell": `"zone2"`},
			want: `tablet zone1-0000000101: cell: "zone2" does not match the alias's cell "zone1"`,
		},
		"unknown type": {
			set:  map[string]string{"type": `"master2"`},
			want: `tablet zone1-0000000101: type: unknown tablet type "master2"`,
		},
		"missing type": {
			drop: []string{"type"},
			want: "tablet zone1-0000000101: type: required",
		},
		"unknown state": {
			set:  map[string]string{"state": `"UP"`},
			want: `tablet zone1-0000000101: state: unknown state "UP" (want SERVING, NOT_SERVING or DRAINING)`,
		},
		"missing state": {
			drop: []string{"state"},
			want: "tablet zone1-0000000101: state: required",
		},
		"unknown replication": {
			set:  map[string]string{"replication": `"sync"`},
			want: `tablet zone1-0000000101: replication: unknown replication mode "sync" (want semi-sync or async)`,
		},
		"missing keyspace": {
			drop: []string{"keyspace"},
			want: "tablet zone1-0000000101: keyspace: required",
		},
		"bad keyspace name": {
			set:  map[string]string{"keyspace": `"com merce"`},
			want: `tablet zone1-0000000101: keyspace: "com merce" is not a valid keyspace name`,
		},
		"keyspace with a slash": {
			set:  map[string]string{"keyspace": `"a/b"`},
			want: `tablet zone1-0000000101: keyspace: "a/b" is not a valid keyspace name`,
		},
		"missing shard": {
			drop: []string{"shard"},
			want: `tablet zone1-0000000101: shard: "" is not a Vitess shard name (want 0, - or a hex range such as -80, 80-, 40-80)`,
		},
		"bad shard": {
			set:  map[string]string{"shard": `"80-40"`},
			want: `tablet zone1-0000000101: shard: "80-40": start is not below end`,
		},
		"shard as number": {
			set:  map[string]string{"shard": `0`},
			want: "tablet zone1-0000000101: shard: want a string, got JSON number",
		},
		"missing hostname": {
			drop: []string{"hostname"},
			want: "tablet zone1-0000000101: hostname: required",
		},
		"bad primary_term_start": {
			set:  map[string]string{"primary_term_start": `"2026-11-20 10:00:00"`},
			want: `tablet zone1-0000000101: primary_term_start: "2026-11-20 10:00:00" is not an RFC 3339 time`,
		},
		"serving_since without zone": {
			set:  map[string]string{"serving_since": `"2026-11-20T10:00:00"`},
			want: `tablet zone1-0000000101: serving_since: "2026-11-20T10:00:00" is not an RFC 3339 time`,
		},
		"serving_since as unix time": {
			set:  map[string]string{"serving_since": `1763632800`},
			want: "tablet zone1-0000000101: serving_since: want a string, got JSON number",
		},
		"not JSON": {
			raw:  `keyspace: commerce`,
			want: "tablet zone1-0000000101: not a JSON object: invalid character 'k' looking for beginning of value",
		},
		"empty value": {
			raw:  ``,
			want: "tablet zone1-0000000101: not a JSON object: EOF",
		},
		"truncated": {
			raw:  `{"keyspace": "commerce"`,
			want: "tablet zone1-0000000101: not a JSON object: unexpected EOF",
		},
		"trailing object": {
			raw:  designTablet + `{}`,
			want: "tablet zone1-0000000101: trailing data after the JSON object",
		},
		"trailing brace": {
			raw:  designTablet + `}`,
			want: "tablet zone1-0000000101: trailing data after the JSON object",
		},
		"trailing bracket": {
			raw:  designTablet + ` ]`,
			want: "tablet zone1-0000000101: trailing data after the JSON object",
		},
		"array": {
			raw:  `[` + designTablet + `]`,
			want: "tablet zone1-0000000101: want an object, got JSON array",
		},
		"string": {
			raw:  `"commerce"`,
			want: "tablet zone1-0000000101: want an object, got JSON string",
		},
		"null": {
			raw:  `null`,
			want: "tablet zone1-0000000101: keyspace: required",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			alias := tc.alias
			if alias == "" {
				alias = alias101
			}
			data := []byte(tc.raw)
			if tc.raw == "" && (tc.set != nil || tc.drop != nil || tc.alias != "") {
				data = tabletJSON(t, tc.set, tc.drop...)
			}
			got, err := topology.DecodeTablet(alias, data)
			if err == nil {
				t.Fatalf("DecodeTablet = %+v, want error %q", got, tc.want)
			}
			if got != nil {
				t.Errorf("DecodeTablet returned a tablet with error %v", err)
			}
			if err.Error() != tc.want {
				t.Errorf("error\n  %s\nwant\n  %s", err, tc.want)
			}
			if !errors.Is(err, topology.ErrInvalid) {
				t.Errorf("errors.Is(%v, ErrInvalid) = false", err)
			}
			var fe *topology.FieldError
			if !errors.As(err, &fe) || fe.Record != "tablet "+alias {
				t.Errorf("error %v is not a *FieldError of record %q", err, "tablet "+alias)
			}
		})
	}
}

// TestDecodeTabletVitessTypes: Vitess's other tablet types are valid records
// that never receive traffic.
func TestDecodeTabletVitessTypes(t *testing.T) {
	tests := map[string]struct {
		typ      string
		want     topology.TabletType
		routable bool
	}{
		"primary":      {typ: "primary", want: topology.TypePrimary, routable: true},
		"replica":      {typ: "REPLICA", want: topology.TypeReplica, routable: true},
		"rdonly":       {typ: "Rdonly", want: topology.TypeRdonly, routable: true},
		"spare":        {typ: "spare", want: topology.TypeSpare},
		"backup":       {typ: "BACKUP", want: topology.TypeBackup},
		"restore":      {typ: "restore", want: topology.TypeRestore},
		"drained":      {typ: "Drained", want: topology.TypeDrained},
		"experimental": {typ: "experimental", want: topology.TypeExperimental},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			tb, err := topology.DecodeTablet(alias101, tabletJSON(t, map[string]string{"type": `"` + tc.typ + `"`}))
			if err != nil {
				t.Fatalf("DecodeTablet: %v", err)
			}
			if tb.Type != tc.want {
				t.Errorf("Type = %q, want %q", tb.Type, tc.want)
			}
			if tb.Type.Routable() != tc.routable {
				t.Errorf("%q.Routable() = %v, want %v", tb.Type, tb.Type.Routable(), tc.routable)
			}
		})
	}
}

func TestParseAlias(t *testing.T) {
	tests := map[string]struct {
		alias     string
		cell, uid string
		wantErr   bool
	}{
		"simple":         {alias: "zone1-0000000101", cell: "zone1", uid: "0000000101"},
		"cell with dash": {alias: "us-east-1a-0000000002", cell: "us-east-1a", uid: "0000000002"},
		"short uid":      {alias: "zone1-101", wantErr: true},
		"no cell":        {alias: "-0000000101", wantErr: true},
		"uid not digits": {alias: "zone1-000000010a", wantErr: true},
		"trailing dash":  {alias: "zone1-0000000101-", wantErr: true},
		"slash in cell":  {alias: "a/b-0000000101", wantErr: true},
		"empty":          {alias: "", wantErr: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			cell, uid, err := topology.ParseAlias(tc.alias)
			if (err != nil) != tc.wantErr {
				t.Fatalf("ParseAlias(%q) error %v, want error %v", tc.alias, err, tc.wantErr)
			}
			if cell != tc.cell || uid != tc.uid {
				t.Errorf("ParseAlias(%q) = %q, %q, want %q, %q", tc.alias, cell, uid, tc.cell, tc.uid)
			}
			if err != nil && !strings.Contains(err.Error(), tc.alias) {
				t.Errorf("error %q does not name the alias", err)
			}
		})
	}
}

func TestDecodeCell(t *testing.T) {
	tests := map[string]struct {
		name    string
		data    string
		want    topology.Cell
		wantErr string
	}{
		"region and zone": {
			name: "zone1", data: `{"region": "us-east-1", "zone": "us-east-1a"}`,
			want: topology.Cell{Name: "zone1", Region: "us-east-1", Zone: "us-east-1a"},
		},
		"zone defaults to the name": {
			name: "us-east-1a", data: `{"region": "us-east-1"}`,
			want: topology.Cell{Name: "us-east-1a", Region: "us-east-1", Zone: "us-east-1a"},
		},
		"empty zone defaults to the name": {
			name: "zone2", data: `{"region": "us-east-1", "zone": ""}`,
			want: topology.Cell{Name: "zone2", Region: "us-east-1", Zone: "zone2"},
		},
		"region required": {
			name: "zone1", data: `{"zone": "us-east-1a"}`,
			wantErr: "cell zone1: region: required",
		},
		"empty record": {
			name: "zone1", data: `{}`,
			wantErr: "cell zone1: region: required",
		},
		"region as number": {
			name: "zone1", data: `{"region": 1}`,
			wantErr: "cell zone1: region: want a string, got JSON number",
		},
		"bad name": {
			name: "zone 1", data: `{"region": "us-east-1"}`,
			wantErr: "cell zone 1: not a valid cell name",
		},
		"nested key": {
			name: "a/b", data: `{"region": "us-east-1"}`,
			wantErr: "cell a/b: not a valid cell name",
		},
		"not JSON": {
			name: "zone1", data: `region: us-east-1`,
			wantErr: "cell zone1: not a JSON object: invalid character 'r' looking for beginning of value",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := topology.DecodeCell(tc.name, []byte(tc.data))
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("DecodeCell = %+v, %v; want error %q", got, err, tc.wantErr)
				}
				if !errors.Is(err, topology.ErrInvalid) {
					t.Errorf("errors.Is(%v, ErrInvalid) = false", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("DecodeCell: %v", err)
			}
			if got != tc.want {
				t.Errorf("DecodeCell = %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestDecodeRoutingRules(t *testing.T) {
	tests := map[string]struct {
		data    string
		want    []topology.RoutingRule
		wantErr string
	}{
		"keyspace and type": {
			data: `{"rules":[{"from_keyspace":"ks@replica","to_keyspace":"ks2"}]}`,
			want: []topology.RoutingRule{{FromKeyspace: "ks", TabletType: topology.TypeReplica, ToKeyspace: "ks2"}},
		},
		"plain keyspace": {
			data: `{"rules":[{"from_keyspace":"ks","to_keyspace":"ks2"}]}`,
			want: []topology.RoutingRule{{FromKeyspace: "ks", ToKeyspace: "ks2"}},
		},
		"type is case-insensitive": {
			data: `{"rules":[{"from_keyspace":"ks@RDONLY","to_keyspace":"ks2"}]}`,
			want: []topology.RoutingRule{{FromKeyspace: "ks", TabletType: topology.TypeRdonly, ToKeyspace: "ks2"}},
		},
		"several rules keep their order": {
			data: `{"rules":[{"from_keyspace":"b","to_keyspace":"c"},{"from_keyspace":"a@primary","to_keyspace":"c"},{"from_keyspace":"a","to_keyspace":"d"}]}`,
			want: []topology.RoutingRule{
				{FromKeyspace: "b", ToKeyspace: "c"},
				{FromKeyspace: "a", TabletType: topology.TypePrimary, ToKeyspace: "c"},
				{FromKeyspace: "a", ToKeyspace: "d"},
			},
		},
		"no rules": {
			data: `{"rules":[]}`,
			want: []topology.RoutingRule{},
		},
		"empty object": {
			data: `{}`,
			want: []topology.RoutingRule{},
		},
		"type without keyspace": {
			data:    `{"rules":[{"from_keyspace":"@rdonly","to_keyspace":"ks2"}]}`,
			wantErr: `routing/keyspace_rules: rules[0].from_keyspace: "@rdonly" is not <keyspace> or <keyspace>@<tablet type>`,
		},
		"at without type": {
			data:    `{"rules":[{"from_keyspace":"ks@","to_keyspace":"ks2"}]}`,
			wantErr: `routing/keyspace_rules: rules[0].from_keyspace: "ks@" is not <keyspace> or <keyspace>@<tablet type>`,
		},
		"unroutable type": {
			data:    `{"rules":[{"from_keyspace":"ks@spare","to_keyspace":"ks2"}]}`,
			wantErr: `routing/keyspace_rules: rules[0].from_keyspace: tablet type "spare" is not primary, replica or rdonly`,
		},
		"unknown type": {
			data:    `{"rules":[{"from_keyspace":"ks@replcia","to_keyspace":"ks2"}]}`,
			wantErr: `routing/keyspace_rules: rules[0].from_keyspace: tablet type "replcia" is not primary, replica or rdonly`,
		},
		"two ats": {
			data:    `{"rules":[{"from_keyspace":"ks@replica@x","to_keyspace":"ks2"}]}`,
			wantErr: `routing/keyspace_rules: rules[0].from_keyspace: tablet type "replica@x" is not primary, replica or rdonly`,
		},
		"missing from": {
			data:    `{"rules":[{"to_keyspace":"ks2"}]}`,
			wantErr: `routing/keyspace_rules: rules[0].from_keyspace: "" is not <keyspace> or <keyspace>@<tablet type>`,
		},
		"missing to": {
			data:    `{"rules":[{"from_keyspace":"ks"}]}`,
			wantErr: `routing/keyspace_rules: rules[0].to_keyspace: "" is not a valid keyspace name`,
		},
		"to with a type": {
			data:    `{"rules":[{"from_keyspace":"ks","to_keyspace":"ks2@replica"}]}`,
			wantErr: `routing/keyspace_rules: rules[0].to_keyspace: "ks2@replica" is not a valid keyspace name`,
		},
		"duplicate from_keyspace": {
			data:    `{"rules":[{"from_keyspace":"ks","to_keyspace":"a"},{"from_keyspace":"ks","to_keyspace":"b"}]}`,
			wantErr: `routing/keyspace_rules: rules[1].from_keyspace: "ks" has more than one rule`,
		},
		"duplicate from_keyspace with type": {
			data:    `{"rules":[{"from_keyspace":"x","to_keyspace":"a"},{"from_keyspace":"ks@replica","to_keyspace":"a"},{"from_keyspace":"ks@replica","to_keyspace":"b"}]}`,
			wantErr: `routing/keyspace_rules: rules[2].from_keyspace: "ks@replica" has more than one rule`,
		},
		"duplicate differing only in the type's case": {
			data:    `{"rules":[{"from_keyspace":"ks@replica","to_keyspace":"a"},{"from_keyspace":"ks@REPLICA","to_keyspace":"b"}]}`,
			wantErr: `routing/keyspace_rules: rules[1].from_keyspace: "ks@REPLICA" has more than one rule`,
		},
		"rules not a list": {
			data:    `{"rules":{"from_keyspace":"ks","to_keyspace":"ks2"}}`,
			wantErr: `routing/keyspace_rules: rules: want an array, got JSON object`,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := topology.DecodeRoutingRules([]byte(tc.data))
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("DecodeRoutingRules = %+v, %v; want error\n  %s", got, err, tc.wantErr)
				}
				if !errors.Is(err, topology.ErrInvalid) {
					t.Errorf("errors.Is(%v, ErrInvalid) = false", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("DecodeRoutingRules: %v", err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("DecodeRoutingRules (-want +got):\n%s", diff)
			}
		})
	}
}
