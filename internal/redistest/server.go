package redistest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// EnvAddr is the environment variable that names a running redis-server
// ("127.0.0.1:6379") for [New] to use instead of starting one.
const EnvAddr = "ALERTMAIL_REDIS_ADDR"

// startTimeout bounds how long a starting server may take to answer PING.
const startTimeout = 10 * time.Second

// A Server is a redis-server used by tests: either one this package started
// (see [Start]) or the shared one named by ALERTMAIL_REDIS_ADDR (see [New]).
//
// Its methods are safe for concurrent use. A Server this package started is
// stopped when the test that started it ends.
type Server struct {
	// Addr is the server's "host:port" on the loopback interface.
	Addr string

	own  bool     // started by this package: Stop and Restart are allowed
	args []string // redis-server arguments, port included

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{} // closed when cmd has exited
}

// Binary returns the path of redis-server, or skips tb (fails it when the
// environment variable CI is "true") when it is not installed.
func Binary(tb testing.TB) string {
	tb.Helper()
	return need(tb, "redis-server")
}

func need(tb testing.TB, name string) string {
	tb.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	msg := fmt.Sprintf("redistest: %s not found on PATH (install the Debian package redis-server, or set %s to a running server)", name, EnvAddr)
	if os.Getenv("CI") == "true" {
		tb.Fatal(msg + "; under CI=true this is a failure")
	}
	tb.Skip(msg)
	return ""
}

// New returns the server tests should use: the one named by the environment
// variable ALERTMAIL_REDIS_ADDR when it is set (shared with other tests, so
// use [Server.Prefix] for keys), otherwise a new one as [Start] does.
func New(tb testing.TB) *Server {
	tb.Helper()
	if addr := os.Getenv(EnvAddr); addr != "" {
		s := &Server{Addr: addr}
		c := redis.NewClient(&redis.Options{Addr: addr})
		defer c.Close()
		ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
		defer cancel()
		if err := c.Ping(ctx).Err(); err != nil {
			tb.Fatalf("redistest: %s=%s does not answer PING: %v", EnvAddr, addr, err)
		}
		return s
	}
	return Start(tb)
}

// Start starts a new redis-server of its own on a free loopback port, with
// no persistence (--save "" --appendonly no) unless args say otherwise, and
// stops it when tb ends. Extra args are passed to redis-server after the
// defaults, so they override them ("--appendonly", "yes").
//
// If redis-server is not installed, Start skips tb, or fails it when the
// environment variable CI is "true".
func Start(tb testing.TB, args ...string) *Server {
	tb.Helper()
	s, err := startOwn(Binary(tb), tb.TempDir(), args)
	if err != nil {
		tb.Fatalf("redistest: starting redis-server: %v", err)
	}
	tb.Cleanup(s.stop)
	return s
}

// startOwn starts a redis-server of bin on a free loopback port, with dir
// as its working directory and args after the defaults, retrying when the
// port is taken between probing and binding it. The caller stops it.
func startOwn(bin, dir string, args []string) (*Server, error) {
	var lastErr error
	for range 5 {
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		s := &Server{
			Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)),
			own:  true,
			args: append([]string{
				"--port", strconv.Itoa(port),
				"--bind", "127.0.0.1",
				"--save", "",
				"--appendonly", "no",
				"--dir", dir,
				"--daemonize", "no",
				"--logfile", "",
				"--loglevel", "warning",
			}, args...),
		}
		if lastErr = s.start(bin); lastErr == nil {
			return s, nil
		}
	}
	return nil, lastErr
}

// StartCluster starts a one-node Redis Cluster of its own (cluster mode on,
// all 16384 slots assigned to the node) and stops it when tb ends. A script
// that touches keys of different hash slots fails there with CROSSSLOT, as
// it would on a real cluster, so tests use it to check the key layout.
func StartCluster(tb testing.TB) *Server {
	tb.Helper()
	dir := tb.TempDir()
	s := Start(tb, "--cluster-enabled", "yes",
		"--cluster-config-file", dir+"/nodes.conf")
	c := redis.NewClient(&redis.Options{Addr: s.Addr})
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	if err := c.Do(ctx, "CLUSTER", "ADDSLOTSRANGE", 0, 16383).Err(); err != nil {
		tb.Fatalf("redistest: assigning cluster slots: %v", err)
	}
	for {
		info, err := c.ClusterInfo(ctx).Result()
		if err == nil && strings.Contains(info, "cluster_state:ok") {
			return s
		}
		if ctx.Err() != nil {
			tb.Fatalf("redistest: cluster not ready: %v (last info %q)", err, info)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// ClusterClient returns a new go-redis cluster client for a server started
// by [StartCluster], closed when tb ends.
func (s *Server) ClusterClient(tb testing.TB) *redis.ClusterClient {
	tb.Helper()
	c := redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{s.Addr}})
	tb.Cleanup(func() { c.Close() })
	return c
}

// Client returns a new go-redis client of the server, with a connection pool
// of its own, closed when tb ends. Each call stands for a separate replica.
func (s *Server) Client(tb testing.TB) *redis.Client {
	tb.Helper()
	c := redis.NewClient(&redis.Options{Addr: s.Addr})
	tb.Cleanup(func() { c.Close() })
	return c
}

// Prefix returns a new key prefix unique to this call ("amtest-<hex>"), so
// that tests sharing a server never see each other's keys. When tb ends the
// keys under the prefix are deleted.
func (s *Server) Prefix(tb testing.TB) string {
	tb.Helper()
	p := newPrefix(tb)
	tb.Cleanup(func() {
		if s.own {
			return // the server goes away with the test
		}
		c := redis.NewClient(&redis.Options{Addr: s.Addr})
		defer c.Close()
		ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
		defer cancel()
		iter := c.Scan(ctx, 0, p+"*", 1000).Iterator()
		for iter.Next(ctx) {
			c.Del(ctx, iter.Val())
		}
	})
	return p
}

// newPrefix returns a new random key prefix ("amtest-<hex>").
func newPrefix(tb testing.TB) string {
	tb.Helper()
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		tb.Fatalf("redistest: %v", err)
	}
	return "amtest-" + hex.EncodeToString(b[:])
}

