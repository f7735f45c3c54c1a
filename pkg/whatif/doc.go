// Package whatif rehearses a failure before it happens: it applies
// hypothetical changes (a cell fails, a tablet fails or lags, a cell is
// drained, a shard is reparented) to a topology in memory, never to etcd,
// and compares where every client locality's requests of every class go
// before and after, with the same weights.Explain the control plane's
// resources are built from.
package whatif
