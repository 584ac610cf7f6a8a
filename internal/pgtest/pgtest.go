// Package pgtest runs a real, throwaway PostgreSQL server for tests.
//
// A test binary starts one server, on first use, and gives every test a
// fresh database on it:
//
//	func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }
//
//	func TestX(t *testing.T) {
//		dsn := pgtest.NewDatabase(t) // dropped when t ends
//		...
//	}
//
// The server runs from a temporary directory (initdb, then postgres on
// 127.0.0.1 with a free port and a Unix socket in the same directory) with
// durability turned off for speed, and is stopped and removed when Main
// returns. Run as root, it runs as the "postgres" system user, since
// PostgreSQL refuses to run as root. Missing server binaries are an error,
// never a skip: set REACH_PG_BIN to their directory if they are not in a
// standard place.
package pgtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Server is a running PostgreSQL server in a temporary directory.
type Server struct {
	dir   string // data/, the socket and postgres.log
	port  int
	cmd   *exec.Cmd
	exit  chan struct{} // closed when postgres exits
	admin *pgxpool.Pool // connected to the "postgres" database
	dbs   atomic.Int64  // databases created so far, for unique names

	stopOnce sync.Once
	stopErr  error
}

// Timeouts.
const (
	startTimeout = 60 * time.Second
	stopTimeout  = 15 * time.Second
)

// Start initializes a data directory and starts a server on it.
func Start(ctx context.Context) (*Server, error) {
	bin, err := binDir()
	if err != nil {
		return nil, err
	}
	cred, err := credential()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "pgtest-")
	if err != nil {
		return nil, fmt.Errorf("pgtest: %w", err)
	}
	if cred != nil {
		if err := os.Chown(dir, int(cred.Uid), int(cred.Gid)); err != nil {
			os.RemoveAll(dir)
			return nil, fmt.Errorf("pgtest: hand %s to the postgres user: %w", dir, err)
		}
	}
	s := &Server{dir: dir}
	if err := s.initdb(ctx, bin, cred); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	// A free port can be taken between probing and binding; retry then.
	for attempt := 1; ; attempt++ {
		err = s.start(ctx, bin, cred)
		if err == nil {
			return s, nil
		}
		if attempt == 3 || !strings.Contains(err.Error(), "could not") {
			os.RemoveAll(dir)
			return nil, err
		}
	}
}

// binDir finds the directory holding initdb and postgres.
func binDir() (string, error) {
	if dir := os.Getenv("REACH_PG_BIN"); dir != "" {
		return dir, checkBin(dir)
	}
	if out, err := exec.Command("pg_config", "--bindir").Output(); err == nil {
		dir := strings.TrimSpace(string(out))
		if checkBin(dir) == nil {
			return dir, nil
		}
	}
	// Debian and Ubuntu keep server binaries out of PATH, per major version.
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/postgres")
	sort.Slice(matches, func(i, j int) bool { return version(matches[i]) > version(matches[j]) })
	for _, m := range matches {
		if dir := filepath.Dir(m); checkBin(dir) == nil {
			return dir, nil
		}
	}
	if p, err := exec.LookPath("postgres"); err == nil {
		if dir := filepath.Dir(p); checkBin(dir) == nil {
			return dir, nil
		}
	}
	return "", errors.New("pgtest: PostgreSQL server binaries (initdb, postgres) not found: " +
		"install the postgresql package (make setup) or set REACH_PG_BIN to their directory")
}

// version extracts N from /usr/lib/postgresql/N/bin/postgres.
func version(path string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(path))))
	return v
}

func checkBin(dir string) error {
	for _, name := range []string{"initdb", "postgres"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			return fmt.Errorf("pgtest: %s not found in %s", name, dir)
		}
	}
	return nil
}

// credential returns the postgres user's credential when running as root,
// nil otherwise.
func credential() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("pgtest: running as root needs a postgres system user to run the server as: %w", err)
	}
	uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
	gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
	if err1 != nil || err2 != nil {
		return nil, fmt.Errorf("pgtest: postgres user has a non-numeric uid or gid")
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

func (s *Server) initdb(ctx context.Context, bin string, cred *syscall.Credential) error {
	cmd := exec.CommandContext(ctx, filepath.Join(bin, "initdb"), "-D", filepath.Join(s.dir, "data"),
		"-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync")
	cmd.Dir = s.dir
	cmd.SysProcAttr = sysProcAttr(cred)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("pgtest: initdb: %w\n%s", err, out)
	}
	return nil
}

