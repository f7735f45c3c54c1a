package vitesstopo

import (
	"fmt"
	"strings"

	"github.com/shardmesh/shardmesh/pkg/topology"
	"github.com/shardmesh/shardmesh/pkg/topowatch"
)

// rootStore receives the records of one Vitess root (global or a cell's)
// from its topowatch.Watcher. Its methods run on that Watcher's goroutine
// and take the Source's lock; a store whose root was dropped (its cell
// removed) ignores everything.
type rootStore struct {
	src    *Source
	prefix string // the root with a trailing "/"

	// Guarded by src.mu.
	recs   map[string]record // by key relative to the root
	errs   map[string]error  // records that did not decode, by relative key
	synced bool              // listed, and not re-listing
	rev    int64
	cancel func() // stops the root's Watcher
}

var _ topowatch.Store = (*rootStore)(nil)

func (r *rootStore) live() bool { return r.src.roots[r.prefix] == r }

// Reset implements topowatch.Store. Until the listing that follows ends
// with Build, the root counts as not listed, so that a health change
// meanwhile does not publish a partial topology.
func (r *rootStore) Reset() {
	r.src.mu.Lock()
	defer r.src.mu.Unlock()
	clear(r.recs)
	clear(r.errs)
	r.synced = false
}

// Put implements topowatch.Store: the value is decoded with the protobuf
// type its key names; a value that does not decode is kept as a problem
// of the topology and otherwise skipped.
func (r *rootStore) Put(key string, value []byte) error {
	r.src.mu.Lock()
	defer r.src.mu.Unlock()
	if !r.live() {
		return nil
	}
	delete(r.recs, key)
	delete(r.errs, key)
	k := parseKey(key)
	if k.kind == kindIgnored {
		return nil
	}
	msg, err := decode(k, value)
	if err != nil {
		err = fmt.Errorf("vitess %s%s: %w", r.prefix, key, err)
		r.errs[key] = err
		return err
	}
	r.recs[key] = record{key: k, msg: msg}
	return nil
}

// Delete implements topowatch.Store.
func (r *rootStore) Delete(key string) {
	r.src.mu.Lock()
	defer r.src.mu.Unlock()
	delete(r.recs, key)
	delete(r.errs, key)
}

// Build implements topowatch.Store: it records that the root is at rev and
// builds the whole topology, or returns nil while a root has not been
// listed yet (the Source's observer skips nil).
func (r *rootStore) Build(rev int64) *topology.Topology {
	r.src.mu.Lock()
	defer r.src.mu.Unlock()
	if !r.live() {
		return nil
	}
	r.synced, r.rev = true, rev
	return r.src.buildLocked()
}

// overlayStore receives shardmesh's own prefix: keyspace policies,
// overrides and shifts go to the builder as they are; cells are kept to
// place Vitess cells; tablets and routing rules are ignored (Vitess owns
// them).
type overlayStore struct {
	src *Source

	// Guarded by src.mu.
	keys   map[string]bool   // keys put into the builder
	cells  map[string][]byte // cell records by cell name
	synced bool
	rev    int64
}

var _ topowatch.Store = (*overlayStore)(nil)

// Reset implements topowatch.Store; like rootStore.Reset it holds
// publications back until the listing ends.
func (o *overlayStore) Reset() {
	o.src.mu.Lock()
	defer o.src.mu.Unlock()
	for k := range o.keys {
		o.src.builder.Delete(k)
	}
	clear(o.keys)
	clear(o.cells)
	o.synced = false
}

// Put implements topowatch.Store.
func (o *overlayStore) Put(key string, value []byte) error {
	o.src.mu.Lock()
	defer o.src.mu.Unlock()
	switch {
	case strings.HasPrefix(key, topology.CellsPrefix):
		name := strings.TrimPrefix(key, topology.CellsPrefix)
		if _, err := topology.DecodeCell(name, value); err != nil {
			delete(o.cells, name)
			return err
		}
		o.cells[name] = value
		return nil
	case strings.HasPrefix(key, topology.TabletsPrefix), key == topology.RulesKey:
		return nil
	}
	o.keys[key] = true
	return o.src.builder.Put(key, value)
}

// Delete implements topowatch.Store.
func (o *overlayStore) Delete(key string) {
	o.src.mu.Lock()
	defer o.src.mu.Unlock()
	if strings.HasPrefix(key, topology.CellsPrefix) {
		delete(o.cells, strings.TrimPrefix(key, topology.CellsPrefix))
		return
	}
	if o.keys[key] {
		delete(o.keys, key)
		o.src.builder.Delete(key)
	}
}

// Build implements topowatch.Store.
func (o *overlayStore) Build(rev int64) *topology.Topology {
	o.src.mu.Lock()
	defer o.src.mu.Unlock()
	o.synced, o.rev = true, rev
	return o.src.buildLocked()
}
