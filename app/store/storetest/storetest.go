// Package storetest is the conformance suite every store.Store implementation
// must pass. An implementation's own test calls Run:
//
//	func TestStore(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) store.Store {
//			s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "karl.db"), nil)
//			if err != nil {
//				t.Fatal(err)
//			}
//			t.Cleanup(func() { s.Close() })
//			return s
//		})
//	}
package storetest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/karl-app/karl/app/store"
	"github.com/karl-app/karl/runtime"
)

// Run runs the suite as subtests of t. open is called once per subtest and
// must return an empty store, closing it when the subtest ends (t.Cleanup).
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		test func(*testing.T, store.Store)
	}{
		{"CreateAndLoad", testCreateAndLoad},
		{"TimesAreUTCMilliseconds", testTimesAreUTCMilliseconds},
		{"CreateRejectsExpiryNotAfterIssue", testCreateRejectsExpiryNotAfterIssue},
		{"CreateRejectsDuplicateToken", testCreateRejectsDuplicateToken},
		{"SessionNotFound", testSessionNotFound},
		{"TokenNotFound", testTokenNotFound},
		{"TokenExpiresAtExpiresAt", testTokenExpiresAtExpiresAt},
		{"RevokeToken", testRevokeToken},
		{"RevokeUnknownToken", testRevokeUnknownToken},
		{"RenameKeepsToken", testRenameKeepsToken},
		{"RenameNotFound", testRenameNotFound},
		{"SetProfileImageReplaces", testSetProfileImageReplaces},
		{"SetProfileImageRemoves", testSetProfileImageRemoves},
		{"SetProfileImageNotFound", testSetProfileImageNotFound},
		{"SetProfileImageRejectsHalfAPhoto", testSetProfileImageRejectsHalfAPhoto},
		{"UnicodeUsernamesRoundTrip", testUnicodeUsernamesRoundTrip},
		{"BinaryImagesRoundTrip", testBinaryImagesRoundTrip},
		{"DeleteExpired", testDeleteExpired},
		{"DeleteExpiredConcurrently", testDeleteExpiredConcurrently},
		{"CanceledContext", testCanceledContext},
		{"Ping", testPing},
		{"IdempotencyClaim", testIdempotencyClaim},
		{"IdempotencyClaimConcurrently", testIdempotencyClaimConcurrently},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.test(t, open(t)) })
	}
}

// t0 is the suite's clock, on a millisecond so the stores return it unchanged.
var t0 = time.Date(2031, time.March, 14, 15, 9, 26, 535_000_000, time.UTC)

// tokenLife is the app's reconnect token lifetime.
const tokenLife = 7 * 24 * time.Hour

// created is a session the suite saved, with what it expects back.
type created struct {
	token   store.TokenHash
	expires time.Time
	want    store.Session
}

// create saves a session named username issued at t0 with a fresh token.
func create(t *testing.T, s store.Store, username string) created {
	t.Helper()
	return createExpiring(t, s, username, t0.Add(tokenLife))
}

// createExpiring saves a session named username issued at t0 whose token expires at expires.
func createExpiring(t *testing.T, s store.Store, username string, expires time.Time) created {
	t.Helper()
	token := newTokenHash(t)
	id, err := s.CreateSession(t.Context(), username, token, t0, expires)
	if err != nil {
		t.Fatalf("CreateSession(%q): %v", username, err)
	}
	return created{
		token:   token,
		expires: expires,
		want:    store.Session{ID: id, Username: username, CreatedAt: t0, UpdatedAt: t0},
	}
}

func newTokenHash(t *testing.T) store.TokenHash {
	t.Helper()
	token, err := store.NewToken()
	if err != nil {
		t.Fatal(err)
	}
	return store.HashToken(token)
}

// wantSession checks that Session(id) returns want.
func wantSession(t *testing.T, s store.Store, want store.Session) {
	t.Helper()
	got, err := s.Session(t.Context(), want.ID)
	if err != nil {
		t.Fatalf("Session(%d): %v", want.ID, err)
	}
	if diff := cmp.Diff(want, got, summarizeBytes); diff != "" {
		t.Errorf("Session(%d) mismatch (-want +got):\n%s", want.ID, diff)
	}
}

