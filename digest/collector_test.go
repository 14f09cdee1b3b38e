package digest_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/alertmail/alertmail/alerts"
	"github.com/alertmail/alertmail/digest"
)

func TestCollectorAdd(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	tests := []struct {
		name  string
		it    digest.Item
		field string // named in the error; "" for none
	}{
		{"good", digest.Item{Tenant: "acme", Time: at}, ""},
		{"no tenant", digest.Item{Asset: "h", Time: at}, "Tenant"},
		{"no time", digest.Item{Tenant: "acme"}, "Time"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := digest.NewCollector(digest.NewMemoryStore())
			err := c.Add(tt.it)
			switch {
			case tt.field == "" && (err != nil || c.Len() != 1):
				t.Errorf("Add(%+v) = %v, Len %d; want nil, 1", tt.it, err, c.Len())
			case tt.field != "" && (!errors.Is(err, digest.ErrInvalidItem) || !strings.Contains(err.Error(), tt.field) || c.Len() != 0):
				t.Errorf("Add(%+v) = %v, Len %d; want ErrInvalidItem naming %s, 0", tt.it, err, c.Len(), tt.field)
			}
		})
	}
}

func TestCollectorAddEvents(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	c := digest.NewCollector(digest.NewMemoryStore())
	err := c.AddEvents(
		alerts.Event{Tenant: "acme", Fingerprint: "1", Time: at},
		alerts.Event{Fingerprint: "2", Time: at}, // no tenant
		alerts.Event{Tenant: "acme", Fingerprint: "3", Time: at},
		alerts.Event{Tenant: "acme", Fingerprint: "4"}, // no time
	)
	if !errors.Is(err, digest.ErrInvalidItem) || !strings.Contains(err.Error(), "Tenant") || !strings.Contains(err.Error(), "Time") {
		t.Errorf("AddEvents = %v; want ErrInvalidItem naming Tenant and Time", err)
	}
	if c.Len() != 2 {
		t.Errorf("Len() = %d after AddEvents; want 2", c.Len())
	}
}

// TestCollectorFlushFailure: a tenant whose append fails keeps its items,
// in order and ahead of newer ones; the other tenants' items go through.
func TestCollectorFlushFailure(t *testing.T) {
	t.Parallel()
	st := &failingAppend{Store: digest.NewMemoryStore(), fail: map[string]bool{"down": true}}
	c := digest.NewCollector(st)
	at := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	add := func(tenant, fp string) {
		if err := c.Add(digest.Item{Tenant: tenant, Fingerprint: fp, Time: at}); err != nil {
			t.Fatal(err)
		}
	}
	add("down", "1")
	add("up", "a")
	add("down", "2")
	ctx := t.Context()
	err := c.Flush(ctx)
	var fe *digest.FlushError
	if !errors.As(err, &fe) || fe.Tenant != "down" || fe.Items != 2 || !errors.Is(err, errStore) {
		t.Fatalf("Flush = %v; want a FlushError for 2 items of tenant down wrapping %v", err, errStore)
	}
	if c.Len() != 2 {
		t.Fatalf("Len() = %d after a failed flush; want 2", c.Len())
	}
	add("down", "3")
	st.fail["down"] = false
	if err := c.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	for tenant, want := range map[string]string{"down": "123", "up": "a"} {
		items, _, err := st.Pending(ctx, tenant)
		if err != nil {
			t.Fatal(err)
		}
		var got strings.Builder
		for _, it := range items {
			got.WriteString(it.Fingerprint)
		}
		if got.String() != want {
			t.Errorf("pending of %s = %q; want %q", tenant, got.String(), want)
		}
	}
	if c.Len() != 0 {
		t.Errorf("Len() = %d after flushing all; want 0", c.Len())
	}
}

type failingAppend struct {
	digest.Store
	fail map[string]bool // not concurrent: the test flushes from one goroutine
}

func (f *failingAppend) Append(ctx context.Context, tenant string, items []digest.Item) error {
	if f.fail[tenant] {
		return errStore
	}
	return f.Store.Append(ctx, tenant, items)
}
