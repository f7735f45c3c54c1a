// Package clients tells xDS clients apart by what their node announces
// (user_agent_name, user_agent_version, client_features) and decides which
// encoding of the resources each one gets.
//
// The rule, in order:
//
//   - user_agent_name "envoy" (any case): family Envoy, version from
//     user_agent_build_version, encoding Current.
//   - user_agent_name names a gRPC implementation ("gRPC Go", "gRPC Java",
//     "gRPC Node Pure JS", "gRPC C-core ..."), or the node announces the
//     client feature envoy.lb.does_not_support_overprovisioning, which only
//     proxyless gRPC sends: a gRPC family, version from user_agent_version
//     (C-core: the wrapper's release after its language name, "C-core
//     29.0.0 Python 1.51.1" is 1.51.1; a bare core version is unknown).
//     Encoding Current from the release that implements gRFC A63 (string_match
//     in header matchers) on, Legacy before it or when the release is unknown
//     (LegacyCore for C-core, which also needs a route for unmatched calls).
//   - anything else: family Unknown, encoding Legacy, which is the encoding
//     every client reads: every gRPC release, and Envoy (which loads the
//     legacy matchers, deprecated but not disallowed by default, with a
//     deprecation warning).
//
// Classification is a pure function of the node; the snapshot cache keys
// node groups on the encoding, so two clients that need different
// resources never share a snapshot.
package clients
