package topology

import (
	"fmt"
	"strings"
	"time"
)

// ShiftsPrefix + <name> holds a gradual traffic shift.
const ShiftsPrefix = "shifts/"

// Shift moves one tablet type's traffic of a keyspace in steps: Steps[i]
// percent from StartedAt + i×Hold on, either to another keyspace (a
// MoveTables-style switch, ToKeyspace) or from one cell to another
// (FromCell, ToCell; reads only). Progress is a function of these
// timestamps and the clock only, so every control plane replica computes
// the same step.
type Shift struct {
	Name       string
	Keyspace   string     // whose traffic moves
	TabletType TabletType // primary (also read-after-write), replica or rdonly
	ToKeyspace string
	FromCell   string
	ToCell     string
	Steps      []uint32 // percent moved at each step, rising, ending at most at 100
	Hold       time.Duration
	StartedAt  time.Time
	PausedAt   time.Time // zero unless paused: progress stops there
	Aborted    bool      // all traffic back to Keyspace
	// RollbackBelowPercent: while less than this share of the target's
	// tablets of the type are eligible, the shift is rolled back (0 %).
	RollbackBelowPercent uint32
}

type shiftRecord struct {
	Keyspace             string  `json:"keyspace"`
	TabletType           string  `json:"tablet_type"`
	ToKeyspace           string  `json:"to_keyspace"`
	FromCell             string  `json:"from_cell"`
	ToCell               string  `json:"to_cell"`
	Steps                []int64 `json:"steps"`
	Hold                 string  `json:"hold"`
	StartedAt            string  `json:"started_at"`
	PausedAt             string  `json:"paused_at"`
	Aborted              bool    `json:"aborted"`
	RollbackBelowPercent *int64  `json:"rollback_below_percent"`
}

// DecodeShift decodes P/shifts/<name>.
func DecodeShift(name string, data []byte) (*Shift, error) {
	record := "shift " + name
	fail := func(field, format string, args ...any) (*Shift, error) {
		return nil, &FieldError{Record: record, Field: field, Msg: fmt.Sprintf(format, args...)}
	}
	if !nameRE.MatchString(name) {
		return fail("", "not a valid shift name")
	}
	var r shiftRecord
	if err := decodeJSON(record, data, &r); err != nil {
		return nil, err
	}
	s := &Shift{Name: name, Keyspace: r.Keyspace, TabletType: TabletType(strings.ToLower(r.TabletType)),
		ToKeyspace: r.ToKeyspace, FromCell: r.FromCell, ToCell: r.ToCell, Aborted: r.Aborted}
	cellShift := s.FromCell != "" || s.ToCell != ""
	switch {
	case !nameRE.MatchString(s.Keyspace):
		return fail("keyspace", "%q is not a valid keyspace name", r.Keyspace)
	case !s.TabletType.Routable():
		return fail("tablet_type", "%q is not primary, replica or rdonly", r.TabletType)
	case cellShift && s.ToKeyspace != "":
		return fail("to_keyspace", "a shift moves traffic to a keyspace or between cells, not both")
	case cellShift && s.TabletType == TypePrimary:
		return fail("tablet_type", "a cell shift moves reads; move a primary with a reparent")
	case cellShift && (!nameRE.MatchString(s.FromCell) || !nameRE.MatchString(s.ToCell) || s.FromCell == s.ToCell):
		return fail("to_cell", "a cell shift needs two different cells, from_cell and to_cell")
	case !cellShift && !nameRE.MatchString(s.ToKeyspace):
		return fail("to_keyspace", "%q is not a valid keyspace name (or give from_cell and to_cell)", r.ToKeyspace)
	case s.ToKeyspace == s.Keyspace:
		return fail("to_keyspace", "same as keyspace")
	case len(r.Steps) == 0:
		return fail("steps", "required, e.g. [10, 25, 50, 100]")
	}
	prev := int64(0)
	for i, p := range r.Steps {
		if p <= prev || p > 100 {
			return fail(fmt.Sprintf("steps[%d]", i), "%d: steps must rise within 1..100", p)
		}
		prev = p
		s.Steps = append(s.Steps, uint32(p))
	}
	d := durations{record: record}
	d.parse("hold", r.Hold, &s.Hold)
	if p := r.RollbackBelowPercent; p != nil {
		d.count("rollback_below_percent", p, 0, 100, &s.RollbackBelowPercent)
	}
	if d.err != nil {
		return nil, d.err
	}
	if s.Hold <= 0 && len(s.Steps) > 1 {
		return fail("hold", "required with more than one step")
	}
	var err error
	if s.StartedAt, err = parseTime(r.StartedAt); err != nil || s.StartedAt.IsZero() {
		return fail("started_at", "want an RFC 3339 time")
	}
	if s.PausedAt, err = parseTime(r.PausedAt); err != nil {
		return fail("paused_at", "%v", err)
	}
	return s, nil
}

// Step returns the index of the step in force at now, or -1 before the
// shift starts.
func (s *Shift) Step(now time.Time) int {
	if !s.PausedAt.IsZero() && s.PausedAt.Before(now) {
		now = s.PausedAt
	}
	elapsed := now.Sub(s.StartedAt)
	if elapsed < 0 {
		return -1
	}
	if s.Hold <= 0 {
		return len(s.Steps) - 1
	}
	return min(int(elapsed/s.Hold), len(s.Steps)-1)
}

// NextStep returns when the next step starts, if the shift has one left
// and is not paused or aborted.
func (s *Shift) NextStep(now time.Time) (time.Time, bool) {
	i := s.Step(now)
	if s.Aborted || !s.PausedAt.IsZero() || i >= len(s.Steps)-1 {
		return time.Time{}, false
	}
	return s.StartedAt.Add(time.Duration(i+1) * s.Hold), true
}
