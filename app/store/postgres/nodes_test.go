package postgres

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/karl-app/karl/app/store"
	"github.com/karl-app/karl/internal/testdb"
)

// TestDeleteExpiredFromTwoNodes runs the cleanup job from two stores (two
// pools: two nodes) on one database, over and over, while both nodes keep
// writing: creating sessions that expire before the cleanup time and
// sessions that do not, renaming, revoking. Every expired token must be
// deleted and counted exactly once, every other row kept, and no call may
// fail (a deadlock or serialization error would).
func TestDeleteExpiredFromTwoNodes(t *testing.T) {
	const (
		seeded    = 200 // expired sessions written before the cleanup starts
		writers   = 4   // per node
		perWriter = 40  // writes per writer
		rounds    = 10  // DeleteExpired calls per cleaner, at least: they go on while writers write
	)
	ctx := t.Context()
	url := testdb.NewDatabase(t)
	nodes := []*Store{openTest(t, url), openTest(t, url)}
	t0 := time.UnixMilli(1_900_000_000_000).UTC()
	now := t0.Add(time.Hour) // the cleanup time
	expiredAt := func(i int) time.Time { return t0.Add(time.Duration(i+1) * time.Millisecond) }
	liveUntil := t0.Add(7 * 24 * time.Hour)

	for i := range seeded {
		_, err := nodes[i%2].CreateSession(ctx, "seeded", store.HashToken(fmt.Sprint("seeded", i)), t0, expiredAt(i))
		mustNil(t, err)
	}

	var (
		wg       sync.WaitGroup
		start    = make(chan struct{})
		deleted  atomic.Int64 // tokens counted by the cleaners
		expired  atomic.Int64 // expired sessions created, seeded included
		mu       sync.Mutex
		live     = map[store.TokenHash]string{} // live token -> its session's last username
		revoked  = map[store.TokenHash]bool{}
		failures atomic.Int64
		writing  atomic.Int64 // writers still writing
		writes   atomic.Int64 // writes done, for the log
		calls    atomic.Int64 // DeleteExpired calls, for the log
	)
	expired.Add(seeded)
	fail := func(format string, args ...any) {
		failures.Add(1)
		t.Errorf(format, args...)
	}
	for n, node := range nodes {
		wg.Go(func() { // the node's cleanup job
			<-start
			for r := 0; r < rounds || writing.Load() > 0; r++ {
				calls.Add(1)
				d, err := node.DeleteExpired(ctx, now)
				if err != nil {
					fail("node %d: DeleteExpired: %v", n, err)
					return
				}
				deleted.Add(d)
			}
		})
		for w := range writers {
			writing.Add(1)
			wg.Go(func() {
				defer writing.Add(-1)
				<-start
				for i := range perWriter {
					name := fmt.Sprintf("n%dw%di%d", n, w, i)
					token := store.HashToken(name)
					if i%2 == 0 { // expires before the cleanup time: some cleaner must count it
						if _, err := node.CreateSession(ctx, name, token, t0, expiredAt(i)); err != nil {
							fail("node %d: CreateSession(expired): %v", n, err)
							return
						}
						expired.Add(1)
						writes.Add(1)
						continue
					}
					id, err := node.CreateSession(ctx, name, token, t0, liveUntil)
					if err != nil {
						fail("node %d: CreateSession: %v", n, err)
						return
					}
					err = node.RenameSession(ctx, id, name+"+", t0.Add(time.Minute))
					if err != nil {
						fail("node %d: RenameSession: %v", n, err)
						return
					}
					writes.Add(2)
					mu.Lock()
					live[token] = name + "+"
					mu.Unlock()
					if i%3 == 0 {
						if err := node.RevokeToken(ctx, token, t0.Add(time.Minute)); err != nil {
							fail("node %d: RevokeToken: %v", n, err)
							return
						}
						writes.Add(1)
						mu.Lock()
						revoked[token] = true
						mu.Unlock()
					}
				}
			})
		}
	}
	begin := time.Now()
	close(start)
	wg.Wait()
	if failures.Load() > 0 {
		t.FailNow()
	}
	// Sessions created after the cleaners' last run are still there: one more run takes them.
	last, err := nodes[0].DeleteExpired(ctx, now)
	mustNil(t, err)
	deleted.Add(last)
	t.Logf("2 nodes: %d DeleteExpired calls beside %d writes in %s; the final call found %d more",
		calls.Load(), writes.Load(), time.Since(begin).Round(time.Millisecond), last)

	if got, want := deleted.Load(), expired.Load(); got != want {
		t.Errorf("the cleaners counted %d deleted tokens, want %d (every expired token exactly once)", got, want)
	}
	for token, username := range live {
		sess, _, err := nodes[1].SessionByToken(ctx, token, now)
		switch {
		case revoked[token]:
			if !errors.Is(err, store.ErrRevoked) {
				t.Errorf("revoked live token of %q: %v, want ErrRevoked", username, err)
			}
		case err != nil:
			t.Errorf("live token of %q: %v", username, err)
		case sess.Username != username:
			t.Errorf("live session renamed to %q holds %q", username, sess.Username)
		}
	}
	var sessions, tokens int
	mustNil(t, nodes[0].pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM sessions), (SELECT count(*) FROM tokens)`).Scan(&sessions, &tokens))
	if sessions != len(live) || tokens != len(live) {
		t.Errorf("database holds %d sessions and %d tokens, want the %d live ones", sessions, tokens, len(live))
	}
}

// openPoolTest opens a bare pool on url, without migrations.
func openPoolTest(t *testing.T, url string) *pgxpool.Pool {
	t.Helper()
	pool, err := pgxpool.New(t.Context(), url)
	mustNil(t, err)
	t.Cleanup(pool.Close)
	return pool
}
