package postgres

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/karl-app/karl/app/store"
	"github.com/karl-app/karl/internal/testdb"
)

// The parent tells TestCrashChild through its environment which database to
// write to and which round it is, so each round writes new sessions.
const (
	crashURLEnv   = "KARL_PG_CRASH_URL"
	crashRoundEnv = "KARL_PG_CRASH_ROUND"
)

// crashWriters is how many goroutines of the child write at once; each can
// have one write committed but not yet acknowledged when the kill lands.
const crashWriters = 4

// TestCrash checks that a write the store acknowledged survives the
// process being killed: a child process (TestCrashChild) creates sessions
// from several goroutines and prints "ack <writer> <n>" after each
// CreateSession returned; the parent kills it with SIGKILL after a random
// 20-200ms, then checks every acknowledged session is in the database, and
// that beyond them each writer has at most its one write in flight.
func TestCrash(t *testing.T) {
	url := testdb.NewDatabase(t)
	openTest(t, url).Close() // migrate once, before the children race to
	acked := map[[2]int]bool{}
	for round := range 3 {
		delay := 20*time.Millisecond + rand.N(180*time.Millisecond)
		for _, a := range runCrashChild(t, url, round, delay) {
			acked[a] = true
		}
	}
	if len(acked) == 0 {
		t.Fatal("the children acknowledged no write")
	}

	s := openTest(t, url)
	for a := range acked {
		if _, _, err := s.SessionByToken(t.Context(), crashToken(a), crashBase); err != nil {
			t.Errorf("acknowledged session %v: %v", a, err)
		}
	}
	var sessions, tokens int
	mustNil(t, s.pool.QueryRow(t.Context(), `SELECT (SELECT count(*) FROM sessions), (SELECT count(*) FROM tokens)`).Scan(&sessions, &tokens))
	if sessions != tokens || sessions < len(acked) || sessions > len(acked)+3*crashWriters {
		t.Errorf("database holds %d sessions and %d tokens for %d acknowledged writes, want as many of each plus at most one per writer and kill", sessions, tokens, len(acked))
	}
	t.Logf("3 kills, %d writes acknowledged, %d committed unacknowledged", len(acked), sessions-len(acked))
}

// TestCrashChild is the child process of TestCrash; it skips unless started by it.
func TestCrashChild(t *testing.T) {
	url := os.Getenv(crashURLEnv)
	if url == "" {
		t.Skip("the child process of TestCrash")
	}
	s, err := Open(t.Context(), url, nil)
	mustNil(t, err)
	fmt.Println("ready")
	// The parent kills us long before this; the limit only keeps an orphan from running forever.
	deadline := time.Now().Add(10 * time.Second)
	var (
		wg  sync.WaitGroup
		out sync.Mutex
	)
	round, err := strconv.Atoi(os.Getenv(crashRoundEnv))
	mustNil(t, err)
	for w := range crashWriters {
		wg.Go(func() {
			for n := 0; time.Now().Before(deadline); n++ {
				key := crashKey(round, w, n)
				_, err := s.CreateSession(t.Context(), "crash", crashToken(key), crashBase, crashBase.Add(time.Hour))
				if err != nil {
					t.Errorf("write %v: %v", key, err)
					return
				}
				out.Lock()
				fmt.Printf("ack %d %d\n", key[0], key[1]) // one write(2) per line: whole lines only
				out.Unlock()
			}
		})
	}
	wg.Wait()
}

var crashBase = time.UnixMilli(2_000_000_000_000).UTC()

// crashKey names write n of writer w in round: each round's writers get their own numbers.
func crashKey(round, w, n int) [2]int {
	return [2]int{round*crashWriters + w, n}
}

func crashToken(key [2]int) store.TokenHash {
	return store.HashToken(fmt.Sprintf("crash-%d-%d", key[0], key[1]))
}

// runCrashChild starts TestCrashChild, kills it delay after it opened the
// store and returns the writes it acknowledged.
func runCrashChild(t *testing.T, url string, round int, delay time.Duration) [][2]int {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashURLEnv+"="+url, crashRoundEnv+"="+strconv.Itoa(round))
	stdout, err := cmd.StdoutPipe()
	mustNil(t, err)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	mustNil(t, cmd.Start())

	lines := make(chan string, 1024)
	go func() { // read while the child writes, so it never blocks on a full pipe
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
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("child did not die by SIGKILL (%v); output:\n%s\n%s", err, strings.Join(output, "\n"), stderr.String())
	}
	var acks [][2]int
	for _, line := range output {
		var a [2]int
		if _, err := fmt.Sscanf(line, "ack %d %d", &a[0], &a[1]); err == nil {
			acks = append(acks, a)
		}
	}
	return acks
}
