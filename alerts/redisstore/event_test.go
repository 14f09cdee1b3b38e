package redisstore

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/alertmail/alertmail/alerts"
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
		require.NoErrorf(t, err, "appendEvent(%+v)", ev)
		got, err := decodeEvent(string(b))
		require.NoErrorf(t, err, "decodeEvent(appendEvent(%+v))", ev)
		assert.Truef(t, got.Time.Equal(ev.Time), "decodeEvent time = %v; want %v", got.Time, ev.Time)
		assert.Equalf(t, ev.Time.Format(time.RFC3339Nano), got.Time.Format(time.RFC3339Nano), "decodeEvent time = %v; want %v", got.Time, ev.Time)
		got.Time, ev.Time = time.Time{}, time.Time{}
		assert.Equalf(t, ev, got, "decodeEvent(appendEvent(%+v)) = %+v", ev, got)
	}
	_, err := decodeEvent("\x02")
	assert.Errorf(t, err, "decodeEvent(%q) = nil error; want one", "\x02")
}

// FuzzDecodeEvent: decoding never panics, and a decoded event survives a
// round trip unchanged (the bytes may differ the first time: the binary
// time form has more than one spelling of a zone).
func FuzzDecodeEvent(f *testing.F) {
	ev := alerts.Event{ID: "e1", Tenant: "acme", Category: "threat", Score: 5, Summary: "s", Time: time.Unix(1, 2).UTC()}
	b, err := appendEvent(nil, &ev)
	require.NoError(f, err)
	f.Add(string(b))
	f.Add("\x01")
	f.Add("\x01\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01")
	f.Fuzz(func(t *testing.T, data string) {
		ev, err := decodeEvent(data)
		if err != nil {
			return
		}
		again, err := appendEvent(nil, &ev)
		require.NoError(t, err, "appendEvent of a decoded event")
		ev2, err := decodeEvent(string(again))
		require.NoErrorf(t, err, "decodeEvent(appendEvent(%+v))", ev)
		third, err := appendEvent(nil, &ev2)
		require.NoError(t, err)
		require.Equalf(t, string(again), string(third), "event %+v does not survive a round trip: %+v", ev, ev2)
		require.Truef(t, ev2.Time.Equal(ev.Time) && ev2.ID == ev.ID && ev2.Summary == ev.Summary,
			"event %+v does not survive a round trip: %+v", ev, ev2)
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
		assert.Equalf(t, tt.want, got, "fixedTime(%v) = %q; want %q", tt.t, got, tt.want)
	}
	// String order is time order.
	a, b := fixedTime(time.Unix(1772442000, 999999999)), fixedTime(time.Unix(1772442001, 0))
	assert.Lessf(t, a, b, "fixedTime of two times a nanosecond apart = %q, %q; want them in order", a, b)
}
