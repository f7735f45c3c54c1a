package topology

import (
	"fmt"
	"strings"
)

// KeyspaceIDHexLen is the length of a keyspace id in hex digits (8 bytes),
// the form clients send in the x-keyspace-id header.
const KeyspaceIDHexLen = 16

// KeyRange is a shard's half-open range [Start, End) of keyspace ids, as
// lower-case hex prefixes; an empty Start or End is unbounded.
type KeyRange struct {
	Start string
	End   string
}

// ParseShardName parses a Vitess shard name: "0" or "-" for the whole range,
// else "<start>-<end>" with hex bounds, either of which may be empty.
func ParseShardName(name string) (KeyRange, error) {
	if name == "0" || name == "-" {
		return KeyRange{}, nil
	}
	start, end, ok := strings.Cut(name, "-")
	if !ok {
		return KeyRange{}, fmt.Errorf("%q is not a Vitess shard name (want 0, - or a hex range such as -80, 80-, 40-80)", name)
	}
	start, end = strings.ToLower(start), strings.ToLower(end)
	for _, b := range []string{start, end} {
		if len(b) > KeyspaceIDHexLen || len(b)%2 != 0 || !isHex(b) {
			return KeyRange{}, fmt.Errorf("%q: bound %q is not an even number of at most %d hex digits", name, b, KeyspaceIDHexLen)
		}
	}
	r := KeyRange{Start: start, End: end}
	if end != "" && r.paddedStart() >= r.paddedEnd() {
		return KeyRange{}, fmt.Errorf("%q: start is not below end", name)
	}
	return r, nil
}

// Full reports whether the range covers every keyspace id.
func (r KeyRange) Full() bool { return r.Start == "" && r.End == "" }

// Contains reports whether the hex keyspace id (KeyspaceIDHexLen digits,
// any case) falls in the range.
func (r KeyRange) Contains(keyspaceID string) bool {
	if len(keyspaceID) != KeyspaceIDHexLen || !isHex(keyspaceID) {
		return false
	}
	id := strings.ToLower(keyspaceID)
	return id >= r.paddedStart() && (r.End == "" || id < r.paddedEnd())
}

// Less orders ranges by start.
func (r KeyRange) Less(o KeyRange) bool { return r.paddedStart() < o.paddedStart() }

// PaddedBounds returns Start and End right-padded with zeros to
// KeyspaceIDHexLen digits; end is "" when unbounded.
func (r KeyRange) PaddedBounds() (start, end string) {
	if r.End == "" {
		return r.paddedStart(), ""
	}
	return r.paddedStart(), r.paddedEnd()
}

func (r KeyRange) paddedStart() string { return pad(r.Start) }
func (r KeyRange) paddedEnd() string   { return pad(r.End) }

func pad(b string) string { return b + strings.Repeat("0", KeyspaceIDHexLen-len(b)) }

func isHex(s string) bool {
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}
