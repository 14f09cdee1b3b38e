package alerts_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/alertmail/alertmail/alerts"
	"github.com/alertmail/alertmail/alerts/alertstest"
	"github.com/alertmail/alertmail/digest"
)

func TestValidateTenant(t *testing.T) {
	t.Parallel()
	for _, id := range alertstest.ValidTenants() {
		assert.NoErrorf(t, alerts.ValidateTenant(id), "ValidateTenant(%q)", id)
	}
	long := strings.Repeat("ü", 5000) // 10,000 bytes
	for _, tt := range []struct {
		id, want string
	}{
		{"", `alerts: invalid tenant id "": empty`},
		{strings.Repeat("t", 257), `alerts: invalid tenant id "` + strings.Repeat("t", 64) + `"… (257 bytes): longer than 256 bytes`},
		{long, `alerts: invalid tenant id "` + strings.Repeat("ü", 32) + `"… (10000 bytes): longer than 256 bytes`},
		{"acme\xff", `alerts: invalid tenant id "acme\xff": not valid UTF-8`},
		{"a\r\nb", `alerts: invalid tenant id "a\r\nb": holds a line break (U+000D) at byte 1`},
		{"acme\x00", `alerts: invalid tenant id "acme\x00": holds control character U+0000 at byte 4`},
		{"ünï\u0085", `alerts: invalid tenant id "ünï\u0085": holds control character U+0085 at byte 5`},
		{"acme\u202e", `alerts: invalid tenant id "acme\u202e": holds invisible or line-breaking character U+202E at byte 4`},
		{"acme\u2028", `alerts: invalid tenant id "acme\u2028": holds invisible or line-breaking character U+2028 at byte 4`},
	} {
		err := alerts.ValidateTenant(tt.id)
		require.ErrorIsf(t, err, alerts.ErrInvalidTenant, "ValidateTenant(%.40q)", tt.id)
		assert.EqualErrorf(t, err, tt.want, "ValidateTenant(%.40q)", tt.id)
		te, ok := errors.AsType[*alerts.TenantError](err)
		require.Truef(t, ok, "ValidateTenant(%.40q) = %v; want a *TenantError", tt.id, err)
		assert.Equalf(t, tt.id, te.ID, "ValidateTenant(%.40q): TenantError.ID", tt.id)
		// Only the empty id is also "no tenant".
		assert.Equalf(t, tt.id == "", errors.Is(err, alerts.ErrNoTenant), "errors.Is(ValidateTenant(%.40q), ErrNoTenant)", tt.id)
	}
	for _, id := range alertstest.InvalidTenants() {
		assert.ErrorIsf(t, alerts.ValidateTenant(id), alerts.ErrInvalidTenant, "ValidateTenant(%.40q)", id)
	}
}

func TestValidateTenantAllocs(t *testing.T) {
	for _, id := range []string{"acme", "550e8400-e29b-41d4-a716-446655440000", "ünï"} {
		allocs := testing.AllocsPerRun(100, func() { _ = alerts.ValidateTenant(id) })
		assert.Zerof(t, allocs, "allocations of ValidateTenant(%q)", id)
	}
}

// FuzzValidateTenant checks the rule and why it is the rule: an id it
// accepts is short, valid UTF-8 free of control, invisible and
// line-breaking characters, and comes back from JSON (as a store of JSON
// documents keeps it) byte for byte; an id it refuses gets an error that
// stays short however long the id.
func FuzzValidateTenant(f *testing.F) {
	for _, id := range append(alertstest.ValidTenants(), alertstest.InvalidTenants()...) {
		f.Add(id)
	}
	f.Fuzz(func(t *testing.T, id string) {
		err := alerts.ValidateTenant(id)
		if err != nil {
			require.ErrorIs(t, err, alerts.ErrInvalidTenant)
			require.LessOrEqualf(t, len(err.Error()), 400, "ValidateTenant(%.40q): error message length", id)
			return
		}
		require.True(t, id != "" && len(id) <= alerts.MaxTenantLen && utf8.ValidString(id), "ValidateTenant(%q) = nil", id)
		for _, r := range id {
			require.Falsef(t, unicode.In(r, unicode.Cc, unicode.Cf, unicode.Zl, unicode.Zp), "ValidateTenant(%q) = nil with %U", id, r)
		}
		data, err := json.Marshal(alerts.Document{Tenant: id})
		require.NoError(t, err)
		var back alerts.Document
		require.NoError(t, json.Unmarshal(data, &back))
		require.Equalf(t, id, back.Tenant, "ValidateTenant(%q) = nil, but JSON gives back another id", id)
	})
}

