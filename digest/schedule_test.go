package digest_test

import (
	"errors"
	"testing"
	"time"

	"github.com/alertmail/alertmail/digest"
)

func mustZone(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatalf("LoadLocation(%q): %v", name, err)
	}
	return loc
}

func TestScheduleAt(t *testing.T) {
	t.Parallel()
	tests := []struct {
		zone         string
		hour, minute int
		date         string
		want         string // RFC 3339, written by hand from the zone's rules
	}{
		// An ordinary day.
		{"America/New_York", 9, 0, "2026-03-09", "2026-03-09T09:00:00-04:00"},
		{"America/New_York", 9, 0, "2026-03-07", "2026-03-07T09:00:00-05:00"},
		// Spring forward: 02:00 EST becomes 03:00 EDT; 02:30 does not exist,
		// so the digest goes at the jump.
		{"America/New_York", 2, 30, "2026-03-08", "2026-03-08T03:00:00-04:00"},
		{"America/New_York", 2, 0, "2026-03-08", "2026-03-08T03:00:00-04:00"},
		{"America/New_York", 1, 59, "2026-03-08", "2026-03-08T01:59:00-05:00"},
		{"America/New_York", 3, 0, "2026-03-08", "2026-03-08T03:00:00-04:00"},
		{"America/New_York", 3, 1, "2026-03-08", "2026-03-08T03:01:00-04:00"},
		// Fall back: 01:30 happens twice; the first (EDT) counts.
		{"America/New_York", 1, 30, "2026-11-01", "2026-11-01T01:30:00-04:00"},
		{"America/New_York", 1, 0, "2026-11-01", "2026-11-01T01:00:00-04:00"},
		{"America/New_York", 2, 0, "2026-11-01", "2026-11-01T02:00:00-05:00"},
		// Europe/Berlin: 02:00 CET becomes 03:00 CEST on 2026-03-29, and
		// 03:00 CEST becomes 02:00 CET on 2026-10-25.
		{"Europe/Berlin", 2, 30, "2026-03-29", "2026-03-29T03:00:00+02:00"},
		{"Europe/Berlin", 2, 30, "2026-10-25", "2026-10-25T02:30:00+02:00"},
		{"Europe/Berlin", 8, 0, "2026-10-25", "2026-10-25T08:00:00+01:00"},
		// No daylight saving time.
		{"Asia/Tokyo", 9, 0, "2026-03-08", "2026-03-08T00:00:00Z"},
		{"UTC", 0, 0, "2026-01-01", "2026-01-01T00:00:00Z"},
		// A change at midnight: Santiago jumps from 00:00 -04 to 01:00 -03
		// on 2026-09-06, so 00:30 goes at 01:00.
		{"America/Santiago", 0, 30, "2026-09-06", "2026-09-06T01:00:00-03:00"},
		// A date that never happened: Samoa skipped 2011-12-30 entirely;
		// its digest goes at the jump, before 2011-12-31's.
		{"Pacific/Apia", 9, 0, "2011-12-30", "2011-12-31T00:00:00+14:00"},
		{"Pacific/Apia", 9, 0, "2011-12-31", "2011-12-31T09:00:00+14:00"},
	}
	for _, tt := range tests {
		t.Run(tt.zone+"/"+tt.date, func(t *testing.T) {
			t.Parallel()
			s := digest.Schedule{Hour: tt.hour, Minute: tt.minute, Location: mustZone(t, tt.zone)}
			d0, err := time.Parse(time.DateOnly, tt.date)
			if err != nil {
				t.Fatal(err)
			}
			want, err := time.Parse(time.RFC3339, tt.want)
			if err != nil {
				t.Fatal(err)
			}
			got := s.At(digest.DayOf(d0))
			if !got.Equal(want) {
				t.Errorf("Schedule{%s}.At(%s) = %v; want %v", s, tt.date, got, want)
			}
			if got.Location() != s.Location {
				t.Errorf("Schedule{%s}.At(%s) is in %v; want %v", s, tt.date, got.Location(), s.Location)
			}
		})
	}
}

// TestScheduleInvariants checks the rule on every date of a few years in
// zones with and without daylight saving time, for send times every half
// hour: one instant per date, in order; the wall clock shows the send
// time then, or the clocks jumped over it at that very instant; and Due and
// Next agree with At.
func TestScheduleInvariants(t *testing.T) {
	t.Parallel()
	zones := []struct {
		name        string
		first, last int // years
	}{
		{"America/New_York", 2025, 2027},
		{"Europe/Berlin", 2025, 2027},
		{"Asia/Kolkata", 2026, 2026},
		{"Australia/Lord_Howe", 2025, 2027}, // half-hour changes
		{"America/Santiago", 2025, 2027},    // changes at midnight
		{"Pacific/Apia", 2011, 2012},        // skipped 2011-12-30
		{"UTC", 2026, 2026},
	}
	for _, zone := range zones {
		t.Run(zone.name, func(t *testing.T) {
			t.Parallel()
			loc := mustZone(t, zone.name)
			first := digest.DateDay(zone.first, 1, 1)
			last := digest.DateDay(zone.last, 12, 31)
			for minutes := 0; minutes < 24*60; minutes += 30 {
				s := digest.Schedule{Hour: minutes / 60, Minute: minutes % 60, Location: loc}
				for d := first; d <= last; d++ {
					checkScheduleDay(t, s, d)
				}
			}
		})
	}
}

