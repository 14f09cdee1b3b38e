package alertstest

import (
	"sync"
	"time"
)

// epoch is the time a zero Clock reads.
func epoch() time.Time { return time.Date(2026, time.January, 1, 0, 0, 0, 0, time.UTC) }

// A Clock is an alerts.Clock that stands still until the test moves it with
// [Clock.Advance] or [Clock.Set]. It may be moved backwards, as a wall clock
// sometimes is.
//
// The zero value reads 2026-01-01 00:00:00 UTC. A Clock is safe for concurrent use.
type Clock struct {
	mu  sync.Mutex
	now time.Time
	set bool
}

// NewClock returns a Clock that reads start.
func NewClock(start time.Time) *Clock {
	return &Clock{now: start, set: true}
}

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.nowLocked()
}

func (c *Clock) nowLocked() time.Time {
	if !c.set {
		c.now, c.set = epoch(), true
	}
	return c.now
}

// Advance moves the clock by d (backwards if d is negative) and returns the
// new time.
func (c *Clock) Advance(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.nowLocked().Add(d)
	return c.now
}

// Set moves the clock to t, which may be before its current time.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now, c.set = t, true
}