// TestTenantRuleEverywhere: every API of the SDK that takes a tenant id
// refuses the ids ValidateTenant refuses, with its error, before doing
// anything. (The conformance suites check the stores, Redis included.)
// Before the rule, the memory stores took anything, an id with CR/LF went
// into settings, and the Redis store took invalid UTF-8 it could not load
// again.
func TestTenantRuleEverywhere(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cat := alerts.DefaultCatalog()
	settings := alerts.NewMemorySettingsStore(cat)
	d, err := alerts.NewDispatcher(alerts.DispatcherConfig{Settings: settings, Saver: settings, Notifier: alertstest.NewRecorder()})
	require.NoError(t, err)
	mailer, err := digest.NewMailer(digest.MailerConfig{Notifier: alertstest.NewRecorder()})
	require.NoError(t, err)
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	for _, id := range alertstest.InvalidTenants() {
		doc, _ := json.Marshal(alerts.Document{Tenant: id})
		calls := map[string]error{
			"NewSettings":                second(cat.NewSettings(alerts.Document{Tenant: id})),
			"ParseSettings":              second(cat.ParseSettings(doc)),
			"RestoreSettings":            second(cat.RestoreSettings(doc)),
			"MemorySettingsStore.Load":   second(settings.Load(ctx, id)),
			"MemorySettingsStore.Save":   second(settings.Save(ctx, cat.Defaults(id))),
			"Dispatcher.Dispatch":        second(d.Dispatch(ctx, alerts.Event{ID: "e", Tenant: id, Category: alerts.SystemStatus})),
			"Dispatcher.Flush":           second(d.Flush(ctx, id, alerts.SystemStatus)),
			"Dispatcher.Drain":           second(d.Drain(ctx, id, alerts.SystemStatus)),
			"Dispatcher.Load":            second(d.Load(ctx, id)),
			"Dispatcher.Save":            second(d.Save(ctx, cat.Defaults(id))),
			"Dispatcher.DropDisabled":    second(d.DropDisabled(ctx, id)),
			"digest.Mailer.SetTenant":    mailer.SetTenant(id, digest.Subscription{}),
			"digest.Collector.Add":       mailer.Collector().Add(digest.Item{Tenant: id, Time: now}),
			"digest.Append":              digest.Append(ctx, digest.NewMemoryStore(), digest.Item{Tenant: id, Time: now}),
			"digest.MemoryStore.Pending": third(digest.NewMemoryStore().Pending(ctx, id)),
		}
		if id == "" { // the empty tenant of a document means none
			delete(calls, "NewSettings")
		}
		if id == "" || !utf8.ValidString(id) { // JSON has no invalid UTF-8 (it decodes as U+FFFD)
			delete(calls, "ParseSettings")
			delete(calls, "RestoreSettings")
		}
		for name, err := range calls {
			require.ErrorIsf(t, err, alerts.ErrInvalidTenant, "%s(tenant %.40q)", name, id)
			te, ok := errors.AsType[*alerts.TenantError](err)
			require.Truef(t, ok, "%s(tenant %.40q) = %v; want a *TenantError", name, id, err)
			assert.Equalf(t, id, te.ID, "%s(tenant %.40q): TenantError.ID", name, id)
			assert.LessOrEqualf(t, len(err.Error()), 400, "%s(tenant of %d bytes): error message length", name, len(id))
		}
	}
	n, _ := d.Drain(ctx, "acme", alerts.SystemStatus)
	assert.Empty(t, n, "nothing was queued")
}

func second[T any](_ T, err error) error { return err }

func third[T, U any](_ T, _ U, err error) error { return err }
