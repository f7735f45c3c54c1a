package topowatch

import (
	"context"
	"errors"
	"fmt"
	"strings"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// errWatchClosed is a watch channel closing without an error.
var errWatchClosed = errors.New("watch channel closed")

// watch watches the prefix from the revision after w.rev, applies events to
// the builder and publishes them in batches, until the watch fails, the
// probe asks for a re-list, or ctx ends. The returned error wraps
// rpctypes.ErrCompacted when the revision is no longer available. Events
// applied but not yet published when the watch fails are published before
// watch returns: the builder is then exactly at a revision etcd served.
func (w *Watcher) watch(ctx context.Context) error {
	from := w.rev + 1
	if w.hooks.beforeWatch != nil {
		w.hooks.beforeWatch(from)
	}
	// WithRequireLeader: a member that loses its leader ends the watch
	// instead of leaving it silently stale.
	wctx, cancel := context.WithCancel(clientv3.WithRequireLeader(ctx))
	defer cancel()
	// WithCreatedNotify: the first response says the watch is in place,
	// which is news for Health after a failure even when no key changes.
	wch := w.cli.Watch(wctx, w.prefix, clientv3.WithPrefix(), clientv3.WithRev(from), clientv3.WithCreatedNotify())
	if w.hooks.watchOpened != nil {
		w.hooks.watchOpened(cancel)
	}
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-w.relist:
			w.flush()
			return errRelist
		case <-w.batch.C():
			w.publish()
		case resp, ok := <-wch:
			if !ok {
				w.flush()
				return fmt.Errorf("watch %s from revision %d: %w", w.prefix, w.rev+1, errWatchClosed)
			}
			if err := resp.Err(); err != nil {
				w.flush()
				return fmt.Errorf("watch %s from revision %d: %w", w.prefix, w.rev+1, err)
			}
			w.retry.reset()
			w.setConnected()
			if len(resp.Events) == 0 {
				continue // created or progress notification
			}
			for _, ev := range resp.Events {
				switch ev.Type {
				case clientv3.EventTypePut:
					w.put(ev.Kv)
				case clientv3.EventTypeDelete:
					w.builder.Delete(strings.TrimPrefix(string(ev.Kv.Key), w.prefix))
				}
				w.rev = ev.Kv.ModRevision
			}
			w.batch.add()
			if w.hooks.applied != nil {
				w.hooks.applied(w.rev)
			}
		}
	}
}

// flush publishes events applied but not yet published.
func (w *Watcher) flush() {
	if w.batch.pending() {
		w.publish()
	}
}
