package redistest_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/alertmail/alertmail/internal/redistest"
)

func TestStartRestart(t *testing.T) {
	t.Parallel()
	s := redistest.Start(t, "--appendonly", "yes", "--appendfsync", "always")
	c := s.Client(t)
	ctx := context.Background()
	if err := c.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatalf("SET: %v", err)
	}
	s.Restart(t)
	got, err := c.Get(ctx, "k").Result()
	if err != nil || got != "v" {
		t.Fatalf("GET k after restart with appendonly = %q, %v; want %q, nil", got, err, "v")
	}
	s.Stop(t)
	if err := c.Ping(ctx).Err(); err == nil {
		t.Fatal("PING after Stop succeeded; want an error")
	}
}

func TestStartNoPersistence(t *testing.T) {
	t.Parallel()
	s := redistest.Start(t)
	c := s.Client(t)
	ctx := context.Background()
	cfg, err := c.ConfigGet(ctx, "*").Result()
	if err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]string{"save": "", "appendonly": "no", "bind": "127.0.0.1"} {
		if cfg[k] != want {
			t.Errorf("CONFIG GET %s = %q; want %q", k, cfg[k], want)
		}
	}
}

func TestPauseResume(t *testing.T) {
	t.Parallel()
	s := redistest.Start(t)
	c := s.Client(t)
	s.Pause(t)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if err := c.Ping(ctx).Err(); err == nil {
		t.Fatal("PING to a paused server succeeded; want a timeout")
	}
	s.Resume(t)
	if err := c.Ping(context.Background()).Err(); err != nil {
		t.Fatalf("PING after Resume: %v", err)
	}
}

func TestNewPrefix(t *testing.T) {
	t.Parallel()
	s := redistest.New(t)
	a, b := s.Prefix(t), s.Prefix(t)
	if a == b || !strings.HasPrefix(a, "amtest-") {
		t.Fatalf("Prefix() = %q, %q; want two distinct amtest- prefixes", a, b)
	}
	if err := s.Client(t).Ping(context.Background()).Err(); err != nil {
		t.Fatalf("PING: %v", err)
	}
}

func TestStartCluster(t *testing.T) {
	t.Parallel()
	s := redistest.StartCluster(t)
	c := s.ClusterClient(t)
	ctx := context.Background()
	if err := c.Eval(ctx, "return redis.call('SET', KEYS[1], 1)", []string{"{a}x"}).Err(); err != nil {
		t.Fatalf("EVAL on one slot: %v", err)
	}
	err := c.Eval(ctx, "redis.call('SET', KEYS[1], 1); return redis.call('SET', KEYS[2], 1)", []string{"{a}x", "{b}x"}).Err()
	if err == nil || !strings.Contains(err.Error(), "CROSSSLOT") && !strings.Contains(err.Error(), "slot") {
		t.Fatalf("EVAL across slots = %v; want a cross-slot error", err)
	}
}