// Owned reports whether this package started the server (so [Server.Stop]
// and [Server.Restart] may be used) rather than reusing a shared one.
func (s *Server) Owned() bool { return s.own }

// Stop stops a server started by [Start] and waits for it to exit. It fails
// tb on a shared server.
func (s *Server) Stop(tb testing.TB) {
	tb.Helper()
	if !s.own {
		tb.Fatal("redistest: Stop on a shared server")
	}
	s.stop()
}

// Restart starts a stopped server again on the same port, with the same
// arguments (so with the same data when it was started with persistence).
// It fails tb on a shared server or if the server does not come back.
func (s *Server) Restart(tb testing.TB) {
	tb.Helper()
	if !s.own {
		tb.Fatal("redistest: Restart on a shared server")
	}
	s.stop()
	var err error
	for range 50 { // the port may linger for a moment after exit
		if err = s.start(Binary(tb)); err == nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	tb.Fatalf("redistest: restarting redis-server on %s: %v", s.Addr, err)
}

// Pause stops the server process with SIGSTOP, so that its connections stay
// open but nothing answers (a network partition, as clients see it), until
// [Server.Resume].
func (s *Server) Pause(tb testing.TB) {
	tb.Helper()
	s.signal(tb, syscall.SIGSTOP)
}

// Resume continues a server stopped by [Server.Pause].
func (s *Server) Resume(tb testing.TB) {
	tb.Helper()
	s.signal(tb, syscall.SIGCONT)
}

func (s *Server) signal(tb testing.TB, sig syscall.Signal) {
	tb.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.own || s.cmd == nil {
		tb.Fatal("redistest: signal to a server not running under this test")
	}
	if err := s.cmd.Process.Signal(sig); err != nil {
		tb.Fatalf("redistest: %v", err)
	}
}

func (s *Server) start(bin string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	cmd := exec.Command(bin, s.args...)
	var out syncBuffer // redis-server logs to stdout with --logfile ""
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		return err
	}
	done := make(chan struct{})
	go func() {
		cmd.Wait()
		close(done)
	}()
	deadline := time.Now().Add(startTimeout)
	for {
		select {
		case <-done:
			return fmt.Errorf("redis-server exited: %s", strings.TrimSpace(out.String()))
		default:
		}
		// Another server may answer on a port that was taken after we
		// probed it: only our own process counts.
		if pid, err := serverPID(s.Addr); err == nil && pid == cmd.Process.Pid {
			s.cmd, s.done = cmd, done
			return nil
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			<-done
			return fmt.Errorf("redis-server did not answer in time: %s", strings.TrimSpace(out.String()))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (s *Server) stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return
	}
	s.cmd.Process.Signal(syscall.SIGCONT) // a paused server cannot exit
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(5 * time.Second):
		s.cmd.Process.Kill()
		<-s.done
	}
	s.cmd, s.done = nil, nil
}

// serverPID asks the server at addr for its process id, with a plain
// connection, so that readiness does not depend on a client's retry policy.
func serverPID(addr string) (int, error) {
	c := redis.NewClient(&redis.Options{
		Addr: addr, MaxRetries: -1, PoolSize: 1,
		DialTimeout: 200 * time.Millisecond, ReadTimeout: 500 * time.Millisecond,
	})
	defer c.Close()
	info, err := c.Info(context.Background(), "server").Result()
	if err != nil {
		return 0, err
	}
	for line := range strings.SplitSeq(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "process_id:"); ok {
			return strconv.Atoi(v)
		}
	}
	return 0, errors.New("no process_id in INFO server")
}

// syncBuffer collects a process's output; exec writes to it from its own
// goroutine while start reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
