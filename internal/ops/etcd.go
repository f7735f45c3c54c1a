package ops

import (
	"context"
	"errors"
	"fmt"
	"strings"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/shardmesh/shardmesh/pkg/topology"
)

// ErrNotFound is returned for a record that does not exist.
var ErrNotFound = errors.New("not found")

// ErrConflict is returned when a record changed between read and write.
var ErrConflict = errors.New("changed concurrently; retry")

// Store is the topology in etcd under a prefix.
type Store struct {
	Client *clientv3.Client
	Prefix string // e.g. "/shardmesh/"
}

func (s Store) key(k string) string { return s.Prefix + k }

// get returns a record's value and mod revision.
func (s Store) get(ctx context.Context, k string) ([]byte, int64, error) {
	resp, err := s.Client.Get(ctx, s.key(k))
	if err != nil {
		return nil, 0, fmt.Errorf("get %s: %w", k, err)
	}
	if len(resp.Kvs) == 0 {
		return nil, 0, fmt.Errorf("%s: %w", k, ErrNotFound)
	}
	return resp.Kvs[0].Value, resp.Kvs[0].ModRevision, nil
}

// putIf writes a record if its mod revision is still rev (0: if absent).
func (s Store) putIf(ctx context.Context, k string, value []byte, rev int64) error {
	resp, err := s.Client.Txn(ctx).
		If(clientv3.Compare(clientv3.ModRevision(s.key(k)), "=", rev)).
		Then(clientv3.OpPut(s.key(k), string(value))).
		Commit()
	if err != nil {
		return fmt.Errorf("put %s: %w", k, err)
	}
	if !resp.Succeeded {
		if rev == 0 {
			return fmt.Errorf("%s: already exists", k)
		}
		return fmt.Errorf("%s: %w", k, ErrConflict)
	}
	return nil
}

func (s Store) put(ctx context.Context, k string, value []byte) error {
	if _, err := s.Client.Put(ctx, s.key(k), string(value)); err != nil {
		return fmt.Errorf("put %s: %w", k, err)
	}
	return nil
}

func (s Store) del(ctx context.Context, k string) error {
	resp, err := s.Client.Delete(ctx, s.key(k))
	if err != nil {
		return fmt.Errorf("delete %s: %w", k, err)
	}
	if resp.Deleted == 0 {
		return fmt.Errorf("%s: %w", k, ErrNotFound)
	}
	return nil
}

// Load reads the whole topology at one revision, the way the control plane
// does, and builds it.
func (s Store) Load(ctx context.Context) (*topology.Topology, error) {
	resp, err := s.Client.Get(ctx, s.Prefix, clientv3.WithPrefix())
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", s.Prefix, err)
	}
	b := topology.NewBuilder()
	for _, kv := range resp.Kvs {
		_ = b.Put(strings.TrimPrefix(string(kv.Key), s.Prefix), kv.Value) // problems are kept in the topology
	}
	return b.Build(resp.Header.Revision), nil
}
