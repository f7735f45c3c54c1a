package tabletagent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// publisher keeps one key in etcd under a lease with keepalive. It is used
// by one goroutine (the agent's loop).
type publisher struct {
	cli     *clientv3.Client
	key     string
	ttl     time.Duration
	timeout time.Duration
	log     *slog.Logger

	lease    clientv3.LeaseID // 0: none
	lost     chan struct{}    // closed when the lease's keepalive ends
	stopKeep context.CancelFunc
	written  []byte // the value stored under the lease; nil: unknown
}

// put stores value unless it is the value already stored under a live
// lease. A lease that expired (etcd was away longer than the TTL, say) is
// replaced and the value written again. On error nothing is assumed
// stored: the next put writes.
func (p *publisher) put(ctx context.Context, value []byte) error {
	if p.lease != 0 {
		select {
		case <-p.lost:
			p.log.Warn("etcd lease lost; writing the record under a new lease", "key", p.key, "lease", int64(p.lease))
			p.dropLease()
		default:
		}
	}
	if p.lease != 0 && p.written != nil && string(p.written) == string(value) {
		return nil
	}
	if p.lease == 0 {
		if err := p.grant(ctx); err != nil {
			return err
		}
	}
	p.written = nil
	rctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	if _, err := p.cli.Put(rctx, p.key, string(value), clientv3.WithLease(p.lease)); err != nil {
		if errors.Is(err, rpctypes.ErrLeaseNotFound) {
			p.dropLease()
		}
		return fmt.Errorf("etcd put %s: %w", p.key, err)
	}
	p.written = append([]byte(nil), value...)
	return nil
}

func (p *publisher) grant(ctx context.Context) error {
	rctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	resp, err := p.cli.Grant(rctx, int64((p.ttl+time.Second-1)/time.Second))
	if err != nil {
		return fmt.Errorf("etcd lease grant for %s: %w", p.key, err)
	}
	kctx, stop := context.WithCancel(context.WithoutCancel(ctx))
	ch, err := p.cli.KeepAlive(kctx, resp.ID)
	if err != nil {
		stop()
		return fmt.Errorf("etcd lease keepalive for %s: %w", p.key, err)
	}
	lost := make(chan struct{})
	go func() {
		for range ch {
			// Each response is a renewal; the channel closes when the lease
			// is gone or the keepalive stops.
		}
		close(lost)
	}()
	p.lease, p.lost, p.stopKeep = resp.ID, lost, stop
	return nil
}

func (p *publisher) dropLease() {
	if p.stopKeep != nil {
		p.stopKeep()
	}
	p.lease, p.lost, p.stopKeep, p.written = 0, nil, nil, nil
}

// remove deletes the key and revokes the lease.
func (p *publisher) remove(ctx context.Context) error {
	rctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	_, err := p.cli.Delete(rctx, p.key)
	if p.lease != 0 {
		if _, rerr := p.cli.Revoke(rctx, p.lease); rerr != nil && err == nil && !errors.Is(rerr, rpctypes.ErrLeaseNotFound) {
			err = rerr
		}
	}
	p.dropLease()
	if err != nil {
		return fmt.Errorf("etcd delete %s: %w", p.key, err)
	}
	return nil
}

// close stops the keepalive without touching etcd: the lease then expires
// on its own, as when the agent dies.
func (p *publisher) close() { p.dropLease() }
