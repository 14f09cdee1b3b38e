package mailauthsender

import (
	"context"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/alertmail/alertmail/alerts/alertstest"
	"github.com/alertmail/alertmail/mailauth"
)

// TestSweep: tenants no longer seen are forgotten once their choice has
// expired, as the cache grows, so memory follows the tenants in use.
func TestSweep(t *testing.T) {
	t.Parallel()
	clock := alertstest.NewClock(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	policy, err := mailauth.NewPolicy(mailauth.PolicyConfig{
		CorporateDomain: "corp.example",
		PlatformDomain:  "platform.example",
		SendingIPs:      []netip.Prefix{netip.MustParsePrefix("192.0.2.10/32")},
		Clock:           clock,
	})
	require.NoError(t, err, "NewPolicy")
	c, err := New(Config{
		Policy: policy,
		// No sender of their own: the policy asks no DNS.
		Customer: func(context.Context, string) (mailauth.Customer, mailauth.App, error) {
			return mailauth.Customer{}, "", nil
		},
		TTL:   time.Minute,
		Clock: clock,
	})
	require.NoError(t, err, "New")
	ask := func(prefix string) {
		for i := range 100 {
			_, err := c.Sender(context.Background(), fmt.Sprint(prefix, i), "")
			require.NoError(t, err, "Sender")
		}
	}
	ask("old-")
	assert.Len(t, c.entries, 100, "entries after 100 tenants")
	clock.Advance(2 * time.Minute)
	ask("new-")
	assert.Len(t, c.entries, 100, "entries after 100 more tenants, the first 100 expired")
	for t2 := range c.entries {
		assert.Containsf(t, t2, "new-", "entry %q kept after its choice expired", t2)
	}
}
