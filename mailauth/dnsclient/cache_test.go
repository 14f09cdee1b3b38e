package dnsclient_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/alertmail/alertmail/mailauth/dnsclient"
	"github.com/alertmail/alertmail/mailauth/mailauthtest"
)

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func TestCacheHonoursTTL(t *testing.T) {
	t.Parallel()
	rec := mailauthtest.TXT("v=spf1 -all")
	rec.TTL = 60
	long := mailauthtest.A("192.0.2.1")
	long.TTL = 86400
	srv := mailauthtest.NewServer(t, mailauthtest.Zones{
		"example.com": {rec, long},
	})
	clock := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	cfg := srv.Config()
	cfg.CacheEntries = 10
	cfg.MaxTTL = time.Hour
	cfg.Clock = clock
	r, err := dnsclient.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	lookup := func() {
		t.Helper()
		if got, err := r.LookupTXT(ctx, "Example.com"); err != nil || len(got) != 1 || got[0] != "v=spf1 -all" {
			t.Fatalf("LookupTXT = %q, %v", got, err)
		}
	}
	steps := []struct {
		advance time.Duration
		queries int // queries the server has seen after the lookup
	}{
		{0, 1},
		{30 * time.Second, 1},
		{29 * time.Second, 1},
		{time.Second, 2}, // 60 s: expired
		{10 * time.Second, 2},
	}
	for i, s := range steps {
		clock.Advance(s.advance)
		lookup()
		if got := srv.Queries(); got != s.queries {
			t.Errorf("step %d: server queries = %d; want %d", i, got, s.queries)
		}
	}
	// A TTL longer than MaxTTL is capped.
	if _, err := r.LookupNetIP(ctx, "ip4", "example.com"); err != nil {
		t.Fatal(err)
	}
	n := srv.Queries()
	clock.Advance(59 * time.Minute)
	r.LookupNetIP(ctx, "ip4", "example.com")
	if got := srv.Queries(); got != n {
		t.Errorf("queries within MaxTTL = %d; want %d", got, n)
	}
	clock.Advance(time.Minute)
	r.LookupNetIP(ctx, "ip4", "example.com")
	if got := srv.Queries(); got != n+1 {
		t.Errorf("queries after MaxTTL = %d; want %d", got, n+1)
	}
	// Negative answers are not cached.
	n = srv.Queries()
	r.LookupMX(ctx, "example.com")
	r.LookupMX(ctx, "example.com")
	if got := srv.Queries(); got != n+2 {
		t.Errorf("queries for two negative lookups = %d; want %d", got, n+2)
	}
}

func TestCacheBounded(t *testing.T) {
	t.Parallel()
	z := mailauthtest.Zones{}
	names := []string{"a.example", "b.example", "c.example", "d.example"}
	for _, n := range names {
		z[n] = []mailauthtest.Record{mailauthtest.TXT(n)}
	}
	srv := mailauthtest.NewServer(t, z)
	cfg := srv.Config()
	cfg.CacheEntries = 2
	r, err := dnsclient.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		for _, n := range names {
			if got, err := r.LookupTXT(context.Background(), n); err != nil || got[0] != n {
				t.Fatalf("LookupTXT(%q) = %q, %v", n, got, err)
			}
		}
	}
	// With room for 2 of 4 names cycled in order, some lookups must miss.
	if got := srv.Queries(); got <= 4 {
		t.Errorf("server queries = %d; want more than 4 with a 2-entry cache", got)
	}
}

// TestCacheConcurrent reads and fills one cache from many goroutines while
// the clock moves (run it with -race): every answer is right, and expired
// entries are asked again.
func TestCacheConcurrent(t *testing.T) {
	t.Parallel()
	z := mailauthtest.Zones{}
	for i := range 8 {
		rec := mailauthtest.TXT(fmt.Sprint("v=spf1 -all ", i))
		rec.TTL = 10
		z[fmt.Sprintf("n%d.example", i)] = []mailauthtest.Record{rec}
	}
	srv := mailauthtest.NewServer(t, z)
	clock := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	cfg := srv.Config()
	cfg.CacheEntries = 4 // fewer than the names: evictions race with reads
	cfg.Clock = clock
	r, err := dnsclient.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 50 {
				n := (g + i) % 8
				got, err := r.LookupTXT(context.Background(), fmt.Sprintf("n%d.example", n))
				if want := fmt.Sprint("v=spf1 -all ", n); err != nil || len(got) != 1 || got[0] != want {
					t.Errorf("LookupTXT(n%d.example) = %q, %v; want [%q]", n, got, err, want)
					return
				}
				if i%10 == 0 {
					clock.Advance(3 * time.Second)
				}
			}
		})
	}
	wg.Wait()
	if q := srv.Queries(); q < 8 || q >= 8*50 {
		t.Errorf("server queries = %d; want some answers from the cache and some asked again", q)
	}
}
