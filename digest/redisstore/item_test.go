package redisstore

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/alertmail/alertmail/digest"
	"github.com/alertmail/alertmail/internal/redisscript"
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

// TestDecodePending decodes replies of digest_pending.lua and refuses
// replies of another shape.
func TestDecodePending(t *testing.T) {
	t.Parallel()
	it := digest.Item{Tenant: "acme", Category: "threat", Asset: "h", Fingerprint: "f", Time: time.Unix(1, 2).UTC()}
	enc, err := appendItem(nil, &it)
	require.NoError(t, err)
	tests := []struct {
		name        string
		reply       any
		wantItems   int
		wantThrough uint64
		wantErr     string
	}{
		{"none ever", []any{"0"}, 0, 0, ""},
		{"none left", []any{"7"}, 0, 7, ""},
		{"two", []any{"7", string(enc), string(enc)}, 2, 9, ""},
		{"empty", []any{}, 0, 0, "the reply has 0 elements; want at least 1"},
		{"removed as integer", []any{int64(7)}, 0, 0, "the items removed is int64 7; want a string"},
		{"removed not a number", []any{"x"}, 0, 0, `items removed "x"`},
		{"item as integer", []any{"7", int64(1)}, 0, 0, "an item is int64 1; want a string"},
		{"item malformed", []any{"7", "\x12"}, 0, 0, "item 0: redisstore: malformed stored digest item"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			items, through, err := decodePending(redisscript.NewReply("digest pending", tt.reply))
			if tt.wantErr != "" {
				require.Errorf(t, err, "decodePending(%#v)", tt.reply)
				assert.Containsf(t, err.Error(), tt.wantErr, "decodePending(%#v) error = %q; want it to contain %q", tt.reply, err, tt.wantErr)
				return
			}
			require.NoErrorf(t, err, "decodePending(%#v)", tt.reply)
			assert.Truef(t, len(items) == tt.wantItems && through == tt.wantThrough,
				"decodePending(%#v) = %d items through %d; want %d through %d", tt.reply, len(items), through, tt.wantItems, tt.wantThrough)
		})
	}
}
