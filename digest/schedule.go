package digest

import (
	"errors"
	"fmt"
	"time"
)

// A Schedule is when a tenant's digest is sent: a time of day on the wall
// clock of a time zone.
//
// # Daylight-saving rule
//
// The digest of a calendar date is sent at the first instant at which the
// zone's wall clock shows that date at the send time or later. On most days
// that is simply the send time. When the clocks jump forward over it (02:30
// on a spring-forward night in America/New_York, where 02:00 becomes 03:00),
// it is the instant of the jump (03:00 EDT): late, but not skipped. When the
// clocks fall back and show it twice (01:30 on a fall-back night), it is the
// first time (01:30 EDT), and the repeat an hour later sends nothing. So
// every date gets exactly one send instant, never none and never two, and
// the instants of successive dates are always in order.
//
// The zero Schedule sends at midnight UTC. A Schedule is a plain value,
// safe for concurrent use.
type Schedule struct {
	// Hour (0–23) and Minute (0–59) are the send time of day.
	Hour, Minute int
	// Location is the tenant's time zone, loaded with [time.LoadLocation]
	// from an IANA name such as "Europe/Berlin". Nil means UTC.
	Location *time.Location
}

// ErrInvalidSchedule is wrapped by the error for a schedule whose time of
// day is out of range.
var ErrInvalidSchedule = errors.New("digest: invalid schedule")

// Validate reports whether the send time is a valid time of day, naming the
// bad field.
func (s Schedule) Validate() error {
	if s.Hour < 0 || s.Hour > 23 {
		return fmt.Errorf("%w: Hour %d is not in 0-23", ErrInvalidSchedule, s.Hour)
	}
	if s.Minute < 0 || s.Minute > 59 {
		return fmt.Errorf("%w: Minute %d is not in 0-59", ErrInvalidSchedule, s.Minute)
	}
	return nil
}

func (s Schedule) location() *time.Location {
	if s.Location == nil {
		return time.UTC
	}
	return s.Location
}

// At returns the instant the digest of date d is sent (see the rule above),
// in the schedule's location. s must be valid.
//
// At never decreases from one date to the next. Two dates share an instant
// only when the zone skipped a whole day and the send time is the moment
// the skip ends (Pacific/Apia skipped 2011-12-30 at midnight): the later
// date then counts, and the earlier one has no digest of its own ([Due] and
// [Next] skip it).
func (s Schedule) At(d Day) time.Time {
	loc := s.location()
	y, m, dd := d.Date()
	// The wall time to reach, read as if it were UTC: a zone's wall clock
	// at instant u reads u plus the zone's offset at u.
	wall := time.Date(y, m, dd, s.Hour, s.Minute, 0, 0, time.UTC)
	// Start from an instant whose wall clock surely reads earlier (no zone
	// is 26 hours ahead of UTC) and walk the zone's periods of constant
	// offset: within one period the wall clock advances with real time, so
	// the first instant that reads wall or later in it is wall minus the
	// offset, unless the period starts later than that (the clocks jumped
	// over wall) or ends sooner (try the next period).
	u := wall.Add(-26 * time.Hour)
	for range 64 { // a period lasts hours at the very least; 64 is a guard
		lt := u.In(loc)
		_, off := lt.Zone()
		_, end := lt.ZoneBounds()
		at := wall.Add(-time.Duration(off) * time.Second)
		if at.Before(u) {
			at = u
		}
		if end.IsZero() || at.Before(end) {
			return at.In(loc)
		}
		u = end
	}
	// Unreachable with real zone data; fall back to what time.Date picks.
	return time.Date(y, m, dd, s.Hour, s.Minute, 0, 0, loc)
}

// Due returns the latest date whose send instant is at or before now, and
// that instant: the digest a mailer should have sent by now.
func (s Schedule) Due(now time.Time) (Day, time.Time) {
	d := DayOf(now.In(s.location())) + 1
	for range 8 {
		if at := s.At(d); !at.After(now) {
			return d, at
		}
		d--
	}
	return d, s.At(d)
}

// Next returns the earliest date whose send instant is after now, and that
// instant.
func (s Schedule) Next(now time.Time) (Day, time.Time) {
	d := DayOf(now.In(s.location())) - 1
	for range 8 {
		if at := s.At(d); at.After(now) {
			// The later of two dates sharing an instant counts.
			for range 2 {
				if next := s.At(d + 1); !next.Equal(at) {
					break
				}
				d++
			}
			return d, at
		}
		d++
	}
	return d, s.At(d)
}

// String returns the schedule as "09:30 Europe/Berlin".
func (s Schedule) String() string {
	return fmt.Sprintf("%02d:%02d %s", s.Hour, s.Minute, s.location())
}
