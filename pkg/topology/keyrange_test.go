package topology_test

import (
	"sort"
	"strings"
	"testing"

	"github.com/shardmesh/shardmesh/pkg/topology"
)

func TestParseShardName(t *testing.T) {
	tests := map[string]struct {
		name    string
		want    topology.KeyRange
		full    bool
		wantErr string // substring of the error; "" for success
	}{
		"zero is unsharded":        {name: "0", want: topology.KeyRange{}, full: true},
		"dash is unsharded":        {name: "-", want: topology.KeyRange{}, full: true},
		"lower half":               {name: "-80", want: topology.KeyRange{End: "80"}},
		"upper half":               {name: "80-", want: topology.KeyRange{Start: "80"}},
		"middle":                   {name: "40-80", want: topology.KeyRange{Start: "40", End: "80"}},
		"uppercase is lower-cased": {name: "A0-C0", want: topology.KeyRange{Start: "a0", End: "c0"}},
		"longer bounds":            {name: "4000-4080", want: topology.KeyRange{Start: "4000", End: "4080"}},
		"16-digit bounds": {name: "0000000000000001-ffffffffffffffff",
			want: topology.KeyRange{Start: "0000000000000001", End: "ffffffffffffffff"}},
		"no dash":             {name: "80", wantErr: "not a Vitess shard name"},
		"empty":               {name: "", wantErr: "not a Vitess shard name"},
		"odd digits":          {name: "8-", wantErr: "even number"},
		"odd end digits":      {name: "-8", wantErr: "even number"},
		"not hex":             {name: "zz-", wantErr: "even number"},
		"start above end":     {name: "80-40", wantErr: "start is not below end"},
		"start equals end":    {name: "80-80", wantErr: "start is not below end"},
		"equal after padding": {name: "80-8000", wantErr: "start is not below end"},
		"end zero":            {name: "-00", wantErr: "start is not below end"},
		"17 digits":           {name: "-00000000000000000", wantErr: "even number"},
		"18 digits":           {name: "-800000000000000000", wantErr: "even number"},
		"two dashes":          {name: "40-80-c0", wantErr: "even number"},
		"spaces":              {name: " -80", wantErr: "even number"},
		"hex prefix":          {name: "0x80-", wantErr: "even number"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := topology.ParseShardName(tc.name)
			if tc.wantErr != "" {
				if err == nil {
					t.Fatalf("ParseShardName(%q) = %+v, want error containing %q", tc.name, got, tc.wantErr)
				}
				if !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), `"`+tc.name+`"`) {
					t.Fatalf("ParseShardName(%q) error %q, want it to quote the name and contain %q", tc.name, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseShardName(%q): %v", tc.name, err)
			}
			if got != tc.want {
				t.Errorf("ParseShardName(%q) = %+v, want %+v", tc.name, got, tc.want)
			}
			if got.Full() != tc.full {
				t.Errorf("ParseShardName(%q).Full() = %v, want %v", tc.name, got.Full(), tc.full)
			}
		})
	}
}

func TestKeyRangeContains(t *testing.T) {
	tests := map[string]struct {
		shard string
		id    string
		want  bool
	}{
		"lowest id in -80":                  {shard: "-80", id: "0000000000000000", want: true},
		"last id below 80 in -80":           {shard: "-80", id: "7fffffffffffffff", want: true},
		"80 is not in -80":                  {shard: "-80", id: "8000000000000000", want: false},
		"80 is in 80-":                      {shard: "80-", id: "8000000000000000", want: true},
		"highest id in 80-":                 {shard: "80-", id: "ffffffffffffffff", want: true},
		"7fff is not in 80-":                {shard: "80-", id: "7fffffffffffffff", want: false},
		"start of 40-80 included":           {shard: "40-80", id: "4000000000000000", want: true},
		"end of 40-80 excluded":             {shard: "40-80", id: "8000000000000000", want: false},
		"below 40-80":                       {shard: "40-80", id: "3fffffffffffffff", want: false},
		"unsharded holds everything":        {shard: "0", id: "ffffffffffffffff", want: true},
		"dash holds everything":             {shard: "-", id: "0000000000000000", want: true},
		"uppercase id accepted":             {shard: "80-", id: "FFFFFFFFFFFFFFFF", want: true},
		"mixed case id accepted":            {shard: "-80", id: "7FfFfFfFfFfFfFfF", want: true},
		"uppercase id above a letter start": {shard: "a0-", id: "B000000000000000", want: true},
		"uppercase id below a letter end":   {shard: "-c0", id: "BFFFFFFFFFFFFFFF", want: true},
		"uppercase id at a letter end":      {shard: "-c0", id: "C000000000000000", want: false},
		"uppercase shard bounds":            {shard: "A0-C0", id: "b000000000000000", want: true},
		"short id rejected":                 {shard: "0", id: "80", want: false},
		"15 digits rejected":                {shard: "0", id: "000000000000000", want: false},
		"17 digits rejected":                {shard: "0", id: "00000000000000000", want: false},
		"empty id rejected":                 {shard: "0", id: "", want: false},
		"non-hex id rejected":               {shard: "0", id: "000000000000000g", want: false},
		"0x prefix rejected":                {shard: "0", id: "0x00000000000000", want: false},
		"multi-byte rune rejected":          {shard: "0", id: "00000000000000é", want: false},
		"long bound, id just inside":        {shard: "-8001", id: "8000ffffffffffff", want: true},
		"long bound, id at the bound":       {shard: "-8001", id: "8001000000000000", want: false},
		"long start, id just below it":      {shard: "8001-", id: "8000ffffffffffff", want: false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			r, err := topology.ParseShardName(tc.shard)
			if err != nil {
				t.Fatalf("ParseShardName(%q): %v", tc.shard, err)
			}
			if got := r.Contains(tc.id); got != tc.want {
				t.Errorf("%q.Contains(%q) = %v, want %v", tc.shard, tc.id, got, tc.want)
			}
		})
	}
}