// start runs postgres on a free port and waits until it accepts connections.
func (s *Server) start(ctx context.Context, bin string, cred *syscall.Credential) error {
	port, err := freePort()
	if err != nil {
		return err
	}
	logPath := filepath.Join(s.dir, "postgres.log")
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("pgtest: %w", err)
	}
	defer logf.Close()
	cmd := exec.Command(filepath.Join(bin, "postgres"), "-D", filepath.Join(s.dir, "data"),
		"-p", strconv.Itoa(port), "-h", "127.0.0.1", "-k", s.dir,
		"-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
		"-c", "max_connections=300", "-c", "shared_buffers=128MB", "-c", "log_min_messages=warning")
	cmd.Dir = s.dir
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = sysProcAttr(cred)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("pgtest: start postgres: %w", err)
	}
	s.cmd, s.port, s.exit = cmd, port, make(chan struct{})
	go func() {
		cmd.Wait()
		close(s.exit)
	}()

	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	for {
		pool, err := s.connect(ctx, "postgres")
		if err == nil {
			s.admin = pool
			return nil
		}
		select {
		case <-s.exit:
			return fmt.Errorf("pgtest: postgres exited at start: %s", tail(logPath))
		case <-ctx.Done():
			s.kill()
			return fmt.Errorf("pgtest: postgres not ready after %v: %v: %s", startTimeout, err, tail(logPath))
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// connect opens a pool on database db and checks that it answers.
func (s *Server) connect(ctx context.Context, db string) (*pgxpool.Pool, error) {
	pool, err := pgxpool.New(ctx, s.DSN(db))
	if err != nil {
		return nil, err
	}
	pingCtx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	if err := pool.Ping(pingCtx); err != nil {
		pool.Close()
		return nil, err
	}
	return pool, nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("pgtest: find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// tail returns the end of the log file at path.
func tail(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	if len(b) > 4096 {
		b = b[len(b)-4096:]
	}
	return string(bytes.TrimSpace(b))
}

// DSN returns the URL of database db over TCP.
func (s *Server) DSN(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", s.port, db)
}

// SocketDir returns the directory of the server's Unix socket, for clients
// that connect with host=<dir>.
func (s *Server) SocketDir() string { return s.dir }

// NewDatabase creates an empty database, drops it when tb ends, and
// returns its DSN.
func (s *Server) NewDatabase(tb testing.TB) string {
	tb.Helper()
	name := fmt.Sprintf("test_%d", s.dbs.Add(1))
	ctx := context.Background()
	if _, err := s.admin.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		tb.Fatalf("pgtest: create database: %v", err)
	}
	tb.Cleanup(func() {
		if _, err := s.admin.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
			tb.Errorf("pgtest: drop database %s: %v", name, err)
		}
	})
	return s.DSN(name)
}

// Stop shuts the server down (fast shutdown, then SIGKILL after a
// timeout) and removes its directory.
func (s *Server) Stop() error {
	s.stopOnce.Do(func() {
		if s.admin != nil {
			s.admin.Close()
		}
		s.cmd.Process.Signal(syscall.SIGINT)
		select {
		case <-s.exit:
		case <-time.After(stopTimeout):
			s.kill()
			s.stopErr = fmt.Errorf("pgtest: postgres did not stop within %v; killed", stopTimeout)
		}
		if err := os.RemoveAll(s.dir); err != nil && s.stopErr == nil {
			s.stopErr = fmt.Errorf("pgtest: remove %s: %w", s.dir, err)
		}
	})
	return s.stopErr
}

func (s *Server) kill() {
	s.cmd.Process.Kill()
	<-s.exit
}

// shared is the server of this test binary.
var shared struct {
	mu      sync.Mutex
	running bool // Main is running the tests
	srv     *Server
	err     error
}

// Main runs the tests of m and then stops the shared server if a test
// started it. Call it from TestMain: os.Exit(pgtest.Main(m)).
func Main(m *testing.M) int {
	shared.mu.Lock()
	shared.running = true
	shared.mu.Unlock()
	code := m.Run()
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if shared.srv != nil {
		if err := shared.srv.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			if code == 0 {
				code = 1
			}
		}
		shared.srv = nil
	}
	return code
}

// NewDatabase creates a fresh database on the shared server, starting the
// server on first use, and returns its DSN. The database is dropped when
// tb ends. It fails tb if the server cannot start.
func NewDatabase(tb testing.TB) string {
	tb.Helper()
	shared.mu.Lock()
	if !shared.running {
		shared.mu.Unlock()
		tb.Fatal("pgtest: call pgtest.Main from TestMain, so that the server is stopped")
	}
	if shared.srv == nil && shared.err == nil {
		shared.srv, shared.err = Start(context.Background())
	}
	srv, err := shared.srv, shared.err
	shared.mu.Unlock()
	if err != nil {
		tb.Fatal(err)
	}
	return srv.NewDatabase(tb)
}
