package vitesstopo

import (
	"fmt"

	"google.golang.org/protobuf/proto"
	topodatapb "vitess.io/vitess/go/vt/proto/topodata"
	vschemapb "vitess.io/vitess/go/vt/proto/vschema"
)

// record is one decoded Vitess topology file.
type record struct {
	key vkey
	msg proto.Message
}

// decode unmarshals a Vitess topology file with its protobuf type and
// checks what shardmesh relies on. Errors name the field; the caller adds
// the key.
func decode(k vkey, value []byte) (proto.Message, error) {
	var msg proto.Message
	switch k.kind {
	case kindCellInfo:
		msg = &topodatapb.CellInfo{}
	case kindCellsAlias:
		msg = &topodatapb.CellsAlias{}
	case kindKeyspace:
		msg = &topodatapb.Keyspace{}
	case kindShard:
		msg = &topodatapb.Shard{}
	case kindTablet:
		msg = &topodatapb.Tablet{}
	case kindKeyspaceRoutingRules:
		msg = &vschemapb.KeyspaceRoutingRules{}
	default:
		return nil, nil
	}
	if err := proto.Unmarshal(value, msg); err != nil {
		return nil, fmt.Errorf("not a %s protobuf: %w", msg.ProtoReflect().Descriptor().FullName(), err)
	}
	switch m := msg.(type) {
	case *topodatapb.CellInfo:
		if m.GetRoot() == "" {
			return nil, fmt.Errorf("root: required")
		}
	case *topodatapb.Tablet:
		if got := aliasString(m.GetAlias()); got != k.name {
			return nil, fmt.Errorf("alias: %q does not match the key's %q", got, k.name)
		}
	case *vschemapb.KeyspaceRoutingRules:
		for i, r := range m.GetRules() {
			if r.GetFromKeyspace() == "" || r.GetToKeyspace() == "" {
				return nil, fmt.Errorf("rules[%d]: from_keyspace and to_keyspace are required", i)
			}
		}
	}
	return msg, nil
}

// aliasString formats a tablet alias as Vitess does: <cell>-<uid, 10 digits>.
func aliasString(a *topodatapb.TabletAlias) string {
	if a == nil {
		return ""
	}
	return fmt.Sprintf("%s-%010d", a.GetCell(), a.GetUid())
}
