package xdscache

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"sync"
	"time"

	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	"github.com/envoyproxy/go-control-plane/pkg/cache/v3"

	"github.com/shardmesh/shardmesh/pkg/topology"
	"github.com/shardmesh/shardmesh/pkg/translate"
	"github.com/shardmesh/shardmesh/pkg/weights"
)

// part is one keyspace's resources for one node group, with the inputs
// they were built from. A group's snapshot is the concatenation of its
// parts, so a change to one keyspace rebuilds one part, and the other
// parts are reused without even a memo lookup.
type part struct {
	ks  *topology.Keyspace
	key translate.KeyspaceKey // the inputs it was built from
	set resourceSet
	// byShard holds each shard's resources by the shard's inputs, so that
	// rebuilding the part for a change in one shard reuses the others'
	// without listing or looking them up again.
	byShard map[weights.InputsKey][]typedNamed
	digest  [types.UnknownType]string           // per type: hash of the part's names and versions
	index   [types.UnknownType]map[string]entry // per type: the part's resources by name
}

func (p *part) matches(k translate.KeyspaceKey) bool { return p.key.Equal(k) }

// seal computes the part's per-type digests and indexes.
func (p *part) seal() {
	for _, u := range typeURLs {
		i := cache.GetResponseType(u)
		p.digest[i] = digest(p.set.items[i])
		p.index[i] = make(map[string]entry, len(p.set.items[i]))
		for _, r := range p.set.items[i] {
			p.index[i][r.name] = r.e
		}
	}
}

// groupState is what a Translator keeps per node group between builds.
type groupState struct {
	mu       sync.Mutex       // held while the group builds; guards the fields below
	parts    map[string]*part // by keyspace
	list     []*part          // the parts of prev, in order
	prev     *groupSnap
	complete bool // prev was built from list (false after a failed build)
}

// changes are the names of the resources, by type URL, that were added,
// changed or removed since a group's previous snapshot. A type whose
// version changed but that has no entry changed in ways not tracked (the
// first snapshot, or one after a failed build): every name may differ.
type changes map[string][]string

// buildParts returns the parts of a group's snapshot, reusing those whose
// inputs did not change.
func (t *Translator) buildParts(topo *topology.Topology, g translate.Group, now time.Time, st *groupState) ([]*part, error) {
	next := map[string]*part{}
	var parts []*part
	if shared := translate.Shared(g); len(shared) > 0 {
		p := st.parts[""]
		if p == nil {
			p = &part{}
			if err := t.add(&p.set, shared); err != nil {
				return nil, err
			}
			p.seal()
		}
		next[""] = p
		parts = append(parts, p)
	}
	for _, r := range translate.RoutedKeyspaces(topo) {
		if !translate.Visible(r.Keyspace, g) {
			continue
		}
		in := t.inputsOf(topo, r, now)
		p := st.parts[r.Keyspace.Name]
		if p == nil || !p.matches(in.Key()) {
			var err error
			if p, err = t.keyspacePart(in, g, p); err != nil {
				return nil, err
			}
		}
		next[r.Keyspace.Name] = p
		parts = append(parts, p)
	}
	st.parts = next
	return parts, nil
}

// typedNamed is a resource of a shard's part of a keyspace, with its type.
type typedNamed struct {
	typ types.ResponseType
	named
}

// keyspacePart builds a keyspace's part for a group, reusing the
// resources of every shard whose inputs are those of a shard of old (the
// group's previous part of the keyspace, or nil).
func (t *Translator) keyspacePart(in *translate.KeyspaceInputs, g translate.Group, old *part) (*part, error) {
	p := &part{ks: in.Keyspace(), key: in.Key(), byShard: make(map[weights.InputsKey][]typedNamed, in.Shards())}
	n := in.Shards() * len(weights.Classes)
	for _, u := range []string{typeCluster, typeEndpoint} {
		p.set.items[cache.GetResponseType(u)] = make([]named, 0, n)
	}
	if err := t.add(&p.set, translate.Head(in, g)); err != nil {
		return nil, err
	}
	for i := range in.Shards() {
		k := in.ShardKey(i)
		var rs []typedNamed
		if old != nil {
			rs = old.byShard[k]
		}
		if rs == nil {
			for _, it := range translate.ShardItems(in, i, g) {
				e, err := t.memo(it.TypeURL).get(it)
				if err != nil {
					return nil, err
				}
				rs = append(rs, typedNamed{cache.GetResponseType(it.TypeURL), named{it.Name, e}})
			}
		}
		for _, r := range rs {
			p.set.items[r.typ] = append(p.set.items[r.typ], r.named)
		}
		p.byShard[k] = rs
	}
	if err := t.add(&p.set, translate.MySQLItems(in, g)); err != nil {
		return nil, err
	}
	p.seal()
	return p, nil
}

