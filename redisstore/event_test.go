package redisstore

import (
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/alertmail/alertmail/alerts"
	"github.com/alertmail/alertmail/digest"
)

func TestEventRoundTrip(t *testing.T) {
	t.Parallel()
	berlin := time.FixedZone("CET", 3600)
	tests := []alerts.Event{
		{},
		{ID: "e1", Tenant: "acme", Category: alerts.ActiveThreat, Score: 4.5, Asset: "host-1",
			Fingerprint: "rule-9:abc", Summary: "Mimikatz on host-1", Time: time.Date(2026, 3, 29, 1, 30, 0, 123456789, berlin)},
		{ID: "\xff\xfe not utf-8", Tenant: "a\r\n{b}*", Score: math.Inf(-1), Time: time.Unix(-5, 7).UTC()},
	}
	for _, ev := range tests {
		b, err := appendEvent(nil, &ev)
		if err != nil {
			t.Fatalf("appendEvent(%+v) error = %v", ev, err)
		}
		got, err := decodeEvent(string(b))
		if err != nil {
			t.Fatalf("decodeEvent(appendEvent(%+v)) error = %v", ev, err)
		}
		if !got.Time.Equal(ev.Time) || got.Time.Format(time.RFC3339Nano) != ev.Time.Format(time.RFC3339Nano) {
			t.Errorf("decodeEvent time = %v; want %v", got.Time, ev.Time)
		}
		got.Time, ev.Time = time.Time{}, time.Time{}
		if !reflect.DeepEqual(got, ev) {
			t.Errorf("decodeEvent(appendEvent(%+v)) = %+v", ev, got)
		}
	}
	if _, err := decodeEvent("\x02"); err == nil {
		t.Errorf("decodeEvent(%q) = nil error; want one", "\x02")
	}
}

// FuzzDecodeEvent: decoding never panics, and a decoded event survives a
// round trip unchanged (the bytes may differ the first time: the binary
// time form has more than one spelling of a zone).
func FuzzDecodeEvent(f *testing.F) {
	ev := alerts.Event{ID: "e1", Tenant: "acme", Category: "threat", Score: 5, Summary: "s", Time: time.Unix(1, 2).UTC()}
	b, _ := appendEvent(nil, &ev)
	f.Add(string(b))
	f.Add("\x01")
	f.Add("\x01\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01")
	f.Fuzz(func(t *testing.T, data string) {
		ev, err := decodeEvent(data)
		if err != nil {
			return
		}
		again, err := appendEvent(nil, &ev)
		if err != nil {
			t.Fatalf("appendEvent of a decoded event: %v", err)
		}
		ev2, err := decodeEvent(string(again))
		if err != nil {
			t.Fatalf("decodeEvent(appendEvent(%+v)) error = %v", ev, err)
		}
		third, _ := appendEvent(nil, &ev2)
		if string(third) != string(again) || !ev2.Time.Equal(ev.Time) || ev2.ID != ev.ID || ev2.Summary != ev.Summary {
			t.Fatalf("event %+v does not survive a round trip: %+v", ev, ev2)
		}
	})
}

// FuzzDecodeItem: decoding a stored digest item never panics, and a
// decoded item survives a round trip unchanged.
func FuzzDecodeItem(f *testing.F) {
	it := digest.Item{Tenant: "acme", Category: "threat", Asset: "h", Fingerprint: "f", Summary: "s\r\n", Time: time.Unix(1, 2).UTC()}
	b, _ := appendItem(nil, &it)
	f.Add(string(b))
	f.Add("\x11")
	f.Add("\x11\x00\x00\x00\x00\x00\x00")
	f.Fuzz(func(t *testing.T, data string) {
		it, err := decodeItem(data)
		if err != nil {
			return
		}
		again, err := appendItem(nil, &it)
		if err != nil {
			t.Fatalf("appendItem of a decoded item: %v", err)
		}
		it2, err := decodeItem(string(again))
		if err != nil || it2.Tenant != it.Tenant || it2.Asset != it.Asset || it2.Fingerprint != it.Fingerprint ||
			it2.Summary != it.Summary || it2.Category != it.Category || !it2.Time.Equal(it.Time) {
			t.Fatalf("item %+v does not survive a round trip: %+v, %v", it, it2, err)
		}
	})
}

func TestFixedTime(t *testing.T) {
	t.Parallel()
	tests := []struct {
		t    time.Time
		want string
	}{
		{time.Unix(0, 0), "00000000000000000000"},
		{time.Unix(1772442000, 123), "01772442000000000123"},
		{time.Unix(99999999999, 999999999), "99999999999999999999"},
		{time.Unix(-1, 0), ""},
		{time.Unix(1e11, 0), ""},
	}
	for _, tt := range tests {
		got := fixedTime(tt.t)
		if got != tt.want {
			t.Errorf("fixedTime(%v) = %q; want %q", tt.t, got, tt.want)
			continue
		}
		if got == "" {
			continue
		}
		s, n, ok := parseFixedTime(got)
		if !ok || !time.Unix(s, n).Equal(tt.t) {
			t.Errorf("parseFixedTime(%q) = %d, %d, %v; want %v", got, s, n, ok, tt.t)
		}
	}
	for _, bad := range []string{"", "0177244200000000012", "0177244200000000012x", "-1772442000000000123"} {
		if _, _, ok := parseFixedTime(bad); ok {
			t.Errorf("parseFixedTime(%q) ok; want not", bad)
		}
	}
}
