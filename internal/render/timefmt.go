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
	b := appendDateTime(make([]byte, 0, 40), t)
	return string(appendZone(append(b, ' '), t))
}

// appendDateTime appends t as "2006-01-02 15:04:05", as t.AppendFormat
// does but without parsing a layout on every call (DateTime runs once per
// event of every email).
func appendDateTime(b []byte, t time.Time) []byte {
	year, month, day := t.Date()
	if year < 0 || year > 9999 {
		return t.AppendFormat(b, "2006-01-02 15:04:05")
	}
	hour, minute, sec := t.Clock()
	b = append2(append2(b, year/100), year%100)
	b = append2(append(b, '-'), int(month))
	b = append2(append(b, '-'), day)
	b = append2(append(b, ' '), hour)
	b = append2(append(b, ':'), minute)
	return append2(append(b, ':'), sec)
}

// append2 appends n, from 0 to 99, as two digits.
func append2(b []byte, n int) []byte {
	return append(b, byte('0'+n/10), byte('0'+n%10))
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
	_, off := t.Zone()
	b = append(b, "UTC"...)
	if off == 0 {
		return b
	}
	// As the layout "-07:00" prints it: seconds dropped, toward zero.
	minutes, sign := off/60, byte('+')
	if minutes < 0 {
		minutes, sign = -minutes, '-'
	}
	if minutes/60 > 99 {
		return t.AppendFormat(b, "-07:00")
	}
	return append2(append(append2(append(b, sign), minutes/60), ':'), minutes%60)
}

func isAlpha(s string) bool {
	return s != "" && strings.IndexFunc(s, func(r rune) bool {
		return (r < 'A' || r > 'Z') && (r < 'a' || r > 'z')
	}) < 0
}
