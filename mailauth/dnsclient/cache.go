package dnsclient

import (
	"sync"
	"time"

	"github.com/miekg/dns"
)

type cacheKey struct {
	name  string // lower case, without the trailing dot
	qtype uint16
}

type cacheEntry struct {
	rrs     []dns.RR // shared: read, never modified
	expires time.Time
}

// cache keeps positive answers until their TTL (capped by maxTTL) runs out.
// It is safe for concurrent use.
type cache struct {
	mu      sync.Mutex
	entries map[cacheKey]cacheEntry
	max     int
	maxTTL  time.Duration
	clock   Clock
}

func newCache(max int, maxTTL time.Duration, clock Clock) *cache {
	return &cache{entries: make(map[cacheKey]cacheEntry), max: max, maxTTL: maxTTL, clock: clock}
}

func (c *cache) get(k cacheKey) ([]dns.RR, bool) {
	now := c.clock.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[k]
	if !ok {
		return nil, false
	}
	if !now.Before(e.expires) {
		delete(c.entries, k)
		return nil, false
	}
	return e.rrs, true
}

func (c *cache) put(k cacheKey, rrs []dns.RR, ttl time.Duration) {
	ttl = min(ttl, c.maxTTL)
	if ttl <= 0 {
		return
	}
	now := c.clock.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.entries[k]; !ok && len(c.entries) >= c.max {
		for key, e := range c.entries {
			if !now.Before(e.expires) {
				delete(c.entries, key)
			}
		}
		// Still full: drop an arbitrary entry (map order is random).
		for key := range c.entries {
			if len(c.entries) < c.max {
				break
			}
			delete(c.entries, key)
		}
	}
	c.entries[k] = cacheEntry{rrs: rrs, expires: now.Add(ttl)}
}

// len returns the number of entries, expired or not.
func (c *cache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}
