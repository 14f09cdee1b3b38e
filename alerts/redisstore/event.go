package redisstore

import (
	"encoding/binary"
	"errors"
	"math"
	"slices"

	"github.com/alertmail/alertmail/alerts"
)

// eventFormat is the first byte of an encoded event, so that the format can
// change without misreading events written by an older version.
const eventFormat = 1

// errBadEvent means a stored event could not be decoded.
var errBadEvent = errors.New("redisstore: malformed stored event")

// appendEvent appends the encoding of ev to b: a format byte, then the
// string fields each as a uvarint length and bytes, the score as 8 bytes,
// and the time in its binary form. Unlike JSON it keeps every byte of the
// strings (invalid UTF-8 included) and the time's offset, so an event comes
// back exactly as it was given.
func appendEvent(b []byte, ev *alerts.Event) ([]byte, error) {
	var stack [32]byte
	tm, err := ev.Time.AppendBinary(stack[:0])
	if err != nil {
		return nil, err
	}
	fields := [...]string{ev.ID, ev.Tenant, string(ev.Category), ev.Asset, ev.Fingerprint, ev.Summary}
	size := 1 + 8 + binary.MaxVarintLen64 + len(tm) // format, score, time
	for _, s := range fields {
		size += binary.MaxVarintLen64 + len(s)
	}
	b = slices.Grow(b, size) // one allocation, not one per field
	b = append(b, eventFormat)
	for _, s := range fields {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	b = binary.BigEndian.AppendUint64(b, math.Float64bits(ev.Score))
	b = binary.AppendUvarint(b, uint64(len(tm)))
	return append(b, tm...), nil
}

// decodeEvent decodes an event encoded by appendEvent.
func decodeEvent(data string) (alerts.Event, error) {
	var ev alerts.Event
	if len(data) == 0 || data[0] != eventFormat {
		return ev, errBadEvent
	}
	rest := data[1:]
	field := func() (string, bool) {
		n, k := binary.Uvarint([]byte(rest[:min(len(rest), binary.MaxVarintLen64)]))
		if k <= 0 || n > uint64(len(rest)-k) {
			return "", false
		}
		s := rest[k : k+int(n)]
		rest = rest[k+int(n):]
		return s, true
	}
	var fs [6]string
	for i := range fs {
		s, ok := field()
		if !ok {
			return alerts.Event{}, errBadEvent
		}
		fs[i] = s
	}
	if len(rest) < 8 {
		return alerts.Event{}, errBadEvent
	}
	score := math.Float64frombits(binary.BigEndian.Uint64([]byte(rest[:8])))
	rest = rest[8:]
	tm, ok := field()
	if !ok || rest != "" {
		return alerts.Event{}, errBadEvent
	}
	if err := ev.Time.UnmarshalBinary([]byte(tm)); err != nil {
		return alerts.Event{}, errBadEvent
	}
	ev.ID, ev.Tenant, ev.Category = fs[0], fs[1], alerts.CategoryID(fs[2])
	ev.Asset, ev.Fingerprint, ev.Summary = fs[3], fs[4], fs[5]
	ev.Score = score
	return ev, nil
}

// decodeEvents decodes encoded events.
func decodeEvents(encs []string) ([]alerts.Event, error) {
	if len(encs) == 0 {
		return nil, nil
	}
	evs := make([]alerts.Event, len(encs))
	for i, enc := range encs {
		ev, err := decodeEvent(enc)
		if err != nil {
			return nil, err
		}
		evs[i] = ev
	}
	return evs, nil
}
