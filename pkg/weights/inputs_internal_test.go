package weights

import (
	"reflect"
	"testing"

	"github.com/shardmesh/shardmesh/pkg/topology"
)

// TestShardEnvEqualCoversEveryField: changing any one field of a ShardEnv
// makes it unequal, so a Resolver never reuses an environment (and with it
// every cached assignment keyed on it) after any input changed. A field
// added to ShardEnv but not compared fails here.
func TestShardEnvEqualCoversEveryField(t *testing.T) {
	base := ShardEnv{
		Cells:  []topology.Cell{{Name: "zone1", Region: "r1", Zone: "z1"}},
		Prefer: "zone1",
		Drains: []DrainStep{{Cell: "zone1", Step: 1}},
		Shifts: [2]CellShift{{From: "zone1", To: "zone2", Percent: 50}},
		Ramps:  []int{1, RampSteps},
	}
	typ := reflect.TypeFor[ShardEnv]()
	for i := range typ.NumField() {
		f := typ.Field(i)
		t.Run(f.Name, func(t *testing.T) {
			changed := base.clone()
			v := reflect.ValueOf(changed).Elem().Field(i)
			if !perturb(v) {
				t.Fatalf("field %s of kind %s: the test cannot change it; teach perturb", f.Name, v.Kind())
			}
			if base.equal(changed) || changed.equal(&base) {
				t.Errorf("ShardEnv.equal ignores field %s", f.Name)
			}
			if c := base.clone(); !c.equal(&base) {
				t.Error("a clone is not equal to its original")
			}
		})
	}
}

// perturb changes a value in place, wherever it holds a string or a
// number: the last element of a slice or array, or the last field of a
// struct.
func perturb(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.String:
		v.SetString(v.String() + "x")
	case reflect.Int:
		v.SetInt(v.Int() + 1)
	case reflect.Uint32:
		v.SetUint(v.Uint() + 1)
	case reflect.Slice, reflect.Array:
		return v.Len() > 0 && perturb(v.Index(v.Len()-1))
	case reflect.Struct:
		return v.NumField() > 0 && perturb(v.Field(v.NumField()-1))
	default:
		return false
	}
	return true
}
