package render

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDateTime(t *testing.T) {
	t.Parallel()
	paris, err := time.LoadLocation("Europe/Paris")
	require.NoError(t, err, "LoadLocation")
	saoPaulo, err := time.LoadLocation("America/Sao_Paulo")
	require.NoError(t, err, "LoadLocation")
	kolkata, err := time.LoadLocation("Asia/Kolkata")
	require.NoError(t, err, "LoadLocation")
	// 01:15 UTC on the day Paris moves to summer time (at 01:00 UTC).
	instant := time.Date(2026, 3, 29, 1, 15, 0, 0, time.UTC)
	tests := []struct {
		name     string
		loc      *time.Location
		want     string
		wantDate string
	}{
		{"nil", nil, "2026-03-29 01:15:00 UTC", "2026-03-29 (UTC)"},
		{"utc", time.UTC, "2026-03-29 01:15:00 UTC", "2026-03-29 (UTC)"},
		{"paris dst", paris, "2026-03-29 03:15:00 CEST (UTC+02:00)", "2026-03-29 (UTC+02:00)"},
		{"sao paulo numeric abbr", saoPaulo, "2026-03-28 22:15:00 UTC-03:00", "2026-03-28 (UTC-03:00)"},
		{"kolkata half hour", kolkata, "2026-03-29 06:45:00 IST (UTC+05:30)", "2026-03-29 (UTC+05:30)"},
		{"fixed", time.FixedZone("", -90*60), "2026-03-28 23:45:00 UTC-01:30", "2026-03-28 (UTC-01:30)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equalf(t, tt.want, DateTime(instant, tt.loc), "DateTime(%v, %v)", instant, tt.loc)
			loc := tt.loc
			if loc == nil {
				loc = time.UTC
			}
			y, m, d := instant.In(loc).Date()
			assert.Equalf(t, tt.wantDate, Date(instant, tt.loc), "Date(%v, %v)", instant, tt.loc)
			assert.Equalf(t, tt.wantDate, CalendarDate(y, m, d, tt.loc), "CalendarDate(%d, %d, %d, %v)", y, m, d, tt.loc)
		})
	}
}

// TestCalendarDateSkipped: a date the zone skipped is shown as itself,
// with the offset after the skip; time.Date alone would move it to the
// next day.
func TestCalendarDateSkipped(t *testing.T) {
	t.Parallel()
	apia, err := time.LoadLocation("Pacific/Apia")
	require.NoError(t, err, "LoadLocation")
	for _, tt := range []struct {
		day  int
		want string
	}{
		{29, "2011-12-29 (UTC-10:00)"},
		{30, "2011-12-30 (UTC+14:00)"},
		{31, "2011-12-31 (UTC+14:00)"},
	} {
		assert.Equalf(t, tt.want, CalendarDate(2011, 12, tt.day, apia), "CalendarDate(2011, 12, %d, Pacific/Apia)", tt.day)
	}
}

// FuzzDateTime checks DateTime against the layout it stands for, on any
// instant in any fixed zone.
func FuzzDateTime(f *testing.F) {
	f.Add(int64(0), 0, "UTC")
	f.Add(int64(1774746900), 7200, "CEST")
	f.Add(int64(-62135596800), -1050, "LMT")
	f.Add(int64(253402300799), 50400, "")
	f.Fuzz(func(t *testing.T, sec int64, off int, abbr string) {
		loc := time.FixedZone(abbr, off%(100*3600))
		at := time.Unix(sec, 0)
		want := at.In(loc).Format("2006-01-02 15:04:05 ")
		want = string(appendZoneWithLayout([]byte(want), at.In(loc)))
		assert.Equalf(t, want, DateTime(at, loc), "DateTime(%v, %v)", at, loc)
	})
}

// appendZoneWithLayout is appendZone with the offset printed by the
// layout "-07:00", as DateTime printed it before it formatted by hand.
func appendZoneWithLayout(b []byte, t time.Time) []byte {
	abbr, off := t.Zone()
	offset := func(b []byte) []byte {
		if off == 0 {
			return append(b, "UTC"...)
		}
		return t.AppendFormat(append(b, "UTC"...), "-07:00")
	}
	switch {
	case off == 0 && (abbr == "UTC" || abbr == "GMT" || abbr == "Z" || abbr == ""):
		return append(b, "UTC"...)
	case isAlpha(abbr):
		return append(offset(append(append(b, abbr...), " ("...)), ')')
	}
	return offset(b)
}
