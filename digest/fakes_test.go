package digest_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/alertmail/alertmail/alerts"
	"github.com/alertmail/alertmail/alerts/alertstest"
	"github.com/alertmail/alertmail/digest"
)

var errDown = errors.New("mail backend down")

// fingerprintsOf returns the fingerprints of msg's lines, sorted.
func fingerprintsOf(msg alerts.Message) []string {
	var out []string
	for _, e := range msg.Events {
		out = append(out, e.Fingerprint)
	}
	slices.Sort(out)
	return out
}

// newMailer returns a mailer with a fake clock at start and a recorder; the
// recorder is the notifier unless cfg has one (which may hand on to it).
func newMailer(t *testing.T, cfg digest.MailerConfig, start time.Time) (*digest.Mailer, *alertstest.Clock, *alertstest.Recorder) {
	t.Helper()
	clk := alertstest.NewClock(start)
	rec := alertstest.NewRecorder()
	if cfg.Notifier == nil {
		cfg.Notifier = rec
	}
	cfg.Clock = clk
	s, err := digest.NewMailer(cfg)
	require.NoError(t, err, "NewMailer")
	return s, clk, rec
}

func mustSetTenant(t *testing.T, s *digest.Mailer, id string, sub digest.Subscription) {
	t.Helper()
	require.NoErrorf(t, s.SetTenant(id, sub), "SetTenant(%q)", id)
}

func mustAdd(t *testing.T, s *digest.Mailer, it digest.Item) {
	t.Helper()
	require.NoErrorf(t, s.Collector().Add(it), "Add(%+v)", it)
}
