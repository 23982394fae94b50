package migrations

import (
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"
)

func TestLoadMigrations(t *testing.T) {
	file := func(sql string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(sql)} }
	tests := []struct {
		name    string
		fsys    fstest.MapFS
		want    []int64
		wantErr string
	}{
		{"in order", fstest.MapFS{"0002_b.sql": file("B"), "0001_a.sql": file("A"), "README": file("")}, []int64{1, 2}, ""},
		{"empty", fstest.MapFS{}, nil, ""},
		{"gap", fstest.MapFS{"0001_a.sql": file("A"), "0003_c.sql": file("C")}, nil, `"0003_c.sql": version 3, want 2`},
		{"duplicate", fstest.MapFS{"0001_a.sql": file("A"), "1_b.sql": file("B")}, nil, "want 2"},
		{"no number", fstest.MapFS{"init.sql": file("A")}, nil, `"init.sql": name must look like`},
		{"no description", fstest.MapFS{"0001.sql": file("A")}, nil, `"0001.sql": name must look like`},
		{"starts at zero", fstest.MapFS{"0000_a.sql": file("A")}, nil, "name must look like"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ms, err := Load(tc.fsys)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error = %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []int64
			for _, m := range ms {
				got = append(got, m.Version)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("versions (-want +got):\n%s", diff)
			}
		})
	}
}
