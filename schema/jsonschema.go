package schema

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
)

// JSONSchemaID is where the JSON Schema of the schema language is published;
// schema files name it in their first line for editors:
//
//	# yaml-language-server: $schema=https://raw.githubusercontent.com/karl-app/karl/main/schema/karl-schema.json
const JSONSchemaID = "https://raw.githubusercontent.com/karl-app/karl/main/schema/karl-schema.json"

// JSONSchema returns a JSON Schema (draft 2020-12) of the schema language, built
// from the same key tables the loader reads, so editors complete and check schema
// files. It describes the file's shape (keys, value kinds, names, builtins,
// targets, which types a constraint applies to); what needs the whole file, such
// as references to named types and declared error codes, stays with the loader.
// The committed schema/karl-schema.json is its output (go test ./schema -update).
func JSONSchema() []byte {
	doc := obj{
		"$schema":     "https://json-schema.org/draft/2020-12/schema",
		"$id":         JSONSchemaID,
		"$comment":    "Generated from schema/language.go by go test ./schema -update; do not edit.",
		"title":       "KARL schema",
		"description": "A KARL schema: every event a Socket.IO application exchanges. Reference: https://github.com/karl-app/karl#the-schema-language",
		"$defs":       defs(),
	}
	for k, v := range mapping(TopKeys) {
		doc[k] = v
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil {
		panic(fmt.Sprintf("encode the JSON Schema: %v", err)) // maps of strings and slices only
	}
	return b.Bytes()
}

type obj = map[string]any

func ref(name string) obj { return obj{"$ref": "#/$defs/" + name} }

// ifType applies then to values of JSON type typ and otherwise to the others.
// Editors report the errors of one branch only, where anyOf reports both.
func ifType(typ string, then, otherwise any) obj {
	return obj{"if": obj{"type": typ}, "then": then, "else": otherwise}
}

// mapping describes a mapping of the schema language that accepts keys only.
func mapping(keys []Key) obj {
	props := obj{}
	var required []string
	for _, k := range keys {
		p := valueSchema(k.Kind)
		p["description"] = k.Doc
		if k.Pattern != nil {
			p["pattern"] = k.Pattern.String()
		}
		props[k.Name] = p
		if k.Required {
			required = append(required, k.Name)
		}
	}
	m := obj{"type": "object", "properties": props, "additionalProperties": false}
	if len(required) > 0 {
		m["required"] = required
	}
	return m
}

// valueSchema describes the value of a key of kind k.
func valueSchema(k Kind) obj {
	switch k {
	case KindText:
		return obj{"type": "string"}
	case KindBool:
		return obj{"type": "boolean"}
	case KindCount:
		return obj{"type": "integer", "minimum": 0}
	case KindNumber:
		return obj{"type": "number"}
	case KindTextList:
		return obj{"type": "array", "items": obj{"type": "string"}}
	case KindDeprecated:
		return obj{"type": []string{"boolean", "string"}}
	case KindName:
		return ref("typeName")
	case KindFormat:
		return obj{"enum": Formats}
	case KindNormalize:
		return obj{"enum": Normalizations}
	case KindOffline:
		return obj{"enum": OfflinePolicies}
	case KindSpec:
		return ref("spec")
	case KindFields:
		return ref("fields")
	case KindObject:
		return ifType("string", ref("namedType"), ifType("null", true, ref("fields")))
	case KindCodes:
		return obj{"type": "array", "items": ref("errorCode")}
	case KindTargets:
		return obj{"type": "array", "minItems": 1, "uniqueItems": true, "items": obj{"anyOf": []any{obj{"enum": Targets}, ref("roomTarget")}}}
	case KindDuration:
		return obj{"type": "string", "pattern": `^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$`}
	case KindAuth:
		// The long form is chosen when the mapping has a "fields" key.
		return obj{"if": obj{"type": "object", "required": []string{"fields"}}, "then": ref("authLongForm"), "else": ref("fields")}
	case KindTypes:
		return obj{"type": "object", "propertyNames": ref("namedType"), "additionalProperties": ref("typeBody")}
	case KindErrors:
		return obj{"type": "object", "propertyNames": obj{"allOf": []any{ref("errorCode"), obj{"not": obj{"enum": RuntimeCodes}}}},
			"additionalProperties": obj{"type": "string", "minLength": 1}}
	case KindClient:
		return obj{"type": "object", "propertyNames": ref("eventName"), "additionalProperties": ifType("null", true, ref("clientEvent"))}
	case KindServer:
		return obj{"type": "object", "propertyNames": ref("eventName"), "additionalProperties": ref("serverEvent")}
	case KindRooms:
		return obj{"type": "object", "propertyNames": ref("roomKind"), "additionalProperties": ifType("null", true, ref("roomKindBody"))}
	}
	panic(fmt.Sprintf("schema: no JSON Schema for key kind %d", k))
}

func defs() obj {
	return obj{
		"namedType":    obj{"type": "string", "pattern": reTypeName.String(), "not": obj{"enum": Builtins}, "description": "A named type, PascalCase."},
		"typeName":     obj{"anyOf": []any{obj{"enum": Builtins}, ref("namedType")}, "description": "A builtin type or a named type."},
		"errorCode":    obj{"type": "string", "pattern": reCode.String(), "description": "An error code, kebab-case."},
		"eventName":    obj{"type": "string", "pattern": reEventName.String(), "not": obj{"enum": append(slices.Clone(Reserved), RequestErrorEvent)}},
		"fieldName":    obj{"type": "string", "pattern": reFieldName.String()},
		"fields":       obj{"type": "object", "propertyNames": ref("fieldName"), "additionalProperties": ref("field")},
		"field":        ifType("string", ref("typeName"), withConstraints(mapping(FieldKeys), false)),
		"spec":         ifType("string", ref("typeName"), withConstraints(mapping(SpecKeys), false)),
		"typeBody":     ifType("string", ref("typeName"), withConstraints(mapping(SpecKeys), true)),
		"authLongForm": mapping(AuthKeys),
		"clientEvent":  mapping(ClientEventKeys),
		"serverEvent":  mapping(ServerEventKeys),
		"roomKind":     obj{"type": "string", "pattern": reCode.String(), "not": obj{"enum": Targets}, "description": "A room kind, kebab-case."},
		"roomTarget":   obj{"type": "string", "pattern": `^[a-z][a-z0-9]*(-[a-z0-9]+)*(\.others)?$`, "description": "A room kind (its members), or kind.others (its members but the sender)."},
		"roomKindBody": mapping(RoomKeys),
	}
}

// withConstraints adds to the mapping of a value description what the loader
// checks without the rest of the file: a type, or fields, is given; a constraint
// is written on a builtin it applies to. In the body of a named type
// (namedBody), the type may also be another named type, whose builtin is not
// known here; elsewhere a reference to a named type may not add constraints.
func withConstraints(m obj, namedBody bool) obj {
	rules := []any{obj{"anyOf": []any{obj{"required": []string{"type"}}, obj{"required": []string{"fields"}}}}}
	for _, k := range constraints() {
		allowed := any(obj{"enum": k.AppliesTo})
		if namedBody {
			allowed = obj{"anyOf": []any{obj{"enum": k.AppliesTo}, ref("namedType")}}
		}
		rules = append(rules, obj{"if": obj{"required": []string{k.Name}}, "then": obj{"properties": obj{"type": allowed}}})
	}
	m["allOf"] = rules
	return m
}
