package redisstore

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/alertmail/alertmail/digest"
)

// FuzzDecodeItem: decoding a stored digest item never panics, and a
// decoded item survives a round trip unchanged.
func FuzzDecodeItem(f *testing.F) {
	it := digest.Item{Tenant: "acme", Category: "threat", Asset: "h", Fingerprint: "f", Summary: "s\r\n", Time: time.Unix(1, 2).UTC()}
	b, err := appendItem(nil, &it)
	require.NoError(f, err)
	f.Add(string(b))
	f.Add("\x11")
	f.Add("\x11\x00\x00\x00\x00\x00\x00")
	f.Fuzz(func(t *testing.T, data string) {
		it, err := decodeItem(data)
		if err != nil {
			return
		}
		again, err := appendItem(nil, &it)
		require.NoError(t, err, "appendItem of a decoded item")
		it2, err := decodeItem(string(again))
		require.NoErrorf(t, err, "decodeItem(appendItem(%+v))", it)
		same := it2.Tenant == it.Tenant && it2.Asset == it.Asset && it2.Fingerprint == it.Fingerprint &&
			it2.Summary == it.Summary && it2.Category == it.Category && it2.Time.Equal(it.Time)
		require.Truef(t, same, "item %+v does not survive a round trip: %+v", it, it2)
	})
}
