package redisstore

import (
	"encoding/binary"
	"errors"

	"github.com/alertmail/alertmail/alerts"
	"github.com/alertmail/alertmail/digest"
)

// errBadItem means a stored digest item could not be decoded.
var errBadItem = errors.New("redisstore: malformed stored digest item")

// appendItem appends the encoding of it to b, in the format of events
// (string fields, then the time), without a score.
func appendItem(b []byte, it *digest.Item) ([]byte, error) {
	tm, err := it.Time.MarshalBinary()
	if err != nil {
		return nil, err
	}
	b = append(b, itemFormat)
	for _, s := range [...]string{it.Tenant, string(it.Category), it.Asset, it.Fingerprint, it.Summary, string(tm)} {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	return b, nil
}

// itemFormat is the first byte of an encoded item.
const itemFormat = 0x11

// decodeItem decodes an item encoded by appendItem.
func decodeItem(data string) (digest.Item, error) {
	if len(data) == 0 || data[0] != itemFormat {
		return digest.Item{}, errBadItem
	}
	fs, ok := splitFields(data[1:], 6)
	if !ok {
		return digest.Item{}, errBadItem
	}
	it := digest.Item{Tenant: fs[0], Category: alerts.CategoryID(fs[1]), Asset: fs[2], Fingerprint: fs[3], Summary: fs[4]}
	if err := it.Time.UnmarshalBinary([]byte(fs[5])); err != nil {
		return digest.Item{}, errBadItem
	}
	return it, nil
}

// splitFields splits data into exactly n uvarint-length-prefixed fields.
func splitFields(data string, n int) ([]string, bool) {
	out := make([]string, 0, n)
	for range n {
		l, k := binary.Uvarint([]byte(data[:min(len(data), binary.MaxVarintLen64)]))
		if k <= 0 || l > uint64(len(data)-k) {
			return nil, false
		}
		out = append(out, data[k:k+int(l)])
		data = data[k+int(l):]
	}
	return out, data == ""
}
