package digest_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/alertmail/alertmail/digest"
)

// pendingFingerprints returns the fingerprints of tenant's pending items in
// order, joined by commas.
func pendingFingerprints(t *testing.T, st digest.Store, tenant string) string {
	t.Helper()
	items, _, err := st.Pending(context.Background(), tenant)
	require.NoErrorf(t, err, "Pending(%q)", tenant)
	fps := make([]string, len(items))
	for i, it := range items {
		fps[i] = it.Fingerprint
	}
	return strings.Join(fps, ",")
}

func TestAppend(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	it := func(tenant, fp string) digest.Item {
		return digest.Item{Tenant: tenant, Fingerprint: fp, Time: at}
	}
	tests := []struct {
		name    string
		items   []digest.Item
		down    string            // the tenant whose appends fail
		want    map[string]string // tenant: pending fingerprints after the call
		invalid string            // the field named by an ErrInvalidItem; "" for none
		failed  string            // the tenant named by a FlushError; "" for none
		nFailed int
	}{
		{"none", nil, "", map[string]string{"acme": ""}, "", "", 0},
		{"one tenant, in order", []digest.Item{it("acme", "1"), it("acme", "2"), it("acme", "3")}, "",
			map[string]string{"acme": "1,2,3"}, "", "", 0},
		{"two tenants, each in order", []digest.Item{it("acme", "1"), it("beta", "a"), it("acme", "2"), it("beta", "b")}, "",
			map[string]string{"acme": "1,2", "beta": "a,b"}, "", "", 0},
		{"invalid item: nothing appended", []digest.Item{it("acme", "1"), {Tenant: "beta", Fingerprint: "x"}, it("acme", "2")}, "",
			map[string]string{"acme": "", "beta": ""}, "Time", "", 0},
		{"no tenant: nothing appended", []digest.Item{it("acme", "1"), {Fingerprint: "x", Time: at}}, "",
			map[string]string{"acme": ""}, "Tenant", "", 0},
		{"one tenant's store call fails", []digest.Item{it("down", "1"), it("acme", "1"), it("down", "2")}, "down",
			map[string]string{"acme": "1", "down": ""}, "", "down", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			st := &failingAppend{Store: digest.NewMemoryStore(), fail: map[string]bool{tt.down: tt.down != ""}}
			err := digest.Append(context.Background(), st, tt.items...)
			switch {
			case tt.invalid != "":
				assert.ErrorIsf(t, err, digest.ErrInvalidItem, "Append(%v)", tt.items)
				assert.ErrorContainsf(t, err, tt.invalid, "Append(%v) = %v; want it to name %s", tt.items, err, tt.invalid)
			case tt.failed != "":
				var fe *digest.FlushError
				if assert.ErrorAsf(t, err, &fe, "Append(%v) = %v; want a FlushError", tt.items, err) {
					assert.Equalf(t, tt.failed, fe.Tenant, "Append(%v): FlushError.Tenant", tt.items)
					assert.Equalf(t, tt.nFailed, fe.Items, "Append(%v): FlushError.Items", tt.items)
					assert.Truef(t, strings.HasPrefix(err.Error(), "digest: "), "Append(%v) = %q; want the prefix \"digest: \"", tt.items, err)
					assert.ErrorContainsf(t, err, tt.failed, "Append(%v) = %v; want it to name %s", tt.items, err, tt.failed)
				}
				assert.ErrorIsf(t, err, errStore, "Append(%v)", tt.items)
			default:
				assert.NoErrorf(t, err, "Append(%v)", tt.items)
			}
			for tenant, want := range tt.want {
				assert.Equalf(t, want, pendingFingerprints(t, st, tenant), "after Append(%v), pending of %s", tt.items, tenant)
			}
		})
	}
}

func TestAppendCancelled(t *testing.T) {
	t.Parallel()
	st := digest.NewMemoryStore()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := digest.Append(ctx, st, digest.Item{Tenant: "acme", Fingerprint: "1", Time: time.Now()})
	assert.ErrorIs(t, err, context.Canceled, "Append with a cancelled context")
	assert.Empty(t, pendingFingerprints(t, st, "acme"), "pending after a cancelled Append")
}

// TestAppendSurvivesCrash: an item added with Append is in the store when
// the call returns, so a mailer of another process (a fresh Mailer on the
// same store, the first one gone without a flush) reports it; one left in a
// collector's buffer is not.
func TestAppendSurvivesCrash(t *testing.T) {
	t.Parallel()
	st := digest.NewMemoryStore()
	crashed, _, _ := newMailer(t, digest.MailerConfig{Store: st}, monday.Add(-2*time.Hour))
	mustAdd(t, crashed, threat("buffered", monday.Add(-time.Hour)))
	require.NoError(t, digest.Append(context.Background(), crashed.Store(), threat("durable", monday.Add(-time.Hour))), "Append")
	// The process dies here: its collector is never flushed.
	next, clk, rec := newMailer(t, digest.MailerConfig{Store: st}, monday.Add(-time.Hour))
	mustSetTenant(t, next, "acme", berlinSubscription())
	require.NoError(t, sendAt(t, next, clk, monday), "SendDue")
	got := rec.Messages()
	require.Len(t, got, 1, "digests after the crash")
	assert.Equal(t, []string{"durable"}, fingerprintsOf(got[0]), "the digest after the crash lists")
}
