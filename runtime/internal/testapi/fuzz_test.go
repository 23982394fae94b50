package testapi

import (
	"encoding/json"
	"testing"
)

// FuzzDecodeShape feeds arbitrary JSON to the generated decoder of the schema's
// richest type: it must never panic, and whatever it accepts must pass Validate
// and survive AppendJSON -> decode unchanged.
func FuzzDecodeShape(f *testing.F) {
	for _, seed := range []string{
		`{"name":"box","color":"red","points":[{"x":1,"y":2}],"visible":true,"createdAt":1700000000123}`,
		`{"name":"b","color":"blue","tags":[" a "],"points":[{"x":0,"y":100}],"weight":0,"visible":false,"createdAt":0,"meta":{"note":""}}`,
		`{"name":"","color":"pink","points":[]}`,
		`{"name":"x","color":"red","points":[{"x":1.5,"y":-1}],"visible":"no","createdAt":"2024"}`,
		`{"image":"data:image/png;base64,AAAA","tags":null,"meta":[]}`,
		`[]`, `null`, `"box"`, `1e308`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var v any
		if json.Unmarshal(data, &v) != nil {
			return
		}
		x, err := decodeShape(v)
		if err != nil {
			return
		}
		if err := x.Validate(); err != nil {
			t.Fatalf("accepted %s but Validate says %v", data, err)
		}
		var again any
		if err := json.Unmarshal(x.AppendJSON(nil), &again); err != nil {
			t.Fatalf("AppendJSON gave invalid JSON for %s: %v", data, err)
		}
		y, err := decodeShape(again)
		if err != nil {
			t.Fatalf("re-decoding %s: %v", x.AppendJSON(nil), err)
		}
		if string(x.AppendJSON(nil)) != string(y.AppendJSON(nil)) {
			t.Fatalf("round trip changed %s into %s", x.AppendJSON(nil), y.AppendJSON(nil))
		}
	})
}