// TestKeyRangesPartition: a keyspace id lies in exactly one shard of a
// complete sharding scheme.
func TestKeyRangesPartition(t *testing.T) {
	schemes := map[string][]string{
		"unsharded": {"0"},
		"halves":    {"-80", "80-"},
		"quarters":  {"-40", "40-80", "80-c0", "c0-"},
		"uneven":    {"-4000", "4000-80", "80-8001", "8001-"},
	}
	ids := []string{"0000000000000000", "3fffffffffffffff", "4000000000000000", "7fffffffffffffff",
		"8000000000000000", "8000ffffffffffff", "8001000000000000", "bfffffffffffffff", "c000000000000000", "ffffffffffffffff"}
	for name, shards := range schemes {
		t.Run(name, func(t *testing.T) {
			for _, id := range ids {
				var in []string
				for _, s := range shards {
					r, err := topology.ParseShardName(s)
					if err != nil {
						t.Fatalf("ParseShardName(%q): %v", s, err)
					}
					if r.Contains(id) {
						in = append(in, s)
					}
				}
				if len(in) != 1 {
					t.Errorf("id %s is in shards %v, want exactly one", id, in)
				}
			}
		})
	}
}

func TestKeyRangeLess(t *testing.T) {
	tests := map[string]struct {
		names []string // any order
		want  []string // sorted by Less
	}{
		"halves":              {names: []string{"80-", "-80"}, want: []string{"-80", "80-"}},
		"quarters":            {names: []string{"c0-", "40-80", "-40", "80-c0"}, want: []string{"-40", "40-80", "80-c0", "c0-"}},
		"bound lengths mixed": {names: []string{"8001-", "80-8001", "4000-80", "-4000"}, want: []string{"-4000", "4000-80", "80-8001", "8001-"}},
		"uppercase":           {names: []string{"C0-", "-C0"}, want: []string{"-C0", "C0-"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			type named struct {
				name string
				r    topology.KeyRange
			}
			var rs []named
			for _, n := range tc.names {
				r, err := topology.ParseShardName(n)
				if err != nil {
					t.Fatalf("ParseShardName(%q): %v", n, err)
				}
				rs = append(rs, named{n, r})
			}
			sort.Slice(rs, func(i, j int) bool { return rs[i].r.Less(rs[j].r) })
			var got []string
			for _, r := range rs {
				got = append(got, r.name)
			}
			if strings.Join(got, " ") != strings.Join(tc.want, " ") {
				t.Errorf("sorted %v, want %v", got, tc.want)
			}
			for i := range rs {
				if rs[i].r.Less(rs[i].r) {
					t.Errorf("%s.Less(itself) = true", rs[i].name)
				}
			}
		})
	}
}

func TestKeyRangePaddedBounds(t *testing.T) {
	tests := map[string]struct {
		shard              string
		wantStart, wantEnd string
	}{
		"unsharded":   {shard: "0", wantStart: "0000000000000000", wantEnd: ""},
		"dash":        {shard: "-", wantStart: "0000000000000000", wantEnd: ""},
		"lower half":  {shard: "-80", wantStart: "0000000000000000", wantEnd: "8000000000000000"},
		"upper half":  {shard: "80-", wantStart: "8000000000000000", wantEnd: ""},
		"middle":      {shard: "40-80", wantStart: "4000000000000000", wantEnd: "8000000000000000"},
		"uppercase":   {shard: "A0-C0", wantStart: "a000000000000000", wantEnd: "c000000000000000"},
		"long bound":  {shard: "-8001", wantStart: "0000000000000000", wantEnd: "8001000000000000"},
		"full length": {shard: "0123456789abcdef-", wantStart: "0123456789abcdef", wantEnd: ""},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			r, err := topology.ParseShardName(tc.shard)
			if err != nil {
				t.Fatalf("ParseShardName(%q): %v", tc.shard, err)
			}
			start, end := r.PaddedBounds()
			if start != tc.wantStart || end != tc.wantEnd {
				t.Errorf("%q.PaddedBounds() = (%q, %q), want (%q, %q)", tc.shard, start, end, tc.wantStart, tc.wantEnd)
			}
		})
	}
}
