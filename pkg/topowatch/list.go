package topowatch

import (
	"context"
	"fmt"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// list reads the whole prefix into a reset builder with paged Gets pinned to
// the revision of the first page, as etcd's client/v3/mirror does, and
// publishes the result. On error nothing is published and the builder holds
// a partial listing that the next list resets.
func (w *Watcher) list(ctx context.Context) error {
	w.builder.Reset()
	w.batch.done()
	select { // this listing answers any pending request for one
	case <-w.relist:
	default:
	}
	key := w.prefix
	opts := []clientv3.OpOption{
		clientv3.WithRange(clientv3.GetPrefixRangeEnd(w.prefix)),
		clientv3.WithLimit(w.cfg.PageSize),
		clientv3.WithSort(clientv3.SortByKey, clientv3.SortAscend),
	}
	var rev int64 // 0 until the first page fixes it
	for page := 0; ; page++ {
		resp, err := w.getPage(ctx, key, rev, opts)
		if err != nil {
			if rev == 0 {
				return fmt.Errorf("list %s: %w", w.prefix, err)
			}
			return fmt.Errorf("list %s at revision %d, page %d: %w", w.prefix, rev, page, err)
		}
		if rev == 0 {
			rev = resp.Header.Revision
		}
		for _, kv := range resp.Kvs {
			w.put(kv)
		}
		if w.hooks.afterPage != nil {
			w.hooks.afterPage(page, rev)
		}
		if !resp.More || len(resp.Kvs) == 0 {
			break
		}
		// The next page starts right after the last key of this one.
		key = string(resp.Kvs[len(resp.Kvs)-1].Key) + "\x00"
	}
	w.rev = rev
	w.retry.reset()
	w.setConnected()
	w.log.Info("topology listed", "revision", rev)
	w.publish()
	return nil
}

// getPage is one Get of a listing; rev 0 reads the latest revision.
func (w *Watcher) getPage(ctx context.Context, key string, rev int64, opts []clientv3.OpOption) (*clientv3.GetResponse, error) {
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	if rev != 0 {
		opts = append(opts[:len(opts):len(opts)], clientv3.WithRev(rev))
	}
	return w.cli.Get(ctx, key, opts...)
}
