package translate

import (
	"strings"

	"github.com/shardmesh/shardmesh/pkg/topology"
)

const hexDigits = "0123456789abcdef"

// anyHex matches one hex digit of either case.
const anyHex = "[0-9a-fA-F]"

// keyRangeRegex returns an RE2 pattern that fully matches exactly the
// keyspace ids (topology.KeyspaceIDHexLen hex digits, either case) in the
// range. Envoy and gRPC both apply safe_regex to the whole header value, so
// no anchors are needed. It returns "" when the range is the full range.
func keyRangeRegex(r topology.KeyRange) string {
	if r.Full() {
		return ""
	}
	lo, hi := r.PaddedBounds()
	return alternation(between(lo, hi))
}

// between returns patterns for the fixed-width hex strings s with
// lo <= s < hi; hi == "" means no upper bound.
func between(lo, hi string) []string {
	if hi == "" {
		return atLeast(lo)
	}
	i := 0
	for i < len(lo) && lo[i] == hi[i] {
		i++
	}
	var prefix string
	for _, c := range []byte(lo[:i]) {
		prefix += digit(c)
	}
	rest := len(lo) - i - 1
	var out []string
	for _, p := range atLeast(lo[i+1:]) {
		out = append(out, prefix+digit(lo[i])+p)
	}
	if d := digitRange(lo[i]+1, hi[i]-1); d != "" {
		out = append(out, prefix+d+repeat(rest))
	}
	for _, p := range below(hi[i+1:]) {
		out = append(out, prefix+digit(hi[i])+p)
	}
	return out
}

// atLeast returns patterns for the strings of len(lo) digits that are >= lo.
func atLeast(lo string) []string {
	if strings.Trim(lo, "0") == "" {
		return []string{repeat(len(lo))}
	}
	var out []string
	for _, p := range atLeast(lo[1:]) {
		out = append(out, digit(lo[0])+p)
	}
	if d := digitRange(lo[0]+1, 'f'); d != "" {
		out = append(out, d+repeat(len(lo)-1))
	}
	return out
}

// below returns patterns for the strings of len(hi) digits that are < hi.
func below(hi string) []string {
	if strings.Trim(hi, "0") == "" {
		return nil
	}
	var out []string
	if d := digitRange('0', hi[0]-1); d != "" {
		out = append(out, d+repeat(len(hi)-1))
	}
	for _, p := range below(hi[1:]) {
		out = append(out, digit(hi[0])+p)
	}
	return out
}

func alternation(ps []string) string {
	if len(ps) == 1 {
		return ps[0]
	}
	return "(?:" + strings.Join(ps, "|") + ")"
}

func repeat(n int) string {
	switch n {
	case 0:
		return ""
	case 1:
		return anyHex
	}
	return anyHex + "{" + itoa(n) + "}"
}

func itoa(n int) string {
	if n < 10 {
		return string(rune('0' + n))
	}
	return string(rune('0'+n/10)) + string(rune('0'+n%10))
}

// digit matches one hex digit (given in lower case) in either case.
func digit(c byte) string {
	if c >= 'a' {
		return "[" + string(c) + string(c-'a'+'A') + "]"
	}
	return string(c)
}

// digitRange matches the hex digits from a to b inclusive (lower-case
// bytes), in either case; "" when the range is empty.
func digitRange(a, b byte) string {
	ia, ib := strings.IndexByte(hexDigits, a), strings.IndexByte(hexDigits, b)
	if a > b || ia < 0 || ib < 0 || ia > ib {
		return ""
	}
	var sb strings.Builder
	sb.WriteByte('[')
	for _, c := range []byte(hexDigits[ia : ib+1]) {
		sb.WriteByte(c)
		if c >= 'a' {
			sb.WriteByte(c - 'a' + 'A')
		}
	}
	sb.WriteByte(']')
	return sb.String()
}
