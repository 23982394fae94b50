package impl

import "testing"

func TestAsNFCString(t *testing.T) {
	nfd, nfc := "cafe\u0301", "caf\u00e9" // "café" with a combining accent, and precomposed
	for _, tc := range []struct {
		read func(any) (string, error)
		in   string
		want string
	}{
		{AsNFCString, nfd, nfc},
		{AsNFCString, nfc, nfc},
		{AsNFCString, " " + nfd + " ", " " + nfc + " "},
		{AsTrimmedNFCString, " " + nfd + "\u3000", nfc},
	} {
		got, err := tc.read(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("read(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	if _, err := AsNFCString(1.0); err == nil {
		t.Error("AsNFCString(1.0): want an error")
	}
}

func TestAsEnum(t *testing.T) {
	type team string
	if got, err := AsEnum[team]("red"); err != nil || got != "red" {
		t.Errorf("AsEnum = %q, %v", got, err)
	}
	if got, err := AsTrimmedEnum[team](" red "); err != nil || got != "red" {
		t.Errorf("AsTrimmedEnum = %q, %v", got, err)
	}
	if _, err := AsEnum[team](true); err == nil {
		t.Error("AsEnum(true): want an error")
	}
	if got := string(AppendEnum(nil, team(`a"b`))); got != `"a\"b"` {
		t.Errorf("AppendEnum = %s", got)
	}
}
