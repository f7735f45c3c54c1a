package clients

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
)

// Family is an xDS client implementation.
type Family string

// Families told apart by their user agent name.
const (
	Envoy    Family = "envoy"
	GRPCGo   Family = "grpc-go"
	GRPCJS   Family = "grpc-js" // @grpc/grpc-js-xds ("gRPC Node Pure JS")
	GRPCJava Family = "grpc-java"
	// GRPCCore is gRPC C-core, the xDS client of gRPC C++, Python, Ruby,
	// PHP and Objective-C.
	GRPCCore Family = "grpc-core"
	// GRPCOther is a gRPC client of no family above.
	GRPCOther Family = "grpc"
	Unknown   Family = "unknown"
)

// Proxyless reports whether the family is a proxyless gRPC client (as
// opposed to Envoy; Unknown counts as neither).
func (f Family) Proxyless() bool {
	switch f {
	case GRPCGo, GRPCJS, GRPCJava, GRPCCore, GRPCOther:
		return true
	}
	return false
}

// Encoding is a way of writing resources that a set of clients accepts.
type Encoding string

const (
	// Current writes header matchers with string_match (Envoy's v3 API;
	// gRPC from gRFC A63 on): Envoy and gRPC releases from mid-2023 on.
	Current Encoding = "current"
	// Legacy writes header matchers with exact_match and
	// safe_regex_match, which every gRPC release reads and Envoy loads
	// with a deprecation warning.
	Legacy Encoding = "legacy"
	// LegacyCore is Legacy with a last route that fails calls no other
	// route matches with UNAVAILABLE: gRPC C-core before A63 fails them
	// with INTERNAL otherwise (grpc-go of that age would fail them with
	// INTERNAL on such a route, so only C-core gets it).
	LegacyCore Encoding = "legacy-core"
)

// ParseEncoding reads an encoding's name; "" is Current.
func ParseEncoding(s string) (Encoding, error) {
	switch e := Encoding(s); e {
	case "":
		return Current, nil
	case Current, Legacy, LegacyCore:
		return e, nil
	}
	return "", fmt.Errorf("encoding %q: want %s, %s or %s", s, Current, Legacy, LegacyCore)
}

// FeatureNoOverprovisioning is the client feature every proxyless gRPC
// client announces: it ignores the overprovisioning factor.
const FeatureNoOverprovisioning = "envoy.lb.does_not_support_overprovisioning"

// Client is what a node is: its family, its release ("" when unknown) and
// the encoding it gets.
type Client struct {
	Family   Family   `json:"family"`
	Version  string   `json:"version,omitempty"`
	Encoding Encoding `json:"encoding"`
}

func (c Client) String() string {
	v := c.Version
	if v == "" {
		v = "?"
	}
	return fmt.Sprintf("%s %s (%s)", c.Family, v, c.Encoding)
}

// a63 is, per gRPC family, the first release that reads string_match in
// header matchers (gRFC A63): grpc-go v1.56.0 (grpc/grpc-go#6313), C-core
// 1.56 (grpc/grpc#32993), grpc-java 1.53 (grpc/grpc-java#9845),
// grpc-js-xds 1.9 (grpc/grpc-node#2462).
var a63 = map[Family]version{
	GRPCGo:   {major: 1, minor: 56},
	GRPCCore: {major: 1, minor: 56},
	GRPCJava: {major: 1, minor: 53},
	GRPCJS:   {major: 1, minor: 9},
}

// Classify returns what the node is and the encoding it gets (see the
// package comment for the rule). A nil node is Unknown.
func Classify(node *corev3.Node) Client {
	name := strings.ToLower(node.GetUserAgentName())
	if name == "envoy" {
		return Client{Family: Envoy, Version: envoyVersion(node), Encoding: Current}
	}
	f := grpcFamily(name)
	if f == Unknown && slices.Contains(node.GetClientFeatures(), FeatureNoOverprovisioning) {
		f = GRPCOther
	}
	if f == Unknown {
		return Client{Family: Unknown, Encoding: Legacy}
	}
	c := Client{Family: f, Encoding: Legacy}
	if f == GRPCCore {
		c.Encoding = LegacyCore
	}
	v, ok := releaseOf(f, node.GetUserAgentVersion())
	if !ok {
		return c
	}
	c.Version = v.String()
	if first, known := a63[f]; known && !v.less(first) {
		c.Encoding = Current
	}
	return c
}

func grpcFamily(name string) Family {
	switch {
	case name == "grpc go":
		return GRPCGo
	case name == "grpc java":
		return GRPCJava
	case strings.HasPrefix(name, "grpc node"):
		return GRPCJS
	case strings.HasPrefix(name, "grpc c-core"):
		return GRPCCore
	case strings.Contains(name, "grpc"):
		return GRPCOther
	}
	return Unknown
}

// semver finds "major.minor[.patch]" in a user agent version.
var semver = regexp.MustCompile(`(\d+)\.(\d+)(?:\.(\d+))?`)

// releaseOf returns the gRPC release a user agent version names. C-core
// announces "C-core <core version>[ <language> <release>]": the core
// version (29.0.0 for release 1.51) is not a release, so only a wrapper's
// release counts.
func releaseOf(f Family, ua string) (version, bool) {
	if f == GRPCCore {
		fields := strings.Fields(ua)
		if len(fields) < 4 || fields[0] != "C-core" {
			return version{}, false
		}
		ua = fields[len(fields)-1]
	}
	return parseVersion(ua)
}

func envoyVersion(node *corev3.Node) string {
	if bv := node.GetUserAgentBuildVersion(); bv != nil && bv.GetVersion() != nil {
		v := bv.GetVersion()
		return fmt.Sprintf("%d.%d.%d", v.GetMajorNumber(), v.GetMinorNumber(), v.GetPatch())
	}
	return ""
}

// version is a release's major, minor and patch numbers.
type version struct{ major, minor, patch int }

func parseVersion(s string) (version, bool) {
	m := semver.FindStringSubmatch(s)
	if m == nil {
		return version{}, false
	}
	var v version
	v.major, _ = strconv.Atoi(m[1])
	v.minor, _ = strconv.Atoi(m[2])
	if m[3] != "" {
		v.patch, _ = strconv.Atoi(m[3])
	}
	return v, true
}

func (v version) less(w version) bool {
	if v.major != w.major {
		return v.major < w.major
	}
	return v.minor < w.minor
}

func (v version) String() string { return fmt.Sprintf("%d.%d.%d", v.major, v.minor, v.patch) }
