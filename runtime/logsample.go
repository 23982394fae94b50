package runtime

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// logSampler lets one line per key through each interval and counts the
// lines it drops, so that a client repeating a bad request cannot turn the
// server's log into its own output. The count rides on the next line of that
// key ("suppressed").
type logSampler struct {
	every time.Duration
	mu    sync.Mutex
	keys  map[string]*sampled
	swept time.Time
}

type sampled struct {
	last    time.Time
	dropped int
}

func newLogSampler(every time.Duration) *logSampler {
	return &logSampler{every: every, keys: map[string]*sampled{}}
}

// log writes msg at level under key unless a line of that key was written less
// than an interval ago.
func (l *logSampler) log(log *slog.Logger, level slog.Level, key, msg string, args ...any) {
	now := time.Now()
	l.mu.Lock()
	if now.Sub(l.swept) > time.Minute { // forget quiet keys so the map stays small
		for k, v := range l.keys {
			if now.Sub(v.last) > l.every && v.dropped == 0 {
				delete(l.keys, k)
			}
		}
		l.swept = now
	}
	k := l.keys[key]
	if k == nil {
		k = &sampled{}
		l.keys[key] = k
	}
	if !k.last.IsZero() && now.Sub(k.last) < l.every {
		k.dropped++
		l.mu.Unlock()
		return
	}
	dropped := k.dropped
	k.last, k.dropped = now, 0
	l.mu.Unlock()
	if dropped > 0 {
		args = append(args, "suppressed", dropped)
	}
	log.Log(context.Background(), level, msg, args...)
}
