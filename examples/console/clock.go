package main

import (
	"sync"
	"time"
)

// skipClock is the system clock plus an offset that Skip moves forward, so
// that a user can jump over a cooling period. It is an alerts.Clock (and a
// mailauth.Clock) and is safe for concurrent use.
type skipClock struct {
	mu     sync.Mutex
	offset time.Duration
	// skipped receives a value (without blocking) after each Skip, to wake
	// the loop that waits for the next due time.
	skipped chan struct{}
}

func newSkipClock() *skipClock { return &skipClock{skipped: make(chan struct{}, 1)} }

// Now returns the system's time plus the offset.
func (c *skipClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

// Skip moves the clock forward by d.
func (c *skipClock) Skip(d time.Duration) {
	c.mu.Lock()
	c.offset += d
	c.mu.Unlock()
	select {
	case c.skipped <- struct{}{}:
	default:
	}
}
