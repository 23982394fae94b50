package wire

import (
	"bytes"
	"testing"
)

func TestAppendEmit(t *testing.T) {
	for _, c := range []struct {
		id      int64
		event   string
		payload []byte
		want    string
	}{
		{7, "echo", []byte(`{"m":"x"}`), `427["echo",{"m":"x"}]`},
		{-1, "send-message", []byte(`{}`), `42["send-message",{}]`},
		{0, "logout", nil, `420["logout"]`},
	} {
		if got := string(AppendEmit(nil, c.id, c.event, c.payload)); got != c.want {
			t.Errorf("AppendEmit(%d, %q, %s) = %s, want %s", c.id, c.event, c.payload, got, c.want)
		}
	}
}

func TestParseAckID(t *testing.T) {
	for frame, want := range map[string]uint64{`4312[{"ok":true}]`: 12, `430[]`: 0, `43987654321[]`: 987654321} {
		if got, ok := ParseAckID([]byte(frame)); !ok || got != want {
			t.Errorf("ParseAckID(%s) = %d, %v; want %d", frame, got, ok, want)
		}
	}
	if _, ok := ParseAckID([]byte(`43[]`)); ok {
		t.Error("ParseAckID accepted an ack without an id")
	}
}

func TestEventNameAndStringField(t *testing.T) {
	f := []byte(`42["username-saved",{"token":"abc_-1","username":"Alice","expiresAt":1}]`)
	if got := EventName(f); !bytes.Equal(got, []byte("username-saved")) {
		t.Errorf("EventName = %s", got)
	}
	if got, ok := StringField(f, "token"); !ok || string(got) != "abc_-1" {
		t.Errorf("StringField(token) = %s, %v", got, ok)
	}
	if _, ok := StringField(f, "missing"); ok {
		t.Error("StringField found a missing key")
	}
}

func TestURL(t *testing.T) {
	got, err := URL("http://127.0.0.1:3000")
	if err != nil || got != "ws://127.0.0.1:3000/socket.io/?EIO=4&transport=websocket" {
		t.Errorf("URL = %q, %v", got, err)
	}
}
