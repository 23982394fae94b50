package runtime

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"
)

// IdempotencyStore records the answers of idempotent client events, so that a
// request retried with the same idempotency key is answered as the first time was,
// without running the handler again (the KARL app keeps them in its database, so
// they hold across restarts and nodes; the runtime's default keeps them in memory).
//
// Keys arrive hashed (hex SHA-256), answers sealed with a key derived from the
// idempotency key: a store's rows reveal neither the keys nor what was answered.
type IdempotencyStore interface {
	// Claim takes key for a request whose event and payload hash to fingerprint.
	// It returns ClaimTaken when no live record exists (or a running claim's lease
	// ended): the caller runs the handler and then completes or releases the key.
	// Otherwise it returns what is recorded: ClaimDone with the sealed answer,
	// ClaimRunning while another request holds it, ClaimConflict when the key was
	// used for another request. Records live until now+window.
	Claim(ctx context.Context, key, fingerprint string, now time.Time, lease, window time.Duration) (state ClaimState, answer []byte, err error)
	// Complete stores the sealed answer of a taken key.
	Complete(ctx context.Context, key string, answer []byte) error
	// Release forgets a taken key whose request failed without an answer worth keeping.
	Release(ctx context.Context, key string) error
}

// ClaimState is the outcome of IdempotencyStore.Claim.
type ClaimState int

// The outcomes of a claim.
const (
	ClaimTaken    ClaimState = iota // run the handler
	ClaimDone                       // answered before: replay the answer
	ClaimRunning                    // another request with the key is running
	ClaimConflict                   // the key was used for another event or payload
)

// maxIdempotencyKey bounds the key's length, in bytes.
const maxIdempotencyKey = 128

// readIdempotencyKey reads the idempotencyKey of the request metadata object.
func readIdempotencyKey(v any) (string, error) {
	key, ok := v.(string)
	if !ok || key == "" || len(key) > maxIdempotencyKey {
		return "", invalid("request metadata: idempotencyKey must be a string of 1 to %d bytes", maxIdempotencyKey)
	}
	return key, nil
}

// idemRequest is an idempotent request under way.
type idemRequest struct {
	raw         string // the client's key, which seals the answer
	key         string // its hash, which names the record
	fingerprint string
}

func newIdemRequest(event, key string, payload any) (*idemRequest, error) {
	body, err := json.Marshal(payload) // maps marshal with sorted keys: one text per payload
	if err != nil {
		return nil, err
	}
	h := sha256.Sum256([]byte("karl-idempotency-key\x00" + key))
	fp := sha256.Sum256(append([]byte(event+"\x00"), body...))
	return &idemRequest{raw: key, key: hex.EncodeToString(h[:]), fingerprint: hex.EncodeToString(fp[:])}, nil
}

// recordedAnswer is what a replay sends: the events the handler emitted to its own
// socket, in order, then the answer: the reply's JSON, or the error the client saw.
type recordedAnswer struct {
	Emits []recordedEmit  `json:"emits,omitempty"`
	Data  json.RawMessage `json:"data,omitempty"`
	Error *recordedError  `json:"error,omitempty"`
}

type recordedError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Path    string `json:"path,omitempty"`
}

type recordedEmit struct {
	Event   string          `json:"event"`
	Payload json.RawMessage `json:"payload"`
}

// recorder collects the emits of a handler to its own socket.
type recorder struct {
	mu    sync.Mutex
	emits []recordedEmit
}

func (r *recorder) add(event string, raw json.RawMessage) {
	r.mu.Lock()
	r.emits = append(r.emits, recordedEmit{Event: event, Payload: raw})
	r.mu.Unlock()
}

// seal encrypts an answer with AES-GCM under a key derived from the client's
// idempotency key: whoever reads the store cannot read the answer (a reply may carry
// a reconnect token); whoever presents the key gets it back, as intended.
func (r *idemRequest) seal(a recordedAnswer) ([]byte, error) {
	plain, err := json.Marshal(a)
	if err != nil {
		return nil, err
	}
	gcm, err := r.aead()
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, gcm.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return gcm.Seal(nonce, nonce, plain, []byte(r.key)), nil
}

func (r *idemRequest) open(sealed []byte) (recordedAnswer, error) {
	var a recordedAnswer
	gcm, err := r.aead()
	if err != nil {
		return a, err
	}
	if len(sealed) < gcm.NonceSize() {
		return a, errors.New("sealed answer too short")
	}
	plain, err := gcm.Open(nil, sealed[:gcm.NonceSize()], sealed[gcm.NonceSize():], []byte(r.key))
	if err != nil {
		return a, fmt.Errorf("open answer: %w", err)
	}
	return a, json.Unmarshal(plain, &a)
}

func (r *idemRequest) aead() (cipher.AEAD, error) {
	k, err := hkdf.Key(sha256.New, []byte(r.raw), nil, "karl idempotency answer", 32)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(k)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// memIdempotency is the default IdempotencyStore: in memory, for one node, lost on
// restart. Applications with a database pass their own.
type memIdempotency struct {
	mu    sync.Mutex
	recs  map[string]*memRecord
	swept time.Time // when expired records were last dropped
}

type memRecord struct {
	fingerprint string
	answer      []byte
	leaseUntil  time.Time
	expires     time.Time
}

func newMemIdempotency() *memIdempotency { return &memIdempotency{recs: map[string]*memRecord{}} }

func (m *memIdempotency) Claim(_ context.Context, key, fp string, now time.Time, lease, window time.Duration) (ClaimState, []byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if now.Sub(m.swept) > time.Minute { // drop the expired records now and then, not on every claim
		for k, r := range m.recs {
			if !now.Before(r.expires) {
				delete(m.recs, k)
			}
		}
		m.swept = now
	}
	r := m.recs[key]
	switch {
	case r == nil || !now.Before(r.expires):
	case r.fingerprint != fp:
		return ClaimConflict, nil, nil
	case r.answer != nil:
		return ClaimDone, r.answer, nil
	case now.Before(r.leaseUntil):
		return ClaimRunning, nil, nil
	}
	m.recs[key] = &memRecord{fingerprint: fp, leaseUntil: now.Add(lease), expires: now.Add(window)}
	return ClaimTaken, nil, nil
}

func (m *memIdempotency) Complete(_ context.Context, key string, answer []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if r := m.recs[key]; r != nil {
		r.answer = answer
	}
	return nil
}

func (m *memIdempotency) Release(_ context.Context, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if r := m.recs[key]; r != nil && r.answer == nil {
		delete(m.recs, key)
	}
	return nil
}
