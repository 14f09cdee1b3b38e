package redisstore

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/alertmail/alertmail/alerts"
	"github.com/alertmail/alertmail/internal/redisscript"
)

// TestDecodeGrant decodes replies of the Take script, of the full path
// and of the fast path, and refuses replies of another shape.
func TestDecodeGrant(t *testing.T) {
	t.Parallel()
	ev := alerts.Event{ID: "e1", Tenant: "acme", Category: alerts.ActiveThreat, Score: 9, Time: time.Unix(1772442000, 5).UTC()}
	enc, err := appendEvent(nil, &ev)
	require.NoError(t, err)
	deadline := time.Unix(1772442300, 7)
	tests := []struct {
		name    string
		reply   any
		want    alerts.Grant
		wantErr string
	}{
		{"leased", []any{int64(1), int64(1772442300), int64(7), int64(0), string(enc)},
			alerts.Grant{Lease: "L", Deadline: deadline, Events: []alerts.Event{ev}}, ""},
		{"suppressed", []any{int64(0), int64(1772442300), int64(7), int64(3)},
			alerts.Grant{Next: deadline, Pending: 3}, ""},
		{"nothing pending", []any{int64(0), int64(0), int64(0), int64(0)}, alerts.Grant{}, ""},
		{"not an array", int64(1), alerts.Grant{}, "the reply is int64 1; want an array"},
		{"too short", []any{int64(0), int64(0), int64(0)}, alerts.Grant{}, "the reply has 3 elements; want at least 4"},
		{"time as text", []any{int64(0), "01772442300", int64(7), int64(3)}, alerts.Grant{},
			"the time's seconds is string 01772442300; want an integer"},
		{"leased neither 0 nor 1", []any{int64(2), int64(0), int64(0), int64(0)}, alerts.Grant{}, "leased is 2; want 0 or 1"},
		{"event not a string", []any{int64(1), int64(1), int64(0), int64(0), int64(9)}, alerts.Grant{},
			"a leased event is int64 9; want a string"},
		{"event malformed", []any{int64(1), int64(1), int64(0), int64(0), "\x02"}, alerts.Grant{}, "malformed stored event"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := decodeGrant(redisscript.NewReply("limiter take", tt.reply), alerts.LimitKey{Tenant: "acme"}, "L")
			if tt.wantErr != "" {
				require.Errorf(t, err, "decodeGrant(%#v)", tt.reply)
				assert.Containsf(t, err.Error(), tt.wantErr, "decodeGrant(%#v) error = %q; want it to contain %q", tt.reply, err, tt.wantErr)
				return
			}
			require.NoErrorf(t, err, "decodeGrant(%#v)", tt.reply)
			assert.Truef(t, got.Deadline.Equal(tt.want.Deadline) && got.Next.Equal(tt.want.Next),
				"decodeGrant(%#v) = deadline %v, next %v; want %v, %v", tt.reply, got.Deadline, got.Next, tt.want.Deadline, tt.want.Next)
			got.Deadline, got.Next, tt.want.Deadline, tt.want.Next = time.Time{}, time.Time{}, time.Time{}, time.Time{}
			assert.Equalf(t, tt.want, got, "decodeGrant(%#v) = %+v; want %+v", tt.reply, got, tt.want)
		})
	}
}
