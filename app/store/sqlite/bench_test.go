package sqlite

import (
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/karl-app/karl/app/store"
)

// Each CreateSession commits with an fsync (synchronous=FULL), so its time is
// mostly the disk's; run on the storage the app will use.
func BenchmarkCreateSession(b *testing.B) {
	s := openTest(b, filepath.Join(b.TempDir(), "karl.db"))
	now := time.UnixMilli(1_900_000_000_000)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		token := store.HashToken(strconv.Itoa(i))
		if _, err := s.CreateSession(b.Context(), "user", token, now, now.Add(time.Hour)); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkSessionByToken resolves tokens among 1000 sessions with 4 KB photos,
// what a reconnect does.
func BenchmarkSessionByToken(b *testing.B) {
	const sessions = 1000
	s := openTest(b, filepath.Join(b.TempDir(), "karl.db"))
	now := time.UnixMilli(1_900_000_000_000)
	photo := make([]byte, 4096)
	for i := range sessions {
		token := store.HashToken(strconv.Itoa(i))
		id, err := s.CreateSession(b.Context(), "user", token, now, now.Add(time.Hour))
		mustNil(b, err)
		mustNil(b, s.SetProfileImage(b.Context(), id, "image/png", photo, now))
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, _, err := s.SessionByToken(b.Context(), store.HashToken(strconv.Itoa(i%sessions)), now); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkIdempotencyClaimComplete is what an idempotent request adds to its
// handler's own writes: two write transactions (claim, then the sealed answer),
// each committed with an fsync.
func BenchmarkIdempotencyClaimComplete(b *testing.B) {
	s := openTest(b, filepath.Join(b.TempDir(), "karl.db"))
	now := time.UnixMilli(1_900_000_000_000)
	answer := make([]byte, 200)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		key := strconv.Itoa(i)
		if _, _, err := s.Claim(b.Context(), key, "fp", now, time.Minute, time.Hour); err != nil {
			b.Fatal(err)
		}
		if err := s.Complete(b.Context(), key, answer); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