// groupSnap is a group's snapshot: per type, a view through its parts.
type groupSnap struct {
	views [types.UnknownType]*view
}

func (s *groupSnap) view(typeURL string) *view { return s.views[cache.GetResponseType(typeURL)] }

// version identifies the whole snapshot.
func (s *groupSnap) version() string {
	v := ""
	for _, u := range typeURLs {
		v += s.view(u).version + "."
	}
	return v
}

// view is one version of one type of a group's resources, read through the
// group's parts: a change builds no map of every resource of the group.
type view struct {
	version string
	typ     types.ResponseType
	parts   map[string]*part // by partKey
	list    []*part
	raw     bool
}

// partKey is the key of the part a resource name belongs to: its keyspace,
// the first segment of the name ("mysql:" aside); names without one that
// no keyspace part holds belong to part "" (Envoy's HTTP listener).
func partKey(name string) string {
	name = strings.TrimPrefix(name, "mysql:")
	if i := strings.IndexByte(name, '/'); i >= 0 {
		return name[:i]
	}
	return name
}

func (v *view) get(name string) (entry, bool) {
	if p := v.parts[partKey(name)]; p != nil {
		if e, ok := p.index[v.typ][name]; ok {
			return e, true
		}
	}
	if p := v.parts[""]; p != nil {
		e, ok := p.index[v.typ][name]
		return e, ok
	}
	return entry{}, false
}

// hash returns a resource's content hash, "" when the view lacks it.
func (v *view) hash(name string) string {
	e, _ := v.get(name)
	return e.hash
}

// resource returns a resource in the form served.
func (v *view) resource(name string) types.Resource {
	e, _ := v.get(name)
	return e.served(v.raw)
}

// each calls f for every resource of the view.
func (v *view) each(f func(name string, e entry)) {
	for _, p := range v.list {
		for _, r := range p.set.items[v.typ] {
			f(r.name, r.e)
		}
	}
}

// assemble joins parts into a snapshot. A type whose version did not change
// since the group's previous snapshot keeps its view; for one that changed
// it reports the names added, changed or removed, found from the parts
// that changed (parts are compared by pointer).
func assemble(parts []*part, st *groupState, raw bool) (*groupSnap, changes) {
	prev := st.prev
	snap := &groupSnap{}
	byKey := make(map[string]*part, len(parts))
	for _, p := range parts {
		byKey[partKeyOf(p)] = p
	}
	changed := changes{}
	for _, u := range typeURLs {
		i := cache.GetResponseType(u)
		h := sha256.New()
		n := 0
		for _, p := range parts {
			h.Write([]byte(p.digest[i]))
			n += len(p.set.items[i])
		}
		version := hex.EncodeToString(h.Sum(nil)[:8])
		if n == 0 {
			version = digest(nil)
		}
		if prev != nil && prev.views[i].version == version {
			snap.views[i] = prev.views[i]
			continue
		}
		snap.views[i] = &view{version: version, typ: i, parts: byKey, list: parts, raw: raw}
		if prev != nil && st.complete {
			changed[u] = changedNames(prev.views[i], st.list, parts, i)
		}
	}
	st.prev, st.list, st.complete = snap, parts, true
	return snap, changed
}

func partKeyOf(p *part) string {
	if p.ks == nil {
		return ""
	}
	return p.ks.Name
}

// changedNames returns the names of type i whose content differs between
// the previous view (built from old) and the parts cur.
func changedNames(prev *view, old, cur []*part, i types.ResponseType) []string {
	kept := make(map[*part]bool, len(cur))
	for _, p := range cur {
		kept[p] = true
	}
	var gone []*part // parts replaced or removed
	for _, p := range old {
		if kept[p] {
			delete(kept, p) // in both: untouched
		} else {
			gone = append(gone, p)
		}
	}
	removed := map[string]bool{}
	for _, p := range gone {
		for _, r := range p.set.items[i] {
			removed[r.name] = true
		}
	}
	var names []string
	for _, p := range cur {
		if !kept[p] {
			continue
		}
		// A rebuilt part usually lists the same names in the same order as
		// the one it replaces: compare by position, by name otherwise.
		was := prev.parts[partKeyOf(p)]
		for j, r := range p.set.items[i] {
			delete(removed, r.name)
			var h string
			if was != nil && j < len(was.set.items[i]) && was.set.items[i][j].name == r.name {
				h = was.set.items[i][j].e.hash
			} else {
				h = prev.hash(r.name)
			}
			if h != r.e.hash {
				names = append(names, r.name)
			}
		}
	}
	for n := range removed {
		names = append(names, n)
	}
	return names
}
