package ts

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/karl-app/karl/gen/model"
	"github.com/karl-app/karl/schema"
)

// build loads a schema held in a string.
func build(t *testing.T, yaml string) *model.Schema {
	t.Helper()
	s, err := schema.Parse("test.yaml", []byte(yaml))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	m, err := model.Build(s, "test.yaml")
	if err != nil {
		t.Fatalf("model: %v", err)
	}
	return m
}

const profileSchema = `
schema: test
version: 1.0.0
types:
  Username:
    type: string
    trim: true
    minLength: 1
    maxLength: 32
    pattern: '^[a-z/]+$'
    doc: A display name.
  Profile:
    doc: What the server knows.
    fields:
      username: Username
      age: {type: integer, min: 0, optional: true}
      tags: {type: array, items: string, deprecated: use labels}
errors:
  no-session: Save a username first.
client:
  get-profile:
    reply: Profile
    errors: [no-session]
  rename:
    payload:
      username: Username
    timeout: 2s
server:
  pong:
    to: [socket]
`

func structNamed(m *model.Schema, name string) *model.Struct {
	for _, st := range m.Structs {
		if st.Name == name {
			return st
		}
	}
	panic("no struct " + name)
}

func TestGenInterface(t *testing.T) {
	g := &generator{m: build(t, profileSchema)}
	want := `/** Profile: What the server knows. */
export interface Profile {
  username: Username;
  age?: number;
  /** @deprecated use labels */
  tags: string[];
}`
	if diff := cmp.Diff(want, g.genInterface(structNamed(g.m, "Profile"))); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestGenScalar(t *testing.T) {
	g := &generator{m: build(t, profileSchema)}
	want := `/** Username: A display name. */
export type Username = string;`
	if diff := cmp.Diff(want, g.genScalar(g.m.Scalars[0])); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestGenScalarReader(t *testing.T) {
	m := build(t, profileSchema)
	v := &validateFile{checks: map[string]bool{}, types: map[string]bool{}}
	want := `const patternUsername = /^[a-z\/]+$/u;

/** readUsername reads a value of type Username (see Reader). */
export function readUsername(v: unknown, path = ""): Username {
  const s = asTrimmedString(v, path);
  minLength(s, 1, path);
  maxLength(s, 32, path);
  matches(s, patternUsername, path);
  return s;
}`
	if diff := cmp.Diff(want, v.genScalarReader(m.Scalars[0])); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"asTrimmedString", "matches", "maxLength", "minLength"}, sortedKeys(v.checks)); diff != "" {
		t.Errorf("imports from checks.ts (-want +got):\n%s", diff)
	}
}

func TestGenStructReader(t *testing.T) {
	m := build(t, profileSchema)
	v := &validateFile{checks: map[string]bool{}, types: map[string]bool{}}
	want := `/** readProfile reads a value of type Profile (see Reader). */
export function readProfile(v: unknown, path = ""): Profile {
  const o = asObject(v, path);
  const x: Profile = {
    username: required(o, "username", path, readUsername),
    tags: required(o, "tags", path, readProfileTags),
  };
  if (o["age"] != null) {
    x.age = readProfileAge(o["age"], at(path, "age"));
  }
  return x;
}`
	if diff := cmp.Diff(want, v.genStructReader(structNamed(m, "Profile"))); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	wantInline := []string{`/** readProfileAge reads a value of type number (see Reader). */
function readProfileAge(v: unknown, path = ""): number {
  const n = asInteger(v, path);
  min(n, 0, path);
  return n;
}`, `/** readProfileTags reads a value of type string[] (see Reader). */
function readProfileTags(v: unknown, path = ""): string[] {
  return asArray(v, path, asString);
}`}
	if diff := cmp.Diff(wantInline, v.flush()); diff != "" {
		t.Errorf("inline readers (-want +got):\n%s", diff)
	}
}