// wantToken checks that SessionByToken(c.token, now) returns c.want and c.expires.
func wantToken(t *testing.T, s store.Store, c created, now time.Time) {
	t.Helper()
	got, expires, err := s.SessionByToken(t.Context(), c.token, now)
	if err != nil {
		t.Fatalf("SessionByToken(session %d, now %s): %v", c.want.ID, now, err)
	}
	if diff := cmp.Diff(c.want, got, summarizeBytes); diff != "" {
		t.Errorf("SessionByToken(session %d) mismatch (-want +got):\n%s", c.want.ID, diff)
	}
	if !expires.Equal(c.expires) {
		t.Errorf("SessionByToken(session %d) expiry = %s, want %s", c.want.ID, expires, c.expires)
	}
}

// wantTokenErr checks that SessionByToken(token, now) fails with target and returns zero values.
func wantTokenErr(t *testing.T, s store.Store, token store.TokenHash, now time.Time, target error) {
	t.Helper()
	sess, expires, err := s.SessionByToken(t.Context(), token, now)
	wantErr(t, "SessionByToken", err, target)
	if diff := cmp.Diff(store.Session{}, sess, summarizeBytes); diff != "" || !expires.IsZero() {
		t.Errorf("SessionByToken with error %v returned session %+v, expiry %s; want zero values", err, sess, expires)
	}
}

// summarizeBytes makes cmp compare images by a summary: comparing a 1 MiB
// slice byte by byte through reflection takes seconds, and printing it is useless.
var summarizeBytes = cmp.Transformer("summary", func(b []byte) bytesSummary {
	return bytesSummary{Nil: b == nil, Len: len(b), SHA256: fmt.Sprintf("%x", sha256.Sum256(b))}
})

// bytesSummary stands for a []byte in diffs; Nil tells nil from empty.
type bytesSummary struct {
	Nil    bool
	Len    int
	SHA256 string
}

// wantErr checks that err wraps target.
func wantErr(t *testing.T, call string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Errorf("%s: error = %v, want %v", call, err, target)
	}
}

func testCreateAndLoad(t *testing.T, s store.Store) {
	alice := create(t, s, "alice")
	bob := create(t, s, "bob")
	if alice.want.ID == bob.want.ID {
		t.Fatalf("two sessions got the same id %d", alice.want.ID)
	}
	for _, c := range []created{alice, bob} {
		wantSession(t, s, c.want)
		wantToken(t, s, c, t0)
	}
}

func testTimesAreUTCMilliseconds(t *testing.T, s store.Store) {
	paris := time.FixedZone("CET", 3600)
	issued := time.Date(2031, time.March, 14, 16, 9, 26, 535_999_999, paris)
	expires := issued.Add(tokenLife)
	token := newTokenHash(t)
	id, err := s.CreateSession(t.Context(), "alice", token, issued, expires)
	if err != nil {
		t.Fatal(err)
	}
	got, gotExpires, err := s.SessionByToken(t.Context(), token, issued)
	if err != nil {
		t.Fatal(err)
	}
	wantIssued := time.UnixMilli(issued.UnixMilli()).UTC()
	for _, tc := range []struct {
		name      string
		got, want time.Time
	}{
		{"CreatedAt", got.CreatedAt, wantIssued},
		{"UpdatedAt", got.UpdatedAt, wantIssued},
		{"expiresAt", gotExpires, wantIssued.Add(tokenLife)},
	} {
		if !tc.got.Equal(tc.want) || tc.got.Location() != time.UTC {
			t.Errorf("session %d: %s = %s, want %s (UTC, truncated to the millisecond)", id, tc.name, tc.got, tc.want)
		}
	}
}

func testCreateRejectsExpiryNotAfterIssue(t *testing.T, s store.Store) {
	for _, expires := range []time.Time{t0, t0.Add(-time.Hour)} {
		token := newTokenHash(t)
		if _, err := s.CreateSession(t.Context(), "alice", token, t0, expires); err == nil {
			t.Errorf("CreateSession(issued %s, expires %s) succeeded, want an error", t0, expires)
		}
		wantTokenErr(t, s, token, t0, store.ErrNotFound)
	}
}

