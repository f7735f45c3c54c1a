package tabletagent

import (
	"context"
	"fmt"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/shardmesh/shardmesh/pkg/topology"
)

// newerPrimary returns a record of another tablet of the same shard that
// claims primary with a newer term than ours, or nil: then this writable
// instance is a stale primary (split brain) and must not serve. Records
// that do not validate are ignored, as the control plane ignores them.
//
// It reads every tablet record (a serializable read from the nearest etcd
// member), so it runs only while the instance is writable.
func (a *Agent) newerPrimary(ctx context.Context, ours *topology.Tablet) (*topology.Tablet, error) {
	// Bounded by the probe interval too: an etcd outage must not slow the
	// probes down.
	rctx, cancel := context.WithTimeout(ctx, min(a.cfg.EtcdTimeout, a.cfg.Interval))
	defer cancel()
	prefix := a.cfg.Prefix + topology.TabletsPrefix
	resp, err := a.cli.Get(rctx, prefix, clientv3.WithPrefix(), clientv3.WithSerializable())
	if err != nil {
		return nil, fmt.Errorf("etcd get %s: %w", prefix, err)
	}
	var newest *topology.Tablet
	for _, kv := range resp.Kvs {
		alias := string(kv.Key[len(prefix):])
		if alias == a.cfg.Alias {
			continue
		}
		t, err := topology.DecodeTablet(alias, kv.Value)
		if err != nil || t.Keyspace != a.cfg.Keyspace || t.Shard != ours.Shard || t.Type != topology.TypePrimary {
			continue
		}
		if t.PrimaryTermStart.After(ours.PrimaryTermStart) && (newest == nil || t.PrimaryTermStart.After(newest.PrimaryTermStart)) {
			newest = t
		}
	}
	return newest, nil
}
