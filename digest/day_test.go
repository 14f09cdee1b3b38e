package digest_test

import (
	"testing"
	"time"

	"github.com/alertmail/alertmail/digest"
)

func TestDay(t *testing.T) {
	t.Parallel()
	tests := []struct {
		date string
		want digest.Day
	}{
		{"1970-01-01", 0},
		{"1970-01-02", 1},
		{"1969-12-31", -1},
		{"2000-02-29", 11016},
		{"2026-03-08", 20520},
	}
	for _, tt := range tests {
		t.Run(tt.date, func(t *testing.T) {
			d0, err := time.Parse(time.DateOnly, tt.date)
			if err != nil {
				t.Fatal(err)
			}
			if got := digest.DayOf(d0); got != tt.want {
				t.Errorf("DayOf(%s) = %d; want %d", tt.date, got, tt.want)
			}
			if got := tt.want.String(); got != tt.date {
				t.Errorf("Day(%d).String() = %q; want %q", tt.want, got, tt.date)
			}
		})
	}
	// The date in the time's own zone, not UTC's.
	ny := mustZone(t, "America/New_York")
	at := time.Date(2026, 3, 8, 23, 0, 0, 0, ny) // already March 9 in UTC
	if got, want := digest.DayOf(at), digest.DateDay(2026, 3, 8); got != want {
		t.Errorf("DayOf(%v) = %s; want %s", at, got, want)
	}
}
