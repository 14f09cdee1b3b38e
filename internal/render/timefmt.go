package render

import (
	"strings"
	"time"
)

// DateTime formats t in loc (UTC when loc is nil) with the ISO 8601 date,
// the time to the second and the zone, so that a reader in any zone can
// tell the instant: "2026-03-29 03:15:00 CEST (UTC+02:00)". A zone without
// an alphabetic abbreviation shows only its offset ("UTC-03:00"), and UTC
// shows as "UTC".
func DateTime(t time.Time, loc *time.Location) string {
	if loc == nil {
		loc = time.UTC
	}
	t = t.In(loc)
	var b []byte
	b = t.AppendFormat(make([]byte, 0, 40), "2006-01-02 15:04:05 ")
	return string(appendZone(b, t))
}

// Date formats the calendar day of t in loc (UTC when loc is nil) as an
// ISO 8601 date followed by the zone: "2026-03-29 (UTC+02:00)".
func Date(t time.Time, loc *time.Location) string {
	if loc == nil {
		loc = time.UTC
	}
	t = t.In(loc)
	b := t.AppendFormat(make([]byte, 0, 32), "2006-01-02 (")
	b = appendOffset(b, t)
	return string(append(b, ')'))
}

// CalendarDate formats the date year-month-day (normalised as [time.Date]
// does) as [Date] does, with the offset of loc (UTC when loc is nil) at
// noon that day: "2026-03-29 (UTC+02:00)". On a date the zone skipped
// (Pacific/Apia went from 2011-12-29 to 2011-12-31) it shows that date with
// the offset after the skip, where Date of the date's noon would show the
// day after.
func CalendarDate(year int, month time.Month, day int, loc *time.Location) string {
	if loc == nil {
		loc = time.UTC
	}
	b := time.Date(year, month, day, 0, 0, 0, 0, time.UTC).AppendFormat(make([]byte, 0, 32), "2006-01-02 (")
	b = appendOffset(b, time.Date(year, month, day, 12, 0, 0, 0, loc))
	return string(append(b, ')'))
}

func appendZone(b []byte, t time.Time) []byte {
	abbr, off := t.Zone()
	if off == 0 && (abbr == "UTC" || abbr == "GMT" || abbr == "Z" || abbr == "") {
		return append(b, "UTC"...)
	}
	if isAlpha(abbr) {
		b = append(b, abbr...)
		b = append(b, " ("...)
		b = appendOffset(b, t)
		return append(b, ')')
	}
	return appendOffset(b, t)
}

func appendOffset(b []byte, t time.Time) []byte {
	if _, off := t.Zone(); off == 0 {
		return append(b, "UTC"...)
	}
	return t.AppendFormat(append(b, "UTC"...), "-07:00")
}

func isAlpha(s string) bool {
	return s != "" && strings.IndexFunc(s, func(r rune) bool {
		return (r < 'A' || r > 'Z') && (r < 'a' || r > 'z')
	}) < 0
}
