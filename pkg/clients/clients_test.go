package clients

import (
	"testing"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
)

func TestClassify(t *testing.T) {
	grpcFeatures := []string{FeatureNoOverprovisioning, "xds.config.resource-in-sotw"}
	envoyBuild := &corev3.Node_UserAgentBuildVersion{UserAgentBuildVersion: &corev3.BuildVersion{
		Version: &typev3.SemanticVersion{MajorNumber: 1, MinorNumber: 31, Patch: 2},
	}}
	for name, tc := range map[string]struct {
		node *corev3.Node
		want Client
	}{
		// What the clients of make test announce, as logged by xds-server.
		"Debian 12 python3-grpcio": {
			&corev3.Node{UserAgentName: "gRPC C-core linux Python", UserAgentVersionType: uav("C-core 29.0.0 Python 1.51.1"), ClientFeatures: grpcFeatures},
			Client{GRPCCore, "1.51.1", LegacyCore},
		},
		"grpc-go 1.85": {
			&corev3.Node{UserAgentName: "gRPC Go", UserAgentVersionType: uav("1.85.0"), ClientFeatures: grpcFeatures},
			Client{GRPCGo, "1.85.0", Current},
		},
		"grpc-go 1.55, the last release before A63": {
			&corev3.Node{UserAgentName: "gRPC Go", UserAgentVersionType: uav("1.55.0")},
			Client{GRPCGo, "1.55.0", Legacy},
		},
		"grpc-go 1.56, the first release with A63": {
			&corev3.Node{UserAgentName: "gRPC Go", UserAgentVersionType: uav("1.56.0-dev")},
			Client{GRPCGo, "1.56.0", Current},
		},
		"grpc-js-xds 1.14.1": {
			&corev3.Node{UserAgentName: "gRPC Node Pure JS", UserAgentVersionType: uav("1.14.1"), ClientFeatures: grpcFeatures[:1]},
			Client{GRPCJS, "1.14.1", Current},
		},
		"grpc-js-xds 1.8": {
			&corev3.Node{UserAgentName: "gRPC Node Pure JS", UserAgentVersionType: uav("1.8.2")},
			Client{GRPCJS, "1.8.2", Legacy},
		},
		"C-core 1.56 through C++": {
			&corev3.Node{UserAgentName: "gRPC C-core linux C++", UserAgentVersionType: uav("C-core 33.0.0 C++ 1.56.0")},
			Client{GRPCCore, "1.56.0", Current},
		},
		"C-core without a wrapper release": {
			&corev3.Node{UserAgentName: "gRPC C-core linux", UserAgentVersionType: uav("C-core 40.0.0")},
			Client{GRPCCore, "", LegacyCore},
		},
		"grpc-java 1.53": {
			&corev3.Node{UserAgentName: "gRPC Java", UserAgentVersionType: uav("1.53.0")},
			Client{GRPCJava, "1.53.0", Current},
		},
		"grpc-java 1.52": {
			&corev3.Node{UserAgentName: "gRPC Java", UserAgentVersionType: uav("1.52.1")},
			Client{GRPCJava, "1.52.1", Legacy},
		},
		"an unnamed client announcing gRPC's feature": {
			&corev3.Node{ClientFeatures: grpcFeatures[:1], UserAgentVersionType: uav("2.0.0")},
			Client{GRPCOther, "2.0.0", Legacy},
		},
		"Envoy": {
			&corev3.Node{UserAgentName: "envoy", UserAgentVersionType: envoyBuild},
			Client{Envoy, "1.31.2", Current},
		},
		"Envoy without a build version": {
			&corev3.Node{UserAgentName: "Envoy"},
			Client{Envoy, "", Current},
		},
		"nothing announced": {&corev3.Node{Id: "x"}, Client{Unknown, "", Legacy}},
		"nil node":          {nil, Client{Unknown, "", Legacy}},
		"unparsable gRPC version": {
			&corev3.Node{UserAgentName: "gRPC Go", UserAgentVersionType: uav("dev")},
			Client{GRPCGo, "", Legacy},
		},
	} {
		t.Run(name, func(t *testing.T) {
			if got := Classify(tc.node); got != tc.want {
				t.Errorf("Classify = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestProxyless(t *testing.T) {
	for f, want := range map[Family]bool{GRPCGo: true, GRPCJS: true, GRPCJava: true, GRPCCore: true, GRPCOther: true, Envoy: false, Unknown: false} {
		if got := f.Proxyless(); got != want {
			t.Errorf("%s.Proxyless() = %v, want %v", f, got, want)
		}
	}
}

func uav(v string) *corev3.Node_UserAgentVersion {
	return &corev3.Node_UserAgentVersion{UserAgentVersion: v}
}

func TestParseEncoding(t *testing.T) {
	for in, want := range map[string]Encoding{"": Current, "current": Current, "legacy": Legacy, "legacy-core": LegacyCore} {
		if got, err := ParseEncoding(in); err != nil || got != want {
			t.Errorf("ParseEncoding(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := ParseEncoding("v2"); err == nil {
		t.Error(`ParseEncoding("v2") succeeded`)
	}
}
