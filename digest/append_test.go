package digest_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/alertmail/alertmail/digest"
)

// pendingFingerprints returns the fingerprints of tenant's pending items in
// order, joined by commas.
func pendingFingerprints(t *testing.T, st digest.Store, tenant string) string {
	t.Helper()
	items, _, err := st.Pending(context.Background(), tenant)
	if err != nil {
		t.Fatalf("Pending(%q): %v", tenant, err)
	}
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
			var fe *digest.FlushError
			switch {
			case tt.invalid != "":
				if !errors.Is(err, digest.ErrInvalidItem) || !strings.Contains(err.Error(), tt.invalid) {
					t.Errorf("Append(%v) = %v; want ErrInvalidItem naming %s", tt.items, err, tt.invalid)
				}
			case tt.failed != "":
				if !errors.As(err, &fe) || fe.Tenant != tt.failed || fe.Items != tt.nFailed || !errors.Is(err, errStore) ||
					!strings.HasPrefix(err.Error(), "digest: ") || !strings.Contains(err.Error(), tt.failed) {
					t.Errorf("Append(%v) = %v; want a FlushError for %d items of %s wrapping %v", tt.items, err, tt.nFailed, tt.failed, errStore)
				}
			case err != nil:
				t.Errorf("Append(%v) = %v; want nil", tt.items, err)
			}
			for tenant, want := range tt.want {
				if got := pendingFingerprints(t, st, tenant); got != want {
					t.Errorf("after Append(%v), pending of %s = %q; want %q", tt.items, tenant, got, want)
				}
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
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Append with a cancelled context = %v; want context.Canceled", err)
	}
	if got := pendingFingerprints(t, st, "acme"); got != "" {
		t.Errorf("pending after a cancelled Append = %q; want none", got)
	}
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
	if err := digest.Append(context.Background(), crashed.Store(), threat("durable", monday.Add(-time.Hour))); err != nil {
		t.Fatal(err)
	}
	// The process dies here: its collector is never flushed.
	next, clk, rec := newMailer(t, digest.MailerConfig{Store: st}, monday.Add(-time.Hour))
	mustSetTenant(t, next, "acme", berlinSubscription())
	if err := sendAt(t, next, clk, monday); err != nil {
		t.Fatal(err)
	}
	if got := rec.Messages(); len(got) != 1 || strings.Join(fingerprintsOf(got[0]), ",") != "durable" {
		t.Fatalf("digests after the crash = %v; want one listing [durable]", got)
	}
}