func testCreateRejectsDuplicateToken(t *testing.T, s store.Store) {
	alice := create(t, s, "alice")
	_, err := s.CreateSession(t.Context(), "mallory", alice.token, t0, t0.Add(tokenLife))
	if err == nil {
		t.Fatal("CreateSession with a token already in use succeeded, want an error")
	}
	wantToken(t, s, alice, t0)
}

func testSessionNotFound(t *testing.T, s store.Store) {
	_, err := s.Session(t.Context(), 1)
	wantErr(t, "Session(1) on an empty store", err, store.ErrNotFound)

	alice := create(t, s, "alice")
	_, err = s.Session(t.Context(), alice.want.ID+1000)
	wantErr(t, "Session(unknown id)", err, store.ErrNotFound)
}

func testTokenNotFound(t *testing.T, s store.Store) {
	create(t, s, "alice")
	wantTokenErr(t, s, newTokenHash(t), t0, store.ErrNotFound)
}

func testTokenExpiresAtExpiresAt(t *testing.T, s store.Store) {
	alice := create(t, s, "alice")
	wantToken(t, s, alice, alice.expires.Add(-time.Millisecond))
	wantTokenErr(t, s, alice.token, alice.expires, store.ErrExpired)
	wantTokenErr(t, s, alice.token, alice.expires.Add(time.Millisecond), store.ErrExpired)
	wantTokenErr(t, s, alice.token, alice.expires.Add(365*24*time.Hour), store.ErrExpired)
	// Expiry refuses the token without deleting anything.
	wantSession(t, s, alice.want)
	wantToken(t, s, alice, t0)
}

func testRevokeToken(t *testing.T, s store.Store) {
	alice := create(t, s, "alice")
	bob := create(t, s, "bob")
	if err := s.RevokeToken(t.Context(), alice.token, t0.Add(time.Minute)); err != nil {
		t.Fatalf("RevokeToken: %v", err)
	}
	wantTokenErr(t, s, alice.token, t0.Add(time.Hour), store.ErrRevoked)
	wantTokenErr(t, s, alice.token, alice.expires, store.ErrRevoked) // revoked wins over expired
	wantSession(t, s, alice.want)                                    // the session itself stays
	wantToken(t, s, bob, t0.Add(time.Hour))

	if err := s.RevokeToken(t.Context(), alice.token, t0.Add(2*time.Minute)); err != nil {
		t.Errorf("RevokeToken a second time: %v, want nil", err)
	}
	wantTokenErr(t, s, alice.token, t0.Add(time.Hour), store.ErrRevoked)
}

func testRevokeUnknownToken(t *testing.T, s store.Store) {
	create(t, s, "alice")
	err := s.RevokeToken(t.Context(), newTokenHash(t), t0)
	wantErr(t, "RevokeToken(unknown)", err, store.ErrNotFound)
}

func testRenameKeepsToken(t *testing.T, s store.Store) {
	alice := create(t, s, "alice")
	bob := create(t, s, "bob")
	renamed := t0.Add(time.Hour)
	if err := s.RenameSession(t.Context(), alice.want.ID, "alicia", renamed); err != nil {
		t.Fatalf("RenameSession: %v", err)
	}
	alice.want.Username = "alicia"
	alice.want.UpdatedAt = renamed
	wantSession(t, s, alice.want)
	wantToken(t, s, alice, renamed)
	wantToken(t, s, bob, renamed)
}

func testRenameNotFound(t *testing.T, s store.Store) {
	alice := create(t, s, "alice")
	err := s.RenameSession(t.Context(), alice.want.ID+1000, "bob", t0)
	wantErr(t, "RenameSession(unknown id)", err, store.ErrNotFound)
	wantSession(t, s, alice.want)
}

