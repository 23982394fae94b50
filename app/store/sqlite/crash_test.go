package sqlite

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"flag"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/karl-app/karl/app/store"
)

var crashIterations = flag.Int("crash.iterations", 25, "how many times TestCrash kills a child process in the middle of its writes")

// The parent tells the child through its environment which file to write and
// where in the write sequence to start.
const (
	crashDBEnv    = "KARL_STORE_CRASH_DB"
	crashStartEnv = "KARL_STORE_CRASH_START"
)

// killsPerFile is how many kills one database file goes through before
// TestCrash starts a new one. Each check reads the whole file, so one file for
// all iterations would make -crash.iterations=1000 quadratic.
const killsPerFile = 25

// TestCrash checks that every write a Store acknowledged survives the process
// being killed. Each iteration starts TestCrashChild, which performs the
// deterministic write sequence of crashOp from where the last child stopped
// and prints "ack <op> <session id>" after each write returned; the parent
// kills it with SIGKILL after a random 5-200ms, reopens the file and checks
// its integrity and that it holds exactly the acknowledged writes, plus at
// most the one write that committed but was killed before it was printed.
// A file goes through up to killsPerFile kills, so children also start from
// a crashed database.
func TestCrash(t *testing.T) {
	iterations := *crashIterations
	if testing.Short() {
		iterations = min(iterations, 5)
	}
	var acknowledged, committed int
	for first := 0; first < iterations; first += killsPerFile {
		path := filepath.Join(t.TempDir(), "karl.db")
		h := crashHistory{sessions: make(map[int]store.Session)}
		for range min(killsPerFile, iterations-first) {
			delay := 5*time.Millisecond + rand.N(196*time.Millisecond)
			acks := runCrashChild(t, path, h.done, delay)
			h.acknowledge(t, acks)
			acknowledged += len(acks)
			h.check(t, path)
			if t.Failed() {
				t.Fatalf("after a kill %s into the child's writes, at write %d", delay, h.done)
			}
		}
		committed += h.done
	}
	t.Logf("%d kills, %d writes acknowledged, %d committed writes found unacknowledged", iterations, acknowledged, committed-acknowledged)
}

// TestCrashChild is the child process of TestCrash; it skips unless started by it.
func TestCrashChild(t *testing.T) {
	path := os.Getenv(crashDBEnv)
	if path == "" {
		t.Skip("the child process of TestCrash")
	}
	start, err := strconv.Atoi(os.Getenv(crashStartEnv))
	mustNil(t, err)
	ctx := t.Context()
	s, err := Open(ctx, path, nil)
	mustNil(t, err)
	fmt.Println("ready")

	// The parent kills us long before this; the limit only keeps an orphan from running forever.
	deadline := time.Now().Add(10 * time.Second)
	ids := make(map[int]store.SessionID)
	for i := start; time.Now().Before(deadline); i++ {
		id, err := crashOp(i).run(ctx, s, ids)
		if err != nil {
			t.Fatalf("write %d: %v", i, err)
		}
		fmt.Printf("ack %d %d\n", i, id) // one write(2) per line: whole lines only
	}
}

// runCrashChild runs TestCrashChild on path from write start, kills it with
// SIGKILL delay after it opened the store and returns its acknowledgements.
func runCrashChild(t *testing.T, path string, start int, delay time.Duration) []crashAck {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashDBEnv+"="+path, crashStartEnv+"="+strconv.Itoa(start))
	stdout, err := cmd.StdoutPipe()
	mustNil(t, err)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	mustNil(t, cmd.Start())

	// Read while the child writes, so it never blocks on a full pipe and
	// the kill lands in the middle of its database work.
	lines := make(chan string, 1024)
	go func() {
		defer close(lines)
		r := bufio.NewReader(stdout)
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return // a partial last line was never acknowledged
			}
			lines <- strings.TrimSuffix(line, "\n")
		}
	}()

	var output []string
	for line := range lines {
		output = append(output, line)
		if line == "ready" {
			break
		}
	}
	time.Sleep(delay)
	_ = cmd.Process.Kill() // fails only if the child already exited, which Wait reports below
	for line := range lines {
		output = append(output, line)
	}
	err = cmd.Wait()
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("child did not die by SIGKILL (%v); output:\n%s\n%s", err, strings.Join(output, "\n"), stderr.String())
	}
	return parseAcks(t, output)
}

// crashAck is a write the child acknowledged: op i, on session id.
type crashAck struct {
	op int
	id store.SessionID
}

func parseAcks(t *testing.T, output []string) []crashAck {
	t.Helper()
	var acks []crashAck
	for _, line := range output {
		var a crashAck
		if _, err := fmt.Sscanf(line, "ack %d %d", &a.op, &a.id); err == nil {
			acks = append(acks, a)
		}
	}
	return acks
}

// crashBase is the clock of the write sequence: op i happens at crashBase + i ms.
var crashBase = time.UnixMilli(2_000_000_000_000).UTC()

// crashOp is write number i of the sequence the child performs. Writes come in
// threes per session k = i/3: create session k, rename it, set its photo.
type crashOp int

func (op crashOp) session() int  { return int(op) / 3 }
func (op crashOp) at() time.Time { return crashBase.Add(time.Duration(op) * time.Millisecond) }

