package digest

import (
	"fmt"
	"time"
)

// A Day is a calendar date, counted in days since 1970-01-01 of the
// proleptic Gregorian calendar. A tenant's digests are one per Day of the
// tenant's time zone; stores record the last Day sent as this number. A Day
// is a plain value.
type Day int32

// secondsPerDay is the length of a day in the UTC calendar, where every day
// has this length.
const secondsPerDay = 24 * 60 * 60

// DayOf returns the calendar date of t in t's location.
func DayOf(t time.Time) Day {
	y, m, d := t.Date()
	return DateDay(y, m, d)
}

// DateDay returns the Day of the date year-month-day; out-of-range values
// are normalised as [time.Date] does (October 32 is November 1).
func DateDay(year int, month time.Month, day int) Day {
	u := time.Date(year, month, day, 0, 0, 0, 0, time.UTC).Unix()
	q := u / secondsPerDay
	if u%secondsPerDay < 0 {
		q--
	}
	return Day(q)
}

// Date returns the year, month and day of d.
func (d Day) Date() (year int, month time.Month, day int) {
	return time.Unix(int64(d)*secondsPerDay, 0).UTC().Date()
}

// String returns d as an ISO 8601 date, "2026-03-08".
func (d Day) String() string {
	y, m, dd := d.Date()
	return fmt.Sprintf("%04d-%02d-%02d", y, int(m), dd)
}
