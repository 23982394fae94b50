package testdb

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5"
)

// Postgres is a throwaway PostgreSQL server: a cluster in a temporary
// directory, listening on 127.0.0.1 on a random port and on a unix socket in
// that directory, with one superuser, "karl", trusted without a password.
//
// It runs with fsync off: tests kill karl-server, never PostgreSQL or the
// machine, and a commit is still acknowledged only once PostgreSQL made it.
type Postgres struct {
	Port int
	dir  string
	srv  *server
}

// pgUser is the role tests connect as.
const pgUser = "karl"

// StartPostgres creates a cluster with initdb and starts it. PostgreSQL
// refuses to run as root, so as root the server runs as the "postgres" user
// (or "nobody" where there is none), which then owns the directory.
func StartPostgres(ctx context.Context) (*Postgres, error) {
	p, err := startPostgres(ctx)
	if err != nil {
		return nil, fmt.Errorf("start PostgreSQL: %w", err)
	}
	return p, nil
}

func startPostgres(ctx context.Context) (*Postgres, error) {
	bin, err := pgBinDir()
	if err != nil {
		return nil, err
	}
	cred, err := serverCredential()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp(tempRoot(cred), "karl-pg-")
	if err != nil {
		return nil, err
	}
	if cred != nil {
		if err := os.Chown(dir, int(cred.Uid), int(cred.Gid)); err != nil {
			return nil, errors.Join(err, os.RemoveAll(dir))
		}
	}
	p := &Postgres{dir: dir}
	if err := p.initdb(ctx, bin, cred); err != nil {
		return nil, errors.Join(err, os.RemoveAll(dir))
	}
	for range 3 {
		if err = p.start(ctx, bin, cred); !addrInUse(err) {
			break
		}
	}
	if err != nil {
		return nil, errors.Join(err, os.RemoveAll(dir))
	}
	return p, nil
}

// initdb creates the cluster in dir/data.
func (p *Postgres) initdb(ctx context.Context, bin string, cred *syscall.Credential) error {
	cmd := exec.CommandContext(ctx, filepath.Join(bin, "initdb"),
		"--pgdata", filepath.Join(p.dir, "data"), "--username", pgUser, "--auth", "trust",
		"--encoding", "UTF8", "--no-locale", "--no-sync", "--no-instructions")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("initdb: %w\n%s", err, out)
	}
	return nil
}

// start runs the server on a free port and waits until it accepts connections.
func (p *Postgres) start(ctx context.Context, bin string, cred *syscall.Credential) error {
	port, err := freePort()
	if err != nil {
		return err
	}
	cmd := exec.Command(filepath.Join(bin, "postgres"),
		"-D", filepath.Join(p.dir, "data"),
		"-p", strconv.Itoa(port),
		"-k", p.dir, // the unix socket stays in the temporary directory
		"-c", "listen_addresses=127.0.0.1",
		"-c", "fsync=off",
		"-c", "full_page_writes=off",
		"-c", "max_connections=300", // several test processes' pools, two nodes' pools
	)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	// SIGQUIT is PostgreSQL's immediate shutdown: the postmaster stops its backends and exits.
	srv, err := startServer("PostgreSQL", cmd, filepath.Join(p.dir, "postgres.log"), syscall.SIGQUIT)
	if err != nil {
		return err
	}
	p.Port, p.srv = port, srv
	err = srv.waitReady(ctx, func(ctx context.Context) error {
		conn, err := pgx.Connect(ctx, p.URL("postgres"))
		if err != nil {
			return err
		}
		return conn.Close(ctx)
	})
	if err != nil {
		srv.stop(syscall.SIGQUIT)
	}
	return err
}

// URL returns the connection URL of database on this server.
func (p *Postgres) URL(database string) string {
	u := url.URL{
		Scheme:   "postgres",
		User:     url.User(pgUser),
		Host:     "127.0.0.1:" + strconv.Itoa(p.Port),
		Path:     "/" + database,
		RawQuery: "sslmode=disable",
	}
	return u.String()
}

// CreateDatabase creates an empty database and returns its URL.
func (p *Postgres) CreateDatabase(ctx context.Context, name string) (string, error) {
	conn, err := pgx.Connect(ctx, p.URL("postgres"))
	if err != nil {
		return "", fmt.Errorf("create database %q: %w", name, err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		return "", fmt.Errorf("create database %q: %w", name, err)
	}
	return p.URL(name), nil
}

// Stop shuts the server down and deletes its directory.
func (p *Postgres) Stop() error {
	p.srv.stop(syscall.SIGINT) // fast shutdown: disconnects clients, no waiting for them
	return os.RemoveAll(p.dir)
}

// pgBinDir finds initdb and postgres: $KARL_PG_BIN, else Debian's
// /usr/lib/postgresql/<newest version>/bin, else the directory of initdb on PATH.
func pgBinDir() (string, error) {
	if dir := os.Getenv("KARL_PG_BIN"); dir != "" {
		if _, err := os.Stat(filepath.Join(dir, "initdb")); err != nil {
			return "", fmt.Errorf("KARL_PG_BIN: %w", err)
		}
		return dir, nil
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	slices.SortFunc(dirs, func(a, b string) int { return pgVersion(a) - pgVersion(b) }) // "9.6" < "15"
	if len(dirs) > 0 {
		return filepath.Dir(dirs[len(dirs)-1]), nil
	}
	initdb, err := lookPath("initdb")
	if err != nil {
		return "", err
	}
	return filepath.Dir(initdb), nil
}

// pgVersion reads the major version from /usr/lib/postgresql/<version>/bin/initdb.
func pgVersion(initdb string) int {
	major, _, _ := strings.Cut(filepath.Base(filepath.Dir(filepath.Dir(initdb))), ".")
	v, _ := strconv.Atoi(major)
	return v
}

// tempRoot returns where the cluster's directory goes: the usual temporary
// directory, unless PostgreSQL runs as another user who could not reach it
// (e.g. TMPDIR under /root), then /tmp.
func tempRoot(cred *syscall.Credential) string {
	root := os.TempDir()
	if cred == nil {
		return root
	}
	for dir := root; ; dir = filepath.Dir(dir) {
		info, err := os.Stat(dir)
		if err != nil || info.Mode().Perm()&0o001 == 0 { // others may not pass through it
			return "/tmp"
		}
		if dir == filepath.Dir(dir) {
			return root
		}
	}
}

// serverCredential returns who PostgreSQL runs as: nil (this process's user)
// unless this process is root, which initdb and postgres refuse.
func serverCredential() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	for _, name := range []string{"postgres", "nobody"} {
		u, err := user.Lookup(name)
		if err != nil {
			continue
		}
		uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
		gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
		if err1 != nil || err2 != nil {
			continue
		}
		// An empty Groups drops root's supplementary groups.
		return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: []uint32{}}, nil
	}
	return nil, errors.New(`running as root, and there is neither a "postgres" nor a "nobody" user to run PostgreSQL as`)
}