func testSetProfileImageReplaces(t *testing.T, s store.Store) {
	alice := create(t, s, "alice")
	bob := create(t, s, "bob")
	png := randomBytes(5000, 1)
	jpeg := randomBytes(300, 2) // shorter, so a partial overwrite would show
	for i, photo := range []struct {
		mime string
		data []byte
	}{{"image/png", png}, {"image/jpeg", jpeg}} {
		now := t0.Add(time.Duration(i+1) * time.Hour)
		if err := s.SetProfileImage(t.Context(), alice.want.ID, photo.mime, photo.data, now); err != nil {
			t.Fatalf("SetProfileImage(%s): %v", photo.mime, err)
		}
		alice.want.ImageMIME, alice.want.Image, alice.want.UpdatedAt = photo.mime, photo.data, now
		wantSession(t, s, alice.want)
		wantToken(t, s, alice, now)
	}
	wantSession(t, s, bob.want)
}

func testSetProfileImageRemoves(t *testing.T, s store.Store) {
	alice := create(t, s, "alice")
	if err := s.SetProfileImage(t.Context(), alice.want.ID, "image/png", randomBytes(100, 1), t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := s.SetProfileImage(t.Context(), alice.want.ID, "", nil, t0.Add(2*time.Hour)); err != nil {
		t.Fatalf("SetProfileImage(\"\", nil): %v", err)
	}
	alice.want.UpdatedAt = t0.Add(2 * time.Hour)
	wantSession(t, s, alice.want) // ImageMIME "" and Image nil, not empty
}

func testSetProfileImageNotFound(t *testing.T, s store.Store) {
	alice := create(t, s, "alice")
	err := s.SetProfileImage(t.Context(), alice.want.ID+1000, "image/png", []byte{1}, t0)
	wantErr(t, "SetProfileImage(unknown id)", err, store.ErrNotFound)
	wantSession(t, s, alice.want)
}

func testSetProfileImageRejectsHalfAPhoto(t *testing.T, s store.Store) {
	alice := create(t, s, "alice")
	for _, tc := range []struct {
		mime string
		data []byte
	}{{"image/png", nil}, {"image/png", []byte{}}, {"", []byte{1, 2, 3}}} {
		if err := s.SetProfileImage(t.Context(), alice.want.ID, tc.mime, tc.data, t0.Add(time.Hour)); err == nil {
			t.Errorf("SetProfileImage(%q, %d bytes) succeeded, want an error", tc.mime, len(tc.data))
		}
	}
	wantSession(t, s, alice.want)
}

func testUnicodeUsernamesRoundTrip(t *testing.T, s store.Store) {
	names := []string{
		"Zoë Ångström",
		"日本語のユーザー名",
		"👩🏽‍🚀🚀",         // ZWJ sequence and skin tone modifier
		"مرحبا بالعالم", // right to left
		"e\u0301 vs é",  // combining accent vs precomposed: must not be normalised
		"tab\there\nnewline",
		"'; DROP TABLE sessions; --",
		"𝔘𝔫𝔦𝔠𝔬𝔡𝔢 outside the BMP",
		strings.Repeat("ß", 2000),
	}
	for _, name := range names {
		c := create(t, s, name)
		wantSession(t, s, c.want)
		wantToken(t, s, c, t0)
	}
}

func testBinaryImagesRoundTrip(t *testing.T, s store.Store) {
	every := make([]byte, 256*4)
	for i := range every {
		every[i] = byte(i)
	}
	images := map[string][]byte{
		"every byte value": every,
		"one zero byte":    {0},
		"zeros then data":  append(make([]byte, 100), 0xff, 0xd8, 0xff, 0xe0),
		"1 MiB random":     randomBytes(1<<20, 3),
	}
	for name, data := range images {
		c := create(t, s, name)
		if err := s.SetProfileImage(t.Context(), c.want.ID, "image/webp", data, t0); err != nil {
			t.Fatalf("SetProfileImage(%s): %v", name, err)
		}
		c.want.ImageMIME, c.want.Image = "image/webp", bytes.Clone(data)
		wantSession(t, s, c.want)
		wantToken(t, s, c, t0)
	}
}

func testDeleteExpired(t *testing.T, s store.Store) {
	early := createExpiring(t, s, "early", t0.Add(time.Minute))
	onTime := createExpiring(t, s, "on time", t0.Add(time.Hour)) // expires exactly at the cleanup time
	live := createExpiring(t, s, "live", t0.Add(time.Hour+time.Millisecond))
	revoked := createExpiring(t, s, "revoked", t0.Add(2*time.Hour))
	if err := s.RevokeToken(t.Context(), revoked.token, t0); err != nil {
		t.Fatal(err)
	}

	wantDeleted(t, s, t0.Add(time.Hour), 2)
	for _, gone := range []created{early, onTime} {
		_, err := s.Session(t.Context(), gone.want.ID)
		wantErr(t, "Session(session whose only token expired)", err, store.ErrNotFound)
		wantTokenErr(t, s, gone.token, t0, store.ErrNotFound)
	}
	wantToken(t, s, live, t0.Add(time.Hour))
	wantSession(t, s, revoked.want)
	wantTokenErr(t, s, revoked.token, t0, store.ErrRevoked) // revoked tokens stay until they expire

	wantDeleted(t, s, t0.Add(time.Hour), 0) // nothing counted twice
	wantDeleted(t, s, t0.Add(3*time.Hour), 2)
	for _, gone := range []created{live, revoked} {
		_, err := s.Session(t.Context(), gone.want.ID)
		wantErr(t, "Session(session whose only token expired)", err, store.ErrNotFound)
	}
}

// wantDeleted checks that DeleteExpired(now) removes want tokens.
func wantDeleted(t *testing.T, s store.Store, now time.Time, want int64) {
	t.Helper()
	got, err := s.DeleteExpired(t.Context(), now)
	if err != nil {
		t.Fatalf("DeleteExpired(%s): %v", now, err)
	}
	if got != want {
		t.Errorf("DeleteExpired(%s) = %d, want %d", now, got, want)
	}
}

func testDeleteExpiredConcurrently(t *testing.T, s store.Store) {
	const expired, live, workers, rounds = 30, 10, 8, 3
	var sessions []created
	for i := range expired + live {
		expires := t0.Add(time.Duration(i+1) * time.Millisecond)
		if i >= expired {
			expires = t0.Add(tokenLife)
		}
		sessions = append(sessions, createExpiring(t, s, "user", expires))
	}

	total := deleteConcurrently(t, s, t0.Add(time.Hour), workers, rounds)
	if total != expired {
		t.Errorf("%d concurrent DeleteExpired calls removed %d tokens in total, want %d", workers*rounds, total, expired)
	}
	for _, c := range sessions[:expired] {
		_, err := s.Session(t.Context(), c.want.ID)
		wantErr(t, "Session(expired)", err, store.ErrNotFound)
	}
	for _, c := range sessions[expired:] {
		wantToken(t, s, c, t0.Add(time.Hour))
	}
}

// deleteConcurrently starts workers goroutines that each call DeleteExpired(now)
// rounds times, all released at once, and returns the sum of their counts.
func deleteConcurrently(t *testing.T, s store.Store, now time.Time, workers, rounds int) int64 {
	var (
		start = make(chan struct{})
		wg    sync.WaitGroup
		mu    sync.Mutex
		total int64
	)
	for range workers {
		wg.Go(func() {
			<-start
			for range rounds {
				n, err := s.DeleteExpired(t.Context(), now)
				if err != nil {
					t.Errorf("concurrent DeleteExpired: %v", err)
					return
				}
				mu.Lock()
				total += n
				mu.Unlock()
			}
		})
	}
	close(start)
	wg.Wait()
	return total
}

func testCanceledContext(t *testing.T, s store.Store) {
	alice := create(t, s, "alice")
	expiring := createExpiring(t, s, "expiring", t0.Add(time.Minute))
	ctx, cancel := context.WithCancel(t.Context())
	cancel()

	newToken := newTokenHash(t)
	calls := map[string]func() error{
		"CreateSession": func() error {
			_, err := s.CreateSession(ctx, "bob", newToken, t0, t0.Add(tokenLife))
			return err
		},
		"RenameSession": func() error { return s.RenameSession(ctx, alice.want.ID, "alicia", t0.Add(time.Hour)) },
		"SetProfileImage": func() error {
			return s.SetProfileImage(ctx, alice.want.ID, "image/png", []byte{1}, t0.Add(time.Hour))
		},
		"Session": func() error { _, err := s.Session(ctx, alice.want.ID); return err },
		"SessionByToken": func() error {
			_, _, err := s.SessionByToken(ctx, alice.token, t0)
			return err
		},
		"RevokeToken":   func() error { return s.RevokeToken(ctx, alice.token, t0) },
		"DeleteExpired": func() error { _, err := s.DeleteExpired(ctx, t0.Add(time.Hour)); return err },
		"Ping":          func() error { return s.Ping(ctx) },
	}
	for name, call := range calls {
		wantErr(t, name+" with a canceled context", call(), context.Canceled)
	}

	// None of the canceled writes happened.
	wantTokenErr(t, s, newToken, t0, store.ErrNotFound)
	wantSession(t, s, alice.want)
	wantToken(t, s, alice, t0)
	wantToken(t, s, expiring, t0)
}

func testPing(t *testing.T, s store.Store) {
	if err := s.Ping(t.Context()); err != nil {
		t.Errorf("Ping: %v", err)
	}
}

// randomBytes returns n reproducible pseudo-random bytes.
func randomBytes(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, seed))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func claim(t *testing.T, s store.Store, key, fp string, now time.Time) (runtime.ClaimState, []byte) {
	t.Helper()
	state, answer, err := s.Claim(context.Background(), key, fp, now, 10*time.Second, time.Hour)
	if err != nil {
		t.Fatalf("Claim(%s): %v", key, err)
	}
	return state, answer
}

