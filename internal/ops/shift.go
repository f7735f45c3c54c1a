package ops

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"github.com/shardmesh/shardmesh/pkg/topology"
	"github.com/shardmesh/shardmesh/pkg/weights"
)

// ShiftSpec is what an operator gives to create a shift.
type ShiftSpec struct {
	Keyspace             string   `json:"keyspace"`
	TabletType           string   `json:"tablet_type"`
	ToKeyspace           string   `json:"to_keyspace,omitempty"`
	FromCell             string   `json:"from_cell,omitempty"`
	ToCell               string   `json:"to_cell,omitempty"`
	Steps                []uint32 `json:"steps"`
	Hold                 string   `json:"hold"`
	StartedAt            string   `json:"started_at"`
	PausedAt             string   `json:"paused_at,omitempty"`
	Aborted              bool     `json:"aborted,omitempty"`
	RollbackBelowPercent uint32   `json:"rollback_below_percent,omitempty"`
}

// CreateShift validates and writes a new shift starting at now; it fails
// if a shift of that name exists.
func (s Store) CreateShift(ctx context.Context, name string, spec ShiftSpec, now time.Time) error {
	if spec.StartedAt == "" {
		spec.StartedAt = now.UTC().Format(time.RFC3339Nano)
	}
	value, err := validShift(name, spec)
	if err != nil {
		return err
	}
	return s.putIf(ctx, topology.ShiftsPrefix+name, value, 0)
}

// PauseShift freezes a shift at the step in force at now.
func (s Store) PauseShift(ctx context.Context, name string, now time.Time) error {
	return s.updateShift(ctx, name, func(spec *ShiftSpec) error {
		if spec.PausedAt != "" {
			return fmt.Errorf("shift %s: already paused", name)
		}
		spec.PausedAt = now.UTC().Format(time.RFC3339Nano)
		return nil
	})
}

// ResumeShift continues a paused shift where it stopped: its start moves
// forward by the length of the pause.
func (s Store) ResumeShift(ctx context.Context, name string, now time.Time) error {
	return s.updateShift(ctx, name, func(spec *ShiftSpec) error {
		if spec.PausedAt == "" {
			return fmt.Errorf("shift %s: not paused", name)
		}
		paused, err := time.Parse(time.RFC3339Nano, spec.PausedAt)
		if err != nil {
			return fmt.Errorf("shift %s: paused_at: %w", name, err)
		}
		started, err := time.Parse(time.RFC3339Nano, spec.StartedAt)
		if err != nil {
			return fmt.Errorf("shift %s: started_at: %w", name, err)
		}
		spec.StartedAt = started.Add(now.Sub(paused)).UTC().Format(time.RFC3339Nano)
		spec.PausedAt = ""
		return nil
	})
}

// AbortShift sends all of the shift's traffic back at once.
func (s Store) AbortShift(ctx context.Context, name string) error {
	return s.updateShift(ctx, name, func(spec *ShiftSpec) error {
		spec.Aborted = true
		return nil
	})
}

// DeleteShift removes a shift record (after it completed or was aborted).
func (s Store) DeleteShift(ctx context.Context, name string) error {
	return s.del(ctx, topology.ShiftsPrefix+name)
}

func (s Store) updateShift(ctx context.Context, name string, change func(*ShiftSpec) error) error {
	key := topology.ShiftsPrefix + name
	value, rev, err := s.get(ctx, key)
	if err != nil {
		return err
	}
	var spec ShiftSpec
	if err := json.Unmarshal(value, &spec); err != nil {
		return fmt.Errorf("%s: %w", key, err)
	}
	if err := change(&spec); err != nil {
		return err
	}
	out, err := validShift(name, spec)
	if err != nil {
		return err
	}
	return s.putIf(ctx, key, out, rev)
}

func validShift(name string, spec ShiftSpec) ([]byte, error) {
	value, err := json.Marshal(spec)
	if err != nil {
		return nil, err
	}
	if _, err := topology.DecodeShift(name, value); err != nil {
		return nil, err
	}
	return value, nil
}

// ShiftStatus is a shift's state as the control plane computes it.
type ShiftStatus struct {
	Name     string `json:"name"`
	Keyspace string `json:"keyspace"`
	Type     string `json:"tablet_type"`
	To       string `json:"to"` // keyspace, or "cell A -> cell B"
	Percent  uint32 `json:"percent"`
	Status   string `json:"status"`
	Next     string `json:"next_step,omitempty"`
}

// Shifts returns the status of every shift at now, by name.
func Shifts(topo *topology.Topology, now time.Time) []ShiftStatus {
	var out []ShiftStatus
	for name, sh := range topo.Shifts {
		st := ShiftStatus{Name: name, Keyspace: sh.Keyspace, Type: string(sh.TabletType), To: sh.ToKeyspace}
		if sh.ToCell != "" {
			st.To = "cell " + sh.FromCell + " -> " + sh.ToCell
		}
		p := weights.ShiftProgress(topo, sh, now)
		st.Percent, st.Status = p.Percent, p.Status
		if at, ok := sh.NextStep(now); ok {
			st.Next = at.UTC().Format(time.RFC3339)
		}
		out = append(out, st)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}
