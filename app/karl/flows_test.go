package karl_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"image"
	"image/color"
	"image/png"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/karl-app/karl/app/events"
	"github.com/karl-app/karl/app/karl"
	"github.com/karl-app/karl/app/store/sqlite"
	"github.com/karl-app/karl/runtime"
)

// These tests drive the app through the test client generated from karl.yaml
// (events.NewTestServer): typed calls, typed replies and errors, typed server
// events, on the real runtime in memory.

func startTest(t *testing.T) (*events.TestServer, *clock) {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "karl.db"), log)
	if err != nil {
		t.Fatal(err)
	}
	clk := &clock{now: time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)}
	app := karl.New(st, karl.Config{Now: clk.Now}, log)
	ts := events.NewTestServerFunc(runtime.Options{Logger: log,
		EventLimit: runtime.Limit{PerSecond: 1000, Burst: 1000}, HandshakeLimit: runtime.Limit{PerSecond: 1000, Burst: 1000}}, app.Register)
	t.Cleanup(func() {
		_ = ts.Close()
		st.Close()
	})
	return ts, clk
}

func connect(t *testing.T, ts *events.TestServer, token string) *events.TestClient {
	t.Helper()
	auth := events.Auth{}
	if token != "" {
		auth.Token = &token
	}
	c, err := ts.Connect(auth)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Disconnect() })
	return c
}

func encodePNG(t *testing.T, c color.Color) string {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 4, 4))
	for i := range img.Pix {
		img.Pix[i] = 0xff
	}
	img.Set(1, 1, c)
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return "data:image/png;base64," + base64.StdEncoding.EncodeToString(b.Bytes())
}

func TestUsernameFlowWithTheTestClient(t *testing.T) {
	ts, clk := startTest(t)
	ctx := context.Background()
	watcher := connect(t, ts, "")
	alice := connect(t, ts, "")

	if _, err := alice.GetProfile(ctx); !errors.Is(err, events.ErrNoSession) {
		t.Fatalf("get-profile before a username: %v, want no-session", err)
	}
	if err := alice.SetUsername(ctx, events.SetUsername{Username: "  Alice  "}); err != nil {
		t.Fatal(err)
	}
	saved, err := alice.NextUsernameSaved(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if saved.Username != "Alice" || len(saved.Token) != 43 || !saved.ExpiresAt.Equal(clk.Now().Add(karl.DefaultTokenTTL)) {
		t.Errorf("username-saved = %+v", saved)
	}
	if n, err := watcher.NextNewUserConnected(ctx); err != nil || n.Username != "Alice" {
		t.Errorf("new-user-connected to another socket: %+v, %v", n, err)
	}
	var re *runtime.Error
	err = alice.SetUsername(ctx, events.SetUsername{Username: "<script>"})
	if !errors.As(err, &re) || re.Code != runtime.CodeInvalidPayload || re.Path != "username" {
		t.Errorf("a refused username: %v, want invalid-payload at username", err)
	}
	if p, err := alice.GetProfile(ctx); err != nil || p.Username != "Alice" || p.ProfileImage != nil {
		t.Errorf("get-profile = %+v, %v", p, err)
	}
}

func TestPhotoAndTokenFlowWithTheTestClient(t *testing.T) {
	ts, clk := startTest(t)
	ctx := context.Background()
	c := connect(t, ts, "")
	if err := c.UploadProfileImage(ctx, events.UploadProfileImage{ImageBase64: encodePNG(t, color.Black)}); !errors.Is(err, events.ErrNoSession) {
		t.Fatalf("upload before a username: %v, want no-session", err)
	}
	if err := c.SetUsername(ctx, events.SetUsername{Username: "Bob"}); err != nil {
		t.Fatal(err)
	}
	saved, err := c.NextUsernameSaved(ctx)
	if err != nil {
		t.Fatal(err)
	}
	photo := encodePNG(t, color.RGBA{R: 200, A: 255})
	if err := c.UploadProfileImage(ctx, events.UploadProfileImage{ImageBase64: photo}); err != nil {
		t.Fatal(err)
	}
	if err := c.NextProfileImageSaved(ctx); err != nil {
		t.Fatal(err)
	}
	notAnImage := "data:image/png;base64," + base64.StdEncoding.EncodeToString([]byte("GIF89a not a png"))
	if err := c.UploadProfileImage(ctx, events.UploadProfileImage{ImageBase64: notAnImage}); !errors.Is(err, events.ErrInvalidImage) {
		t.Errorf("a refused photo: %v, want invalid-image", err)
	}
	c.Disconnect()

	clk.Set(clk.Now().Add(6 * 24 * time.Hour)) // days later, the token restores both
	back := connect(t, ts, saved.Token)
	r, err := back.NextReconnected(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if r.Username != "Bob" || r.ProfileImage == nil || *r.ProfileImage != photo {
		t.Errorf("reconnected = %v, photo kept: %v", r.Username, r.ProfileImage != nil && *r.ProfileImage == photo)
	}
	if err := back.Logout(ctx); err != nil {
		t.Fatal(err)
	}
	if err := connect(t, ts, saved.Token).NextTokenExpired(ctx); err != nil {
		t.Errorf("a revoked token: %v, want token-expired", err)
	}

	again := connect(t, ts, "")
	if err := again.SetUsername(ctx, events.SetUsername{Username: "Carol"}); err != nil {
		t.Fatal(err)
	}
	carol, err := again.NextUsernameSaved(ctx)
	if err != nil {
		t.Fatal(err)
	}
	clk.Set(clk.Now().Add(karl.DefaultTokenTTL + time.Second))
	if err := connect(t, ts, carol.Token).NextTokenExpired(ctx); err != nil {
		t.Errorf("a token past 7 days: %v, want token-expired", err)
	}
}

// TestRoomNamesAreNormalized: the schema normalizes RoomName to NFC (finding 8 of
// the probe), so a member who joined "café" typed with a combining accent receives
// what is sent to the precomposed "café"; a room name without a visible letter or
// digit is refused.
func TestRoomNamesAreNormalized(t *testing.T) {
	ts, _ := startTest(t)
	ctx := context.Background()
	member, sender := connect(t, ts, ""), connect(t, ts, "")
	for i, c := range []*events.TestClient{member, sender} {
		if err := c.SetUsername(ctx, events.SetUsername{Username: []string{"Ann", "Ben"}[i]}); err != nil {
			t.Fatal(err)
		}
	}
	nfd, nfc := "cafe\u0301", "caf\u00e9"
	if err := member.JoinRoom(ctx, events.JoinRoom{Room: nfd}); err != nil {
		t.Fatal(err)
	}
	if err := sender.JoinRoom(ctx, events.JoinRoom{Room: nfc}); err != nil {
		t.Fatal(err)
	}
	if err := sender.SendMessage(ctx, events.SendMessage{Room: nfc, Text: "bonjour"}); err != nil {
		t.Fatal(err)
	}
	msg, err := member.NextNewMessage(ctx)
	if err != nil || msg.Text != "bonjour" || msg.Room != nfc {
		t.Errorf("the NFD member got %+v, %v; want the message, in room %q", msg, err, nfc)
	}
	var re *runtime.Error
	if err := member.JoinRoom(ctx, events.JoinRoom{Room: "\u3164\u3164"}); !errors.As(err, &re) || re.Code != runtime.CodeInvalidPayload || re.Path != "room" {
		t.Errorf("a room of Hangul fillers: %v, want invalid-payload at room", err)
	}
}
