package xdscache

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sync"

	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/known/emptypb"

	"github.com/shardmesh/shardmesh/pkg/translate"
)

// entry is a translated resource with the hash of its deterministic
// encoding, which serves as its xDS resource version.
type entry struct {
	res  types.Resource
	hash string
	// raw serves the same bytes without marshalling again: a message whose
	// only content is the resource's deterministic encoding as unknown
	// fields, which proto.Marshal copies as they are.
	raw types.Resource
}

// served is the form of the resource served: pre-marshalled with raw.
func (e entry) served(raw bool) types.Resource {
	if raw {
		return e.raw
	}
	return e.res
}

// memo caches translated resources of one type across topology
// generations, by translate.Item.Key: an item's Build reads only its key,
// so an equal key means an equal resource. An entry used during a
// generation survives into the next; one not used is dropped by sweep, so
// the memo holds only what the current topology needs.
type memo struct {
	mu        sync.Mutex // guards the fields below; not held while translating
	cur, prev map[any]entry
	built     int  // resources translated since the counter was read
	lean      bool // keep only the marshalled form (entry.raw), not the typed message
}

// get returns the entry of an item, building it when it is not cached. A
// resource that fails its Envoy validation is an error naming it, and is
// not cached.
func (m *memo) get(it translate.Item) (entry, error) {
	k := it.Key
	m.mu.Lock()
	if e, ok := m.cur[k]; ok {
		m.mu.Unlock()
		return e, nil
	}
	if e, ok := m.prev[k]; ok {
		m.put(k, e)
		m.mu.Unlock()
		return e, nil
	}
	lean := m.lean
	m.mu.Unlock()
	// Two groups may translate the same shared resource at once; both
	// get the same bytes, and the last one is kept.
	res := it.Build()
	if err := translate.Validate(it, res); err != nil {
		return entry{}, err
	}
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(res)
	if err != nil {
		return entry{}, fmt.Errorf("%s %s: marshal: %w", it.TypeURL, it.Name, err)
	}
	sum := sha256.Sum256(b)
	raw := &emptypb.Empty{}
	raw.ProtoReflect().SetUnknown(b)
	e := entry{res: res, hash: hex.EncodeToString(sum[:12]), raw: raw}
	if lean {
		e.res = nil // the typed message is several times larger than its encoding
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.built++
	m.put(k, e)
	return e, nil
}

// take returns and resets the count of translated resources.
func (m *memo) take() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := m.built
	m.built = 0
	return n
}

// put stores an entry; m.mu must be held.
func (m *memo) put(k any, e entry) {
	if m.cur == nil {
		m.cur = map[any]entry{}
	}
	m.cur[k] = e
}

// sweep ends a generation.
func (m *memo) sweep() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.prev, m.cur = m.cur, nil
}

// Decode returns the typed Envoy message of a resource of the given type
// from a snapshot, whether it was built raw (pre-marshalled) or not.
func Decode(typeURL string, res types.Resource) (proto.Message, error) {
	if _, ok := res.(*emptypb.Empty); !ok {
		return res, nil
	}
	b, err := proto.Marshal(res)
	if err != nil {
		return nil, err
	}
	mt, err := protoregistry.GlobalTypes.FindMessageByURL(typeURL)
	if err != nil {
		return nil, fmt.Errorf("decode %s: %w", typeURL, err)
	}
	m := mt.New().Interface()
	if err := proto.Unmarshal(b, m); err != nil {
		return nil, fmt.Errorf("decode %s: %w", typeURL, err)
	}
	return m, nil
}