func (op crashOp) run(ctx context.Context, s *Store, ids map[int]store.SessionID) (store.SessionID, error) {
	k := op.session()
	if op%3 == 0 {
		id, err := s.CreateSession(ctx, crashName(k), crashToken(k), op.at(), crashExpiry(k))
		ids[k] = id
		return id, err
	}
	id, ok := ids[k]
	if !ok { // created by an earlier child
		sess, _, err := s.SessionByToken(ctx, crashToken(k), crashBase)
		if err != nil {
			return 0, err
		}
		id, ids[k] = sess.ID, sess.ID
	}
	if op%3 == 1 {
		return id, s.RenameSession(ctx, id, crashRename(k), op.at())
	}
	return id, s.SetProfileImage(ctx, id, "image/png", crashImage(k), op.at())
}

// apply returns sess after op, which gives it id when it creates it.
func (op crashOp) apply(sess store.Session, id store.SessionID) store.Session {
	k := op.session()
	switch op % 3 {
	case 0:
		return store.Session{ID: id, Username: crashName(k), CreatedAt: op.at(), UpdatedAt: op.at()}
	case 1:
		sess.Username = crashRename(k)
	case 2:
		sess.ImageMIME, sess.Image = "image/png", crashImage(k)
	}
	sess.UpdatedAt = op.at()
	return sess
}

func crashToken(k int) store.TokenHash { return store.HashToken("crash-token-" + strconv.Itoa(k)) }
func crashExpiry(k int) time.Time      { return crashOp(3 * k).at().Add(7 * 24 * time.Hour) }
func crashName(k int) string           { return fmt.Sprintf("user %d ✓", k) }
func crashRename(k int) string {
	return fmt.Sprintf("renamed %d 🚀 %s", k, strings.Repeat("x", k%300))
}

// crashImage returns session k's photo: 1 byte to 8 KB, so some span several pages.
func crashImage(k int) []byte {
	r := rand.New(rand.NewPCG(uint64(k), 1))
	b := make([]byte, 1+(k*7919)%8192)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// crashHistory is what the database must hold: the first done writes.
type crashHistory struct {
	done     int
	sessions map[int]store.Session // by session number k
}

// acknowledge applies a child's acknowledged writes, which must continue the history.
func (h *crashHistory) acknowledge(t *testing.T, acks []crashAck) {
	t.Helper()
	for _, a := range acks {
		op := crashOp(a.op)
		k := op.session()
		if a.op != h.done {
			t.Fatalf("child acknowledged write %d, want %d", a.op, h.done)
		}
		if op%3 != 0 && a.id != h.sessions[k].ID {
			t.Fatalf("child acknowledged write %d on session %d, want session %d", a.op, a.id, h.sessions[k].ID)
		}
		h.sessions[k] = op.apply(h.sessions[k], a.id)
		h.done++
	}
}

// check opens the database and compares it to the history. The one write
// after the history may have committed without being acknowledged; if it
// did, check adds it to the history.
func (h *crashHistory) check(t *testing.T, path string) {
	t.Helper()
	s := openTest(t, path)
	defer s.Close()
	checkIntegrity(t, s)
	got := readCrashSessions(t, s, h.done/3+1)

	if diff := diffSessions(h.sessions, got); diff == "" {
		return
	}
	next := crashOp(h.done)
	k := next.session()
	withNext := maps.Clone(h.sessions)
	withNext[k] = next.apply(h.sessions[k], got[k].ID)
	if diff := diffSessions(withNext, got); diff != "" {
		t.Errorf("database after kill does not hold the %d acknowledged writes (-want +got):\n%s", h.done, diffSessions(h.sessions, got))
		return
	}
	h.sessions = withNext
	h.done++
}

func checkIntegrity(t *testing.T, s *Store) {
	t.Helper()
	var result string
	mustNil(t, s.read.QueryRowContext(t.Context(), `PRAGMA integrity_check`).Scan(&result))
	if result != "ok" {
		t.Fatalf("PRAGMA integrity_check = %q, want \"ok\"", result)
	}
}

// readCrashSessions loads sessions 0 to last through their tokens, and fails
// if the database holds any other session or token.
func readCrashSessions(t *testing.T, s *Store, last int) map[int]store.Session {
	t.Helper()
	got := make(map[int]store.Session)
	for k := 0; k <= last; k++ {
		sess, _, err := s.SessionByToken(t.Context(), crashToken(k), crashBase)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		mustNil(t, err)
		got[k] = sess
	}
	var sessions, tokens int
	mustNil(t, s.read.QueryRowContext(t.Context(),
		`SELECT (SELECT count(*) FROM sessions), (SELECT count(*) FROM tokens)`).Scan(&sessions, &tokens))
	if sessions != len(got) || tokens != len(got) {
		t.Errorf("database holds %d sessions and %d tokens, want %d of each", sessions, tokens, len(got))
	}
	return got
}

// diffSessions compares images by length and hash: cmp walks a []byte one
// reflected element at a time, too slow for thousands of photos.
func diffSessions(want, got map[int]store.Session) string {
	return cmp.Diff(want, got, cmp.Transformer("summary", func(b []byte) string {
		if b == nil {
			return "nil"
		}
		return fmt.Sprintf("%d bytes, sha256 %x", len(b), sha256.Sum256(b))
	}))
}