// checkScheduleDay checks the rule for s and date d: At(d) is not before
// At(d-1); the wall clock shows the send time then (the first time, if it
// shows it twice), or the clocks jumped over it at that very instant; and
// Due and Next agree with At.
func checkScheduleDay(t *testing.T, s digest.Schedule, d digest.Day) {
	t.Helper()
	at := s.At(d)
	if prev := s.At(d - 1); at.Before(prev) {
		t.Fatalf("Schedule{%s}.At(%s) = %v, before At(%s) = %v", s, d, at, d-1, prev)
	}
	// A date whose instant is the next date's has no digest of its own (a
	// date the zone skipped).
	skipped := s.At(d + 1).Equal(at)
	y, m, dd := d.Date()
	exact := at.Year() == y && at.Month() == m && at.Day() == dd &&
		at.Hour() == s.Hour && at.Minute() == s.Minute && at.Second() == 0
	if !exact {
		// The clocks must have jumped over the send time right then.
		before := at.Add(-time.Nanosecond)
		wallBefore := time.Date(before.Year(), before.Month(), before.Day(), before.Hour(), before.Minute(), before.Second(), 0, time.UTC)
		target := time.Date(y, m, dd, s.Hour, s.Minute, 0, 0, time.UTC)
		wallAt := time.Date(at.Year(), at.Month(), at.Day(), at.Hour(), at.Minute(), at.Second(), 0, time.UTC)
		if !wallBefore.Before(target) || wallAt.Before(target) {
			t.Fatalf("Schedule{%s}.At(%s) = %v: neither the send time nor a jump over it", s, d, at)
		}
	} else {
		// The first of two instants showing the send time, if two (clocks
		// fall back by an hour, by half an hour on Lord Howe, by two on Troll).
		_, off := at.Zone()
		for _, back := range []time.Duration{30 * time.Minute, time.Hour, 2 * time.Hour} {
			earlier := at.Add(-back)
			if _, off2 := earlier.Zone(); off2 != off && earlier.Hour() == s.Hour && earlier.Minute() == s.Minute && earlier.Day() == dd {
				t.Fatalf("Schedule{%s}.At(%s) = %v; the wall clock showed it first at %v", s, d, at, earlier)
			}
		}
	}
	if skipped {
		return
	}
	if gd, gat := s.Due(at); gd != d || !gat.Equal(at) {
		t.Fatalf("Schedule{%s}.Due(%v) = %s, %v; want %s, %v", s, at, gd, gat, d, at)
	}
	if gd, gat := s.Next(at.Add(-time.Nanosecond)); gd != d || !gat.Equal(at) {
		t.Fatalf("Schedule{%s}.Next(%v) = %s, %v; want %s, %v", s, at.Add(-time.Nanosecond), gd, gat, d, at)
	}
	want := d + 1
	if s.At(want).Equal(s.At(want + 1)) {
		want++
	}
	if gd, _ := s.Next(at); gd != want {
		t.Fatalf("Schedule{%s}.Next(%v) = %s; want %s", s, at, gd, want)
	}
}

// FuzzSchedule checks the rule for any send time, date (1900-2100) and
// zone among some with unusual rules.
func FuzzSchedule(f *testing.F) {
	zones := []string{"America/New_York", "Europe/Berlin", "Australia/Lord_Howe", "America/Santiago",
		"Pacific/Apia", "Asia/Kathmandu", "Antarctica/Troll", "America/St_Johns", "Europe/Dublin", "UTC"}
	locs := make([]*time.Location, len(zones))
	for i, z := range zones {
		locs[i] = mustZone(f, z)
	}
	f.Add(uint8(0), uint8(2), uint8(30), int32(20520)) // New York, 2026-03-08 02:30
	f.Add(uint8(0), uint8(1), uint8(30), int32(20758)) // New York, 2026-11-01 01:30
	f.Add(uint8(4), uint8(0), uint8(0), int32(15338))  // Apia, 2011-12-30 00:00
	f.Add(uint8(2), uint8(2), uint8(0), int32(20545))  // Lord Howe, 2026-04-05
	f.Add(uint8(6), uint8(1), uint8(30), int32(20542)) // Troll, 2026-03-29 (+2 hours)
	f.Add(uint8(8), uint8(1), uint8(15), int32(20751)) // Dublin, 2026-10-25 (negative DST)
	f.Fuzz(func(t *testing.T, zone, hour, minute uint8, day int32) {
		s := digest.Schedule{Hour: int(hour) % 24, Minute: int(minute) % 60, Location: locs[int(zone)%len(locs)]}
		d := digest.DateDay(1900, 1, 1) + digest.Day(uint32(day)%uint32(200*365))
		checkScheduleDay(t, s, d)
	})
}

func TestScheduleValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		s  digest.Schedule
		ok bool
	}{
		{digest.Schedule{}, true},
		{digest.Schedule{Hour: 23, Minute: 59}, true},
		{digest.Schedule{Hour: 24}, false},
		{digest.Schedule{Hour: -1}, false},
		{digest.Schedule{Minute: 60}, false},
		{digest.Schedule{Minute: -1}, false},
	}
	for _, tt := range tests {
		t.Run(tt.s.String(), func(t *testing.T) {
			err := tt.s.Validate()
			if (err == nil) != tt.ok || (err != nil && !errors.Is(err, digest.ErrInvalidSchedule)) {
				t.Errorf("Schedule{Hour: %d, Minute: %d}.Validate() = %v; want ok=%v", tt.s.Hour, tt.s.Minute, err, tt.ok)
			}
		})
	}
}
