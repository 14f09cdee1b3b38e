package redisstore

import (
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
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
		{"leased", []any{int64(1), int64(1772442300), int64(7), int64(0), int64(2), int64(1), string(enc)},
			alerts.Grant{Lease: "L", Deadline: deadline, Events: []alerts.Event{ev}, Duplicates: 2, Failures: 1}, ""},
		{"suppressed", []any{int64(0), int64(1772442300), int64(7), int64(3), int64(1), int64(4)},
			alerts.Grant{Next: deadline, Pending: 3, Duplicates: 1, Failures: 4}, ""},
		{"nothing pending", []any{int64(0), int64(0), int64(0), int64(0), int64(0), int64(0)}, alerts.Grant{}, ""},
		{"not an array", int64(1), alerts.Grant{}, "the reply is int64 1; want an array"},
		{"too short", []any{int64(0), int64(0), int64(0), int64(0), int64(0)}, alerts.Grant{}, "the reply has 5 elements; want at least 6"},
		{"time as text", []any{int64(0), "01772442300", int64(7), int64(3), int64(0), int64(0)}, alerts.Grant{},
			"the time's seconds is string 01772442300; want an integer"},
		{"duplicates as text", []any{int64(0), int64(0), int64(0), int64(0), "1", int64(0)}, alerts.Grant{},
			"duplicates is string 1; want an integer"},
		{"leased neither 0 nor 1", []any{int64(2), int64(0), int64(0), int64(0), int64(0), int64(0)}, alerts.Grant{}, "leased is 2; want 0 or 1"},
		{"event not a string", []any{int64(1), int64(1), int64(0), int64(0), int64(0), int64(0), int64(9)}, alerts.Grant{},
			"a leased event is int64 9; want a string"},
		{"event malformed", []any{int64(1), int64(1), int64(0), int64(0), int64(0), int64(0), "\x02"}, alerts.Grant{}, "malformed stored event"},
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
	// Queue takes no lease: a reply that says it did is refused.
	_, err = decodeGrant(redisscript.NewReply("limiter queue", []any{int64(1), int64(1), int64(0), int64(0), int64(0), int64(0)}), alerts.LimitKey{Tenant: "acme"}, "")
	assert.ErrorContainsf(t, err, "0 for Queue", "decodeGrant of a lease for Queue: error = %v", err)
}

// TestTakeArgsAllocs guards the allocations of Take's arguments (17): one
// per string made (the lease id, the times, the packed numbers with the
// due index member, the encoded event), one per boxed argument, and the
// keys (one string for all of them, and the slice). The plain
// spelling of them (fmt.Sprintf, string concatenation, an event grown
// field by field) made 26, and internal/bench/redis measured fewer
// decisions per second on a pipelined client with it.
func TestTakeArgsAllocs(t *testing.T) {
	s, err := New(Config{Client: redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})}) // never dialled
	require.NoError(t, err)
	key := alerts.LimitKey{Tenant: "acme", Category: alerts.ActiveThreat}
	p := alerts.FrequencyLimit{}.WithDefaults()
	now := time.Unix(1772442000, 123)
	evs := []alerts.Event{{ID: "e1", Tenant: "acme", Category: alerts.ActiveThreat, Score: 9, Summary: "s", Time: now.UTC()}}
	allocs := testing.AllocsPerRun(100, func() {
		if _, _, _, err := s.takeArgs(key, p, now, time.Minute, evs); err != nil {
			t.Fatal(err)
		}
	})
	const most = 18
	assert.LessOrEqualf(t, allocs, float64(most), "takeArgs allocates %v times; want at most %d", allocs, most)
}

func TestSpaced(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		nums []int64
		want string
	}{
		{nil, ""},
		{[]int64{0}, "0"},
		{[]int64{5, 14400, 0, -1, 999999999}, "5 14400 0 -1 999999999"},
	} {
		got := spaced(tt.nums...)
		assert.Equalf(t, tt.want, got, "spaced(%v) = %q; want %q", tt.nums, got, tt.want)
	}
}

func TestNewID(t *testing.T) {
	t.Parallel()
	s, err := New(Config{Client: redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})}) // never dialled
	require.NoError(t, err)
	seen := map[string]bool{}
	for range 1000 {
		id := s.newID()
		require.Truef(t, strings.HasPrefix(id, s.idBase+"."), "newID() = %q; want the prefix %q", id, s.idBase+".")
		require.Falsef(t, seen[id], "newID() = %q twice", id)
		seen[id] = true
	}
	other, err := New(Config{Client: redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})})
	require.NoError(t, err)
	assert.NotEqualf(t, s.idBase, other.idBase, "two stores share the id base %q", s.idBase)
}
