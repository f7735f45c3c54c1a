// Package vitesshealth keeps a StreamHealth stream open to every vttablet,
// as vtgate's healthcheck does, and reports each tablet's latest health.
//
// A Checker is given the set of tablets to watch (alias → gRPC address) and
// keeps one stream per tablet, on Vitess's own queryservice definition. Each
// StreamHealthResponse becomes the tablet's Status; a stream that fails, or
// that stays silent for longer than Config.Timeout, makes the tablet
// disconnected (not eligible) until a new stream delivers a response. Streams
// are re-opened with a bounded exponential back-off on an injected clock.
package vitesshealth
