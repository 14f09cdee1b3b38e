package alerts

import "time"

// A Clock tells the time. Everything in the SDK that depends on time reads it
// from a Clock, so that tests can drive it by hand (see alertstest.Clock).
//
// Implementations must be safe for concurrent use.
type Clock interface {
	Now() time.Time
}

// SystemClock is the Clock of the operating system: [time.Now]. Its zero value
// is ready to use, and it is the default wherever a Clock is optional. Under
// testing/synctest it reads the bubble's fake time, as time.Now does.
type SystemClock struct{}

// Now returns time.Now().
func (SystemClock) Now() time.Time { return time.Now() }

// ClockFunc adapts an ordinary function to the Clock interface.
type ClockFunc func() time.Time

// Now returns f().
func (f ClockFunc) Now() time.Time { return f() }
