package digest_test

import (
	"strings"
	"testing"
	"time"

	"github.com/alertmail/alertmail/alerts"
	"github.com/alertmail/alertmail/digest"
)

func TestItemKeyOf(t *testing.T) {
	t.Parallel()
	// Vectors computed independently (Python hashlib): the first 16 bytes of
	// SHA-256(uvarint(len(asset)) || asset || fingerprint).
	tests := []struct{ asset, fingerprint, want string }{
		{"laptop-7", "rule-1", "e1372c32488ae9142e7b1192d3b8ba22"},
		{"", "", "6e340b9cffb37a989ca544e6bb780a2c"},
		{strings.Repeat("h", 200), "x", "693578b66c948e474c56a11897ce6c2d"}, // two-byte length
	}
	for _, tt := range tests {
		if got := digest.ItemKeyOf(tt.asset, tt.fingerprint).String(); got != tt.want {
			t.Errorf("ItemKeyOf(%q, %q) = %s; want %s", tt.asset, tt.fingerprint, got, tt.want)
		}
	}
	if digest.ItemKeyOf("ab", "c") == digest.ItemKeyOf("a", "bc") {
		t.Errorf("ItemKeyOf(%q, %q) = ItemKeyOf(%q, %q); want them different", "ab", "c", "a", "bc")
	}
	it := digest.Item{Asset: "laptop-7", Fingerprint: "rule-1"}
	if it.Key() != digest.ItemKeyOf("laptop-7", "rule-1") {
		t.Errorf("Item.Key() differs from ItemKeyOf")
	}
	// A value that is not addressable has a key too.
	e := alerts.Event{Asset: "laptop-7", Fingerprint: "rule-1"}
	if digest.ItemOf(e).Key() != it.Key() {
		t.Errorf("ItemOf(%+v).Key() = %v; want %v", e, digest.ItemOf(e).Key(), it.Key())
	}
}

func TestItemOf(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	e := alerts.Event{ID: "ev-1", Tenant: "acme", Category: alerts.Threat, Score: 3, Asset: "h", Fingerprint: "f", Summary: "s", Time: at}
	want := digest.Item{Tenant: "acme", Category: alerts.Threat, Asset: "h", Fingerprint: "f", Summary: "s", Time: at}
	if got := digest.ItemOf(e); got != want {
		t.Errorf("ItemOf(%+v) = %+v; want %+v", e, got, want)
	}
}
