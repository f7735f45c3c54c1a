package snapshot

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	"google.golang.org/protobuf/proto"
)

// entry is a translated resource with the hash of its deterministic
// encoding, which serves as its xDS resource version.
type entry struct {
	res  types.Resource
	hash string
}

// validator is implemented by every generated Envoy proto.
type validator interface{ ValidateAll() error }

// memo caches translated resources across topology generations. An entry
// used during a generation survives into the next; one not used is dropped
// by sweep, so the memo holds only what the current topology needs.
type memo[K comparable] struct {
	cur, prev map[K]entry
	built     int // resources translated since the counter was read
}

// get returns the entry for k, translating it with build when it is not
// cached. A resource that fails its Envoy validation is an error and is not
// cached.
func (m *memo[K]) get(k K, build func() types.Resource) (entry, error) {
	if e, ok := m.cur[k]; ok {
		return e, nil
	}
	if e, ok := m.prev[k]; ok {
		m.put(k, e)
		return e, nil
	}
	res := build()
	if v, ok := res.(validator); ok {
		if err := v.ValidateAll(); err != nil {
			return entry{}, fmt.Errorf("generated resource failed validation: %w", err)
		}
	}
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(res)
	if err != nil {
		return entry{}, fmt.Errorf("marshal: %w", err)
	}
	sum := sha256.Sum256(b)
	e := entry{res: res, hash: hex.EncodeToString(sum[:12])}
	m.built++
	m.put(k, e)
	return e, nil
}

func (m *memo[K]) put(k K, e entry) {
	if m.cur == nil {
		m.cur = map[K]entry{}
	}
	m.cur[k] = e
}

// sweep ends a generation.
func (m *memo[K]) sweep() {
	m.prev, m.cur = m.cur, nil
}
