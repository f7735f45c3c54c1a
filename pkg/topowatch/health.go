package topowatch

import (
	"context"
	"fmt"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// Health is the state of the etcd source.
type Health struct {
	// Connected reports whether etcd answered the latest request, watch
	// response or probe. While it is false nothing new is published.
	Connected bool
	// Synced reports whether a complete topology has been published: the
	// first listing finished. It stays true once set.
	Synced bool
	// Revision is the etcd revision of the last published topology.
	Revision int64
	// LastError is why Connected is false; "" while connected.
	LastError string
	// Since is when Connected last changed (on the Watcher's clock), or
	// when the Watcher was created.
	Since time.Time
}

// Health returns the current state of the source. It is safe to call from
// any goroutine, including from Config.OnHealth.
func (w *Watcher) Health() Health {
	w.healthMu.Lock()
	defer w.healthMu.Unlock()
	return w.health
}

// updateHealth applies f to the health and reports a change to OnHealth.
func (w *Watcher) updateHealth(f func(h *Health)) {
	w.onHealthMu.Lock()
	defer w.onHealthMu.Unlock()
	w.healthMu.Lock()
	old := w.health
	f(&w.health)
	h := w.health
	w.healthMu.Unlock()
	if h == old {
		return
	}
	if h.Connected != old.Connected {
		if h.Connected {
			w.log.Info("etcd source connected", "revision", h.Revision)
		} else {
			w.log.Warn("etcd source disconnected; keeping the last topology", "revision", h.Revision, "error", h.LastError)
		}
	}
	if w.cfg.OnHealth != nil {
		w.cfg.OnHealth(h)
	}
}

func (w *Watcher) setConnected() {
	w.updateHealth(func(h *Health) {
		if !h.Connected {
			h.Connected, h.LastError, h.Since = true, "", w.clock.Now()
		}
	})
}

func (w *Watcher) setDisconnected(err error) {
	w.updateHealth(func(h *Health) {
		if h.Connected {
			h.Connected, h.Since = false, w.clock.Now()
		}
		h.LastError = err.Error()
	})
}

func (w *Watcher) setPublished(rev int64) {
	w.updateHealth(func(h *Health) { h.Synced, h.Revision = true, rev })
}

// probeLoop checks every ProbeInterval that etcd answers a linearizable
// read, until ctx ends. A clientv3 watch rides out a lost connection
// silently (it reconnects and resumes by itself), so without the probe a
// quiet watch would not notice that etcd is gone.
func (w *Watcher) probeLoop(ctx context.Context) {
	t := w.clock.NewTicker(w.cfg.ProbeInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.Chan():
		}
		w.probe(ctx)
	}
}

func (w *Watcher) probe(ctx context.Context) {
	pctx, cancel := context.WithTimeout(ctx, w.cfg.ProbeInterval)
	defer cancel()
	resp, err := w.cli.Get(pctx, w.prefix, clientv3.WithCountOnly())
	switch {
	case ctx.Err() != nil:
	case err != nil:
		w.setDisconnected(fmt.Errorf("probe etcd: %w", err))
	default:
		w.setConnected()
		if h := w.Health(); resp.Header.Revision < h.Revision {
			w.log.Warn("etcd is at an older revision than the published topology", "etcd_revision", resp.Header.Revision, "revision", h.Revision)
			select {
			case w.relist <- struct{}{}:
			default:
			}
		}
	}
}
