package migration

import (
	"testing"
	"testing/fstest"
)

func TestLoad(t *testing.T) {
	for name, fsys := range map[string]fstest.MapFS{
		"gap":      {"m/0001_a.sql": {}, "m/0003_c.sql": {}},
		"bad name": {"m/first.sql": {}},
		"not sql":  {"m/0001_a.txt": {}},
		"bad num":  {"m/x1_a.sql": {}},
	} {
		if _, err := Load(fsys, "m"); err == nil {
			t.Errorf("%s: Load accepted it", name)
		}
	}
	ms, err := Load(fstest.MapFS{"m/0002_b.sql": {Data: []byte("B")}, "m/0001_a.sql": {Data: []byte("A")}}, "m")
	if err != nil || len(ms) != 2 || ms[0].Name != "a" || ms[0].Version != 1 || ms[1].SQL != "B" {
		t.Errorf("Load = %+v, %v", ms, err)
	}
}
