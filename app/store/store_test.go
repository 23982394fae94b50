package store

import (
	"encoding/base64"
	"encoding/hex"
	"testing"
)

func TestNewToken(t *testing.T) {
	seen := make(map[string]bool)
	for range 100 {
		token, err := NewToken()
		if err != nil {
			t.Fatal(err)
		}
		raw, err := base64.RawURLEncoding.DecodeString(token)
		if err != nil {
			t.Fatalf("NewToken() = %q, not raw URL base64: %v", token, err)
		}
		if len(raw) != 32 {
			t.Fatalf("NewToken() = %q, decodes to %d bytes, want 32", token, len(raw))
		}
		if seen[token] {
			t.Fatalf("NewToken() returned %q twice", token)
		}
		seen[token] = true
	}
}

func TestHashToken(t *testing.T) {
	// Known SHA-256 vectors, so a change of hash breaks this test rather
	// than every stored token.
	for token, want := range map[string]string{
		"":    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
		"abc": "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
	} {
		got := HashToken(token)
		if hex.EncodeToString(got[:]) != want {
			t.Errorf("HashToken(%q) = %x, want %s", token, got, want)
		}
	}
}
