package schema

import (
	"encoding/json"
	"testing"

	"github.com/karl-app/karl/internal/golden"
)

// TestJSONSchemaFresh compares JSONSchema with the committed karl-schema.json
// (go test ./schema -update rewrites it); tools/schema-validate validates schema
// files against it with a real JSON Schema validator.
func TestJSONSchemaFresh(t *testing.T) {
	data := JSONSchema()
	var v map[string]any
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatalf("not JSON: %v", err)
	}
	golden.Compare(t, "karl-schema.json", data)
}

// TestEveryKeyLoads writes each key of the language tables in a schema and checks
// that the loader accepts it: a key added to a table is decoded by the loader too.
func TestEveryKeyLoads(t *testing.T) {
	sample := map[Kind]string{
		KindText: `"x"`, KindBool: "true", KindCount: "1", KindNumber: "1", KindTextList: "[a]",
		KindDeprecated: "true", KindFormat: "image-data-url", KindNormalize: "nfc", KindOffline: "drop", KindSpec: "string", KindFields: "{a: string}",
		KindObject: "{a: string}", KindCodes: "[e]", KindTargets: "[socket]", KindDuration: "1s",
	}
	// doc is a valid schema with extra lines in its client and server sections and at its end.
	doc := func(client, server, end string) string {
		return "schema: t\nversion: 1.0.0\nerrors: {e: E.}\nclient:\n  c: {errors: [e]}\n" + client +
			"server:\n  s: {to: [socket]}\n" + server + end
	}
	cases := map[string]string{}
	for _, k := range SpecKeys {
		typ := "string"
		if len(k.AppliesTo) > 0 {
			typ = k.AppliesTo[0]
		}
		v := sample[k.Kind]
		switch k.Name {
		case "type":
			v = typ
		case "pattern":
			v = "'^a$'"
		}
		body := "types:\n  T: {type: " + typ + ", " + k.Name + ": " + v + "}\n"
		switch {
		case k.Name == "type":
			body = "types:\n  T: {type: string}\n"
		case typ == Array && k.Name != "items":
			body = "types:\n  T: {type: array, items: string, " + k.Name + ": " + v + "}\n"
		}
		cases["type key "+k.Name] = doc("", "", body+"  U: {fields: {t: T}}\nauth: {u: {type: U, optional: true}}\n")
	}
	for _, k := range ClientEventKeys {
		cases["client event key "+k.Name] = doc("  d: {"+k.Name+": "+sample[k.Kind]+"}\n", "", "")
	}
	for _, k := range ServerEventKeys {
		if k.Name == "to" {
			continue // in every server event of doc
		}
		cases["server event key "+k.Name] = doc("", "  s2: {to: [socket], "+k.Name+": "+sample[k.Kind]+"}\n", "")
	}
	for _, k := range AuthKeys {
		if k.Name == "fields" {
			cases["auth key fields"] = doc("", "", "auth: {fields: {a: string}}\n")
			continue
		}
		cases["auth key "+k.Name] = doc("", "", "auth: {fields: {}, "+k.Name+": "+sample[k.Kind]+"}\n")
	}
	for name, src := range cases {
		if _, err := Parse("keys.yaml", []byte(src)); err != nil {
			t.Errorf("%s:\n%s\n%v", name, src, err)
		}
	}
}
