package mailauth_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/alertmail/alertmail/mailauth"
)

func TestMigrationDomainAt(t *testing.T) {
	t.Parallel()
	// The seed's schedule: the move to the platform domain takes effect at
	// the start of 2023, per application.
	at := time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC)
	m := mailauth.Migration{Old: "corp.example", New: "platform.example", At: at}
	tests := []struct {
		name string
		t    time.Time
		want string
	}{
		{"long before", at.AddDate(-1, 0, 0), "corp.example"},
		{"a nanosecond before", at.Add(-time.Nanosecond), "corp.example"},
		{"at the instant", at, "platform.example"},
		{"at the instant in another zone", at.In(time.FixedZone("UTC+5", 5*3600)), "platform.example"},
		{"a nanosecond after", at.Add(time.Nanosecond), "platform.example"},
		{"long after", at.AddDate(3, 0, 0), "platform.example"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := m.DomainAt(tt.t)
			assert.Equalf(t, tt.want, got, "DomainAt(%v) = %q; want %q", tt.t, got, tt.want)
		})
	}
}

// TestPolicyDomainFollowsClock reads the migration against the policy's
// clock, each application on its own date.
func TestPolicyDomainFollowsClock(t *testing.T) {
	t.Parallel()
	scans := time.Date(2022, 12, 31, 0, 0, 0, 0, time.UTC)
	reports := time.Date(2023, 3, 31, 0, 0, 0, 0, time.UTC)
	now := scans.Add(-time.Hour)
	cfg := validConfig()
	cfg.Clock = mailauth.ClockFunc(func() time.Time { return now })
	cfg.Applications = []mailauth.Application{
		{ID: mailauth.ScanNotifications, Migration: &mailauth.Migration{Old: "corp.example", At: scans}},
		{ID: mailauth.ScheduledReports, Migration: &mailauth.Migration{Old: "corp.example", New: "reports.platform.example", At: reports}},
		{ID: mailauth.AlertEmails},
	}
	p, err := mailauth.NewPolicy(cfg)
	require.NoError(t, err)
	steps := []struct {
		now                  time.Time
		scans, reports, alrt string
	}{
		{scans.Add(-time.Hour), "corp.example", "corp.example", "platform.example"},
		{scans, "platform.example", "corp.example", "platform.example"},
		{reports.Add(-time.Nanosecond), "platform.example", "corp.example", "platform.example"},
		{reports, "platform.example", "reports.platform.example", "platform.example"},
	}
	for _, s := range steps {
		now = s.now
		for app, want := range map[mailauth.App]string{mailauth.ScanNotifications: s.scans, mailauth.ScheduledReports: s.reports, mailauth.AlertEmails: s.alrt} {
			got, err := p.Domain(app)
			if assert.NoErrorf(t, err, "at %v: Domain(%q)", now, app) {
				assert.Equalf(t, want, got, "at %v: Domain(%q) = %q; want %q", now, app, got, want)
			}
			got, err = p.DomainAt(app, s.now)
			if assert.NoErrorf(t, err, "DomainAt(%q, %v)", app, s.now) {
				assert.Equalf(t, want, got, "DomainAt(%q, %v) = %q; want %q", app, s.now, got, want)
			}
		}
	}
}