func TestGenClientEvents(t *testing.T) {
	g := &generator{m: build(t, profileSchema)}
	want := `/**
 * ClientToServerEvents lists the events the client sends: the payload, if the event has fields,
 * then an optional ack callback.
 */
export interface ClientToServerEvents {
  "get-profile": ClientEvent<[], Profile, EventErrorCodes["get-profile"]>;
  "rename": ClientEvent<[payload: Rename], undefined, EventErrorCodes["rename"]>;
}`
	if diff := cmp.Diff(want, g.genClientEvents()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestGenServerEvents(t *testing.T) {
	g := &generator{m: build(t, profileSchema)}
	want := `/**
 * ServerToClientEvents lists the events the server sends, for Socket<ServerToClientEvents,
 * ClientToServerEvents>.
 */
export interface ServerToClientEvents {
  "pong": () => void;
  /** A client event sent without ack failed. */
  "request-error": (error: RequestError) => void;
}`
	if diff := cmp.Diff(want, g.genServerEvents()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestGenCreateAPI(t *testing.T) {
	g := &generator{m: build(t, profileSchema)}
	want := `/** createApi returns the Api that sends on socket. */
export function createApi(socket: KarlSocket, options: ApiOptions = {}): Api {
  const timeout = options.timeout ?? DEFAULT_TIMEOUT;
  return {
    getProfile: () =>
      request(socket, "get-profile", clientEvents["get-profile"], undefined, timeout, options),
    rename: (payload) => request(socket, "rename", clientEvents["rename"], payload, 2000, options),
  };
}`
	if diff := cmp.Diff(want, g.genCreateAPI()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestGenErrorCodesWithoutDeclaredCodes(t *testing.T) {
	g := &generator{m: build(t, "schema: test\nversion: 1.0.0\n")}
	got := g.genErrorCodes()
	if !strings.Contains(got, "export type SchemaErrorCode = never;") {
		t.Errorf("a schema without errors must declare SchemaErrorCode as never, got:\n%s", got)
	}
}

func TestDoc(t *testing.T) {
	for _, tc := range []struct {
		name, indent, text, deprecated, want string
	}{
		{"empty", "", "", "", ""},
		{"one line", "  ", "The photo was saved.", "", "  /** The photo was saved. */\n"},
		{"comment terminator", "", "a */ b", "", "/** a *\\/ b */\n"},
		{"deprecated only", "", "", "use draw", "/** @deprecated use draw */\n"},
		{"deprecated with text", "", "Move.", "use draw", "/**\n * Move.\n * @deprecated use draw\n */\n"},
		{"wrapped", "", strings.Repeat("word ", 25), "", "/**\n" +
			" * word word word word word word word word word word word word word word word word word word word\n" +
			" * word word word word word word\n */\n"},
		{"own line breaks", "", "SchemaErrorCode is:\n- \"a\": A.", "", "/**\n * SchemaErrorCode is:\n * - \"a\": A.\n */\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, doc(tc.indent, tc.text, tc.deprecated)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestRegexLiteral(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`^[a-z]+$`, `/^[a-z]+$/u`},
		{`^a/b$`, `/^a\/b$/u`},
		{`^a\/b$`, `/^a\/b$/u`}, // already escaped: left alone
		{`^[/]$`, `/^[\/]$/u`},  // in a class too
		{`^\\/$`, `/^\\\/$/u`},  // an escaped backslash, then a slash
		{"^a\nb$", `/^a\nb$/u`}, // a line break cannot appear in a literal
		{`^[\p{L} .\-]+$`, `/^[\p{L} .\-]+$/u`},
	} {
		if got := regexLiteral(tc.in); got != tc.want {
			t.Errorf("regexLiteral(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

func TestTSType(t *testing.T) {
	m := build(t, `
schema: test
version: 1.0.0
client:
  e:
    payload:
      a: {type: array, items: {type: string, enum: [x, "y z"]}}
      b: {type: array, items: {type: array, items: timestamp}}
      c: boolean
`)
	fields := m.Client[0].Payload.Fields
	for i, want := range []string{`("x" | "y z")[]`, `number[][]`, `boolean`} {
		if got := tsType(fields[i].Type); got != want {
			t.Errorf("tsType(%s) = %s, want %s", fields[i].Name, got, want)
		}
	}
}

func TestStr(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`set-username`, `"set-username"`},
		{`a "quoted" <b> & c`, `"a \"quoted\" <b> & c"`},
		{"line\u2028sep", `"line\u2028sep"`},
	} {
		if got := str(tc.in); got != tc.want {
			t.Errorf("str(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
}
