package events

// Micro-benchmarks of the generated decoders and encoders on the payloads of
// the benchmark workloads (docs/BENCHMARKS.md), with allocations. Each decode
// benchmark starts from what zishang520's parser hands the runtime (the
// payload decoded by encoding/json into map[string]any); the "FromWire"
// variants include that library step, to show its share. No timing is
// asserted anywhere: run them with `go test -run '^$' -bench . -benchmem ./app/events`.

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"
	"unicode"
)

// libraryDecode is what zishang520/socket.io's parser does with a payload:
// json.NewDecoder(...).Decode into an any.
func libraryDecode(tb testing.TB, payload string) any {
	var v any
	if err := json.NewDecoder(strings.NewReader(payload)).Decode(&v); err != nil {
		tb.Fatal(err)
	}
	return v
}

func BenchmarkDecodeSetUsername(b *testing.B) {
	v := libraryDecode(b, `{"username":"  Alice Liddell  "}`)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := decodeSetUsername(v); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeSetUsernameFromWire(b *testing.B) {
	const payload = `{"username":"  Alice Liddell  "}`
	b.ReportAllocs()
	for b.Loop() {
		var v any
		if err := json.NewDecoder(strings.NewReader(payload)).Decode(&v); err != nil {
			b.Fatal(err)
		}
		if _, err := decodeSetUsername(v); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeSetUsernameInvalid(b *testing.B) {
	v := libraryDecode(b, `{"username":"<script>"}`)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := decodeSetUsername(v); err == nil {
			b.Fatal("accepted")
		}
	}
}

func BenchmarkDecodeSendMessage(b *testing.B) {
	v := libraryDecode(b, `{"room":"bench","text":"m12345 hello, how are you today?"}`)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := decodeSendMessage(v); err != nil {
			b.Fatal(err)
		}
	}
}

// photoPayload is an upload-profile-image payload of about the W3 size (67 KB of base64).
func photoPayload() string {
	data := bytes.Repeat([]byte{0xff, 0xd8, 0xff, 0xe0, 1, 2, 3, 4}, 50<<10/8)
	return `{"imageBase64":"data:image/jpeg;base64,` + base64.StdEncoding.EncodeToString(data) + `"}`
}

func BenchmarkDecodeUploadProfileImage(b *testing.B) {
	v := libraryDecode(b, photoPayload())
	b.ReportAllocs()
	for b.Loop() {
		if _, err := decodeUploadProfileImage(v); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeUploadProfileImageFromWire(b *testing.B) {
	payload := photoPayload()
	b.SetBytes(int64(len(payload)))
	b.ReportAllocs()
	for b.Loop() {
		var v any
		if err := json.NewDecoder(strings.NewReader(payload)).Decode(&v); err != nil {
			b.Fatal(err)
		}
		if _, err := decodeUploadProfileImage(v); err != nil {
			b.Fatal(err)
		}
	}
}

var expires = time.UnixMilli(1_900_000_000_000)

// BenchmarkEmitUsernameSaved is what EmitUsernameSaved does before the
// library: Validate (two patterns) and AppendJSON.
func BenchmarkEmitUsernameSaved(b *testing.B) {
	p := UsernameSaved{Token: strings.Repeat("A", 43), Username: "Alice Liddell", ExpiresAt: expires}
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	for b.Loop() {
		if err := p.Validate(); err != nil {
			b.Fatal(err)
		}
		buf = p.AppendJSON(buf[:0])
	}
}

// BenchmarkMarshalUsernameSaved is the same payload through encoding/json,
// what a hand-written handler hands the library.
func BenchmarkMarshalUsernameSaved(b *testing.B) {
	type usernameSaved struct {
		Token     string `json:"token"`
		Username  string `json:"username"`
		ExpiresAt int64  `json:"expiresAt"`
	}
	p := usernameSaved{Token: strings.Repeat("A", 43), Username: "Alice Liddell", ExpiresAt: expires.UnixMilli()}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := json.Marshal(p); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEmitNewMessage(b *testing.B) {
	p := NewMessage{Room: "bench", Username: "Alice Liddell", Text: "m12345 hello, how are you today?", SentAt: expires}
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	for b.Loop() {
		if err := p.Validate(); err != nil {
			b.Fatal(err)
		}
		buf = p.AppendJSON(buf[:0])
	}
}

// BenchmarkValidateUsername is one Username check: its cost is mostly the
// regular expression of the schema's pattern.
func BenchmarkValidateUsername(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if err := checkUsername("Alice Liddell"); err != nil {
			b.Fatal(err)
		}
	}
}

// usernameRunes is what karlgen could emit for the Username pattern
// ^[\p{L}\p{M}\p{N} _.\-]+$ instead of a regexp: a pattern that is one
// character class repeated, anchored at both ends, is a loop over the runes
// (invalid UTF-8 decodes to U+FFFD, outside the class, as in RE2).
func usernameRunes(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !unicode.In(r, unicode.L, unicode.M, unicode.N) && r != ' ' && r != '_' && r != '.' && r != '-' {
			return false
		}
	}
	return true
}

func TestUsernameRunesMatchesPattern(t *testing.T) {
	for _, s := range []string{"", "Alice", "Alice Liddell", "Zoë_3.14-x", "名前", "a\u0301", "<script>", "tab\there", "\xff", "a\nb", "😀"} {
		if got, want := usernameRunes(s), patternUsername.MatchString(s); got != want {
			t.Errorf("usernameRunes(%q) = %v, the pattern says %v", s, got, want)
		}
	}
}

// BenchmarkUsernameRunes is the loop of usernameRunes on the same name as
// BenchmarkValidateUsername's pattern check.
func BenchmarkUsernameRunes(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if !usernameRunes("Alice Liddell") {
			b.Fatal("refused")
		}
	}
}

func BenchmarkUsernamePattern(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if !patternUsername.MatchString("Alice Liddell") {
			b.Fatal("refused")
		}
	}
}
