package mailauth

import "time"

// A Clock tells the time: a [Policy] reads it to know which side of each
// [Migration] it is on. Any type with this method fits, alertstest.Clock
// among them. Implementations must be safe for concurrent use.
type Clock interface {
	Now() time.Time
}

// ClockFunc adapts a function to a [Clock]; ClockFunc(time.Now) is the
// system clock.
type ClockFunc func() time.Time

// Now returns f().
func (f ClockFunc) Now() time.Time { return f() }
