package main

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/karl-app/karl/internal/sioclient"
)

func TestFlagsAndEnvironment(t *testing.T) {
	env := map[string]string{"KARL_TOKEN_TTL": "48h", "KARL_ALLOWED_ORIGINS": "https://a.example, https://b.example", "KARL_ADDR": ":4000"}
	f, err := parseFlags([]string{"--addr", ":5000", "--event-rate", "3"}, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if f.addr != ":5000" {
		t.Errorf("the command line must win over KARL_ADDR: addr = %q", f.addr)
	}
	if f.cfg.TokenTTL != 48*time.Hour {
		t.Errorf("KARL_TOKEN_TTL: ttl = %v", f.cfg.TokenTTL)
	}
	if got := strings.Join(f.cfg.AllowedOrigins, "|"); got != "https://a.example|https://b.example" {
		t.Errorf("origins = %q", got)
	}
	if f.cfg.EventLimit.Rate != 3 || f.cfg.DB != "karl.db" || f.cfg.MaxImageBytes != 256<<10 {
		t.Errorf("config = %+v", f.cfg)
	}
	if _, err := parseFlags(nil, func(k string) string {
		return map[string]string{"KARL_TOKEN_TTL": "a week"}[k]
	}); err == nil || !strings.Contains(err.Error(), "KARL_TOKEN_TTL") {
		t.Errorf("bad environment value: err = %v", err)
	}
	if _, err := parseFlags([]string{"--tls-cert", "c.pem"}, func(string) string { return "" }); err == nil {
		t.Error("--tls-cert without --tls-key accepted")
	}
}

// TestSIGTERMShutsDownGracefully runs the real binary: it must answer, then on
// SIGTERM stop, exit 0 and leave a database the next start opens.
func TestSIGTERMShutsDownGracefully(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "karl-server")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	db := filepath.Join(dir, "karl.db")
	for round := range 2 {
		addr := freeAddr(t)
		cmd := exec.Command(bin, "--addr", addr, "--db", db)
		stderr, _ := cmd.StderrPipe()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		lines := make(chan string, 100)
		go func() {
			sc := bufio.NewScanner(stderr)
			for sc.Scan() {
				lines <- sc.Text()
			}
			close(lines)
		}()
		waitHealthy(t, "http://"+addr)
		c, err := sioclient.Dial("http://"+addr, sioclient.Options{})
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		if raw, err := c.EmitAck("set-username", map[string]any{"username": fmt.Sprint("user", round)}, 5*time.Second); err != nil || string(raw) != `{"ok":true}` {
			t.Fatalf("round %d: set-username: %s %v", round, raw, err)
		}
		if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		select {
		case <-c.Closed():
		case <-time.After(10 * time.Second):
			t.Fatal("the socket was not closed on SIGTERM")
		}
		if err := cmd.Wait(); err != nil {
			t.Fatalf("round %d: exit: %v", round, err)
		}
		var log []string
		for l := range lines {
			log = append(log, l)
		}
		if !strings.Contains(strings.Join(log, "\n"), "msg=stopped") {
			t.Errorf("round %d: no 'stopped' in the log:\n%s", round, strings.Join(log, "\n"))
		}
	}
}

func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func waitHealthy(t *testing.T, url string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if res, err := http.Get(url + "/healthz"); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("the server did not become healthy")
}

// TestTLS serves HTTPS and WSS with --tls-cert/--tls-key, as the seed asks for production.
func TestTLS(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "karl-server")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	certFile, keyFile, pool := selfSigned(t, dir)
	addr := freeAddr(t)
	cmd := exec.Command(bin, "--addr", addr, "--db", filepath.Join(dir, "karl.db"), "--tls-cert", certFile, "--tls-key", keyFile)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Signal(syscall.SIGTERM); _ = cmd.Wait() })

	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	deadline := time.Now().Add(20 * time.Second)
	for {
		res, err := client.Get("https://" + addr + "/healthz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no HTTPS health check: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if res, err := http.Get("http://" + addr + "/healthz"); err == nil && res.StatusCode == http.StatusOK {
		t.Error("plain HTTP is served next to TLS")
	}
	c, err := sioclient.Dial("https://"+addr, sioclient.Options{TLS: &tls.Config{RootCAs: pool}})
	if err != nil {
		t.Fatalf("wss: %v", err)
	}
	defer c.Close()
	if raw, err := c.EmitAck("set-username", map[string]any{"username": "Secure"}, 5*time.Second); err != nil || string(raw) != `{"ok":true}` {
		t.Fatalf("set-username over WSS: %s %v", raw, err)
	}
}

// selfSigned writes a certificate for 127.0.0.1 and its key, and returns a pool trusting it.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "karl test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}