// testIdempotencyClaim walks a key through its life: taken, running, done with its
// answer, conflicting with another fingerprint, taken again after its lease (a
// crashed request) or its window, released, and deleted once expired.
func testIdempotencyClaim(t *testing.T, s store.Store) {
	ctx := context.Background()
	now := time.UnixMilli(1_700_000_000_000).UTC()
	if st, _ := claim(t, s, "k1", "fp", now); st != runtime.ClaimTaken {
		t.Fatalf("new key: %v, want taken", st)
	}
	if st, _ := claim(t, s, "k1", "fp", now.Add(time.Second)); st != runtime.ClaimRunning {
		t.Errorf("while running: %v, want running", st)
	}
	if st, _ := claim(t, s, "k1", "other", now.Add(time.Second)); st != runtime.ClaimConflict {
		t.Errorf("another fingerprint: %v, want conflict", st)
	}
	if err := s.Complete(ctx, "k1", []byte{0, 1, 2}); err != nil {
		t.Fatal(err)
	}
	if st, answer := claim(t, s, "k1", "fp", now.Add(2*time.Second)); st != runtime.ClaimDone || !bytes.Equal(answer, []byte{0, 1, 2}) {
		t.Errorf("after Complete: %v %v, want done with the answer", st, answer)
	}
	if st, _ := claim(t, s, "k1", "fp", now.Add(2*time.Hour)); st != runtime.ClaimTaken {
		t.Errorf("after the window: %v, want taken afresh", st)
	}

	claim(t, s, "k2", "fp", now)
	if st, _ := claim(t, s, "k2", "fp", now.Add(11*time.Second)); st != runtime.ClaimTaken {
		t.Errorf("after the lease of a claim never completed: %v, want taken", st)
	}
	if err := s.Release(ctx, "k2"); err != nil {
		t.Fatal(err)
	}
	if st, _ := claim(t, s, "k2", "other", now.Add(12*time.Second)); st != runtime.ClaimTaken {
		t.Errorf("after Release: %v, want taken (even with another fingerprint)", st)
	}
	n, err := s.DeleteExpiredIdempotency(ctx, now.Add(3*time.Hour))
	if err != nil || n != 2 {
		t.Errorf("DeleteExpiredIdempotency = %d, %v; want 2", n, err)
	}
}

// testIdempotencyClaimConcurrently: of many requests claiming one key at once,
// exactly one takes it.
func testIdempotencyClaimConcurrently(t *testing.T, s store.Store) {
	now := time.UnixMilli(1_700_000_000_000).UTC()
	var wg sync.WaitGroup
	var mu sync.Mutex
	taken := 0
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			state, _, err := s.Claim(context.Background(), "race", "fp", now, time.Minute, time.Hour)
			if err != nil {
				t.Error(err)
				return
			}
			if state == runtime.ClaimTaken {
				mu.Lock()
				taken++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if taken != 1 {
		t.Errorf("%d requests took the key, want 1", taken)
	}
}
