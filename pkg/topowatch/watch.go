package topowatch

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jonboulle/clockwork"
	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc/metadata"
)

// errWatchClosed is a watch channel closing without an error.
var errWatchClosed = errors.New("watch channel closed")

// errWatchStalled is a watch whose member answered no progress request
// for a whole stall interval: a member that hangs (stopped, swapping, cut
// off without a reset) keeps its connection open, so nothing else shows
// that the watch has gone silent.
var errWatchStalled = errors.New("etcd member answered no progress request; watching through another")

// watch watches the prefix from w.rev, applies the events after it to the
// builder and publishes them in batches, until the watch fails, the probe
// asks for a re-list, or ctx ends. The returned error wraps
// rpctypes.ErrCompacted when the revision is no longer available. Events
// applied but not yet published when the watch fails are published before
// watch returns: the builder is then exactly at a revision etcd served.
//
// The watch starts at w.rev itself, not the revision after it, and skips
// the events of w.rev, which the builder already has: etcd answers a
// progress request only for watches whose start revision it has reached,
// so a watch from w.rev+1 on a quiet etcd would look stalled.
func (w *Watcher) watch(ctx context.Context) error {
	from := w.rev
	if w.hooks.beforeWatch != nil {
		w.hooks.beforeWatch(from)
	}
	// WithRequireLeader: a member that loses its leader ends the watch
	// instead of leaving it silently stale.
	//
	// Each attempt has its own gRPC stream (clientv3 shares a stream
	// between watches whose contexts carry the same metadata): a retry
	// after a stall must not rejoin the stalled stream.
	w.attempt++
	wctx, cancel := context.WithCancel(metadata.AppendToOutgoingContext(clientv3.WithRequireLeader(ctx),
		"shardmesh-watch-attempt", strconv.FormatInt(w.attempt, 10)))
	defer cancel()
	// WithCreatedNotify: the first response says the watch is in place,
	// which is news for Health after a failure even when no key changes.
	wch, err := w.openWatch(wctx, cancel, from)
	if err != nil {
		return err
	}
	if w.hooks.watchOpened != nil {
		w.hooks.watchOpened(cancel)
	}
	stall, asked := w.stallTicker(), false
	defer stall.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-stall.Chan():
			// Every interval, ask the member for a progress notification;
			// if the previous request got no answer (nor anything else),
			// the member is stalled.
			if asked {
				w.flush()
				return fmt.Errorf("watch %s from revision %d: %w", w.prefix, w.rev, errWatchStalled)
			}
			asked = true
			pctx, pcancel := context.WithTimeout(wctx, progressRequestTimeout)
			_ = w.cli.RequestProgress(pctx) // a failure shows as no answer
			pcancel()
		case <-w.relist:
			w.flush()
			return errRelist
		case <-w.batch.C():
			w.publish()
		case resp, ok := <-wch:
			if !ok {
				w.flush()
				return fmt.Errorf("watch %s from revision %d: %w", w.prefix, w.rev, errWatchClosed)
			}
			if err := resp.Err(); err != nil {
				w.flush()
				return fmt.Errorf("watch %s from revision %d: %w", w.prefix, w.rev, err)
			}
			asked = false
			w.retry.reset()
			w.setConnected()
			applied := w.rev // compared once: a transaction's events share one revision
			for _, ev := range resp.Events {
				if ev.Kv.ModRevision <= applied {
					continue // the builder has it: the watch starts at w.rev
				}
				switch ev.Type {
				case clientv3.EventTypePut:
					w.put(ev.Kv)
				case clientv3.EventTypeDelete:
					w.builder.Delete(strings.TrimPrefix(string(ev.Kv.Key), w.prefix))
				}
				w.rev = ev.Kv.ModRevision
			}
			if w.rev == applied { // created, progress, or events the builder has
				if resp.IsProgressNotify() && w.hooks.progress != nil {
					w.hooks.progress()
				}
				continue
			}
			w.batch.add()
			if w.hooks.applied != nil {
				w.hooks.applied(w.rev)
			}
		}
	}
}

// openWatch opens the watch. clientv3's Watch returns only once the member
// has confirmed the watch, so on a stalled member it would block for
// good: after two stall intervals, cancel cancels it and openWatch
// returns errWatchStalled.
func (w *Watcher) openWatch(wctx context.Context, cancel func(), from int64) (clientv3.WatchChan, error) {
	open := func() clientv3.WatchChan {
		return w.cli.Watch(wctx, w.prefix, clientv3.WithPrefix(), clientv3.WithRev(from), clientv3.WithCreatedNotify())
	}
	if w.cfg.StallInterval < 0 {
		return open(), nil
	}
	var stalled atomic.Bool
	t := w.clock.AfterFunc(2*w.cfg.StallInterval, func() {
		stalled.Store(true)
		cancel()
	})
	wch := open()
	if !t.Stop() && stalled.Load() {
		return nil, fmt.Errorf("watch %s from revision %d: opening: %w", w.prefix, from, errWatchStalled)
	}
	return wch, nil
}

// progressRequestTimeout bounds handing a progress request to clientv3's
// stream goroutine, in real time.
const progressRequestTimeout = 100 * time.Millisecond

// stallTicker ticks every StallInterval on the Watcher's clock; it never
// ticks when stall detection is off.
func (w *Watcher) stallTicker() clockwork.Ticker {
	if w.cfg.StallInterval < 0 {
		return neverTicker{}
	}
	return w.clock.NewTicker(w.cfg.StallInterval)
}

// neverTicker is a Ticker that never ticks.
type neverTicker struct{}

func (neverTicker) Chan() <-chan time.Time { return nil }
func (neverTicker) Reset(time.Duration)    {}
func (neverTicker) Stop()                  {}

var _ clockwork.Ticker = neverTicker{}

// flush publishes events applied but not yet published.
func (w *Watcher) flush() {
	if w.batch.pending() {
		w.publish()
	}
}
