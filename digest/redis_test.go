package digest_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/alertmail/alertmail/alerts"
	"github.com/alertmail/alertmail/alerts/alertstest"
	"github.com/alertmail/alertmail/digest"
	"github.com/alertmail/alertmail/digest/redisstore"
	"github.com/alertmail/alertmail/internal/redistest"
)

// redisDigestStore returns a digest store on srv under prefix, on a client
// of its own: a replica.
func redisDigestStore(t *testing.T, srv *redistest.Server, prefix string) digest.Store {
	t.Helper()
	st, err := redisstore.New(redisstore.Config{Client: srv.Client(t), Prefix: prefix})
	require.NoError(t, err, "redisstore.New")
	return st
}

// TestConcurrentMailersRedis is TestConcurrentMailers with four replicas,
// each with its own connection, sharing a real redis-server.
func TestConcurrentMailersRedis(t *testing.T) {
	t.Parallel()
	srv := redistest.New(t)
	prefix := srv.Prefix(t)
	clk := alertstest.NewClock(monday.Add(-time.Hour))
	concurrentMailers(t, clk, func(int) digest.Store { return redisDigestStore(t, srv, prefix) },
		redisDigestStore(t, srv, prefix))
}

// TestWeekRedis: the week of TestSeenMondayAgainWednesday and
// TestFailingTuesday on a real redis-server, one replica per day.
func TestWeekRedis(t *testing.T) {
	t.Parallel()
	srv := redistest.New(t)
	prefix := srv.Prefix(t)
	clk := alertstest.NewClock(monday.Add(-2 * time.Hour))
	rec := alertstest.NewRecorder()
	down := alertstest.NewFailingNotifier(errDown, -1, nil)
	mailer := func(n alerts.Notifier) *digest.Mailer {
		s, err := digest.NewMailer(digest.MailerConfig{Store: redisDigestStore(t, srv, prefix), Clock: clk, Notifier: n})
		require.NoError(t, err, "NewMailer")
		mustSetTenant(t, s, "acme", berlinSubscription())
		return s
	}
	up, failing := mailer(rec), mailer(down)
	ctx := context.Background()

	mustAdd(t, up, threat("x", monday.Add(-time.Hour)))
	require.NoError(t, sendAt(t, up, clk, monday), "SendDue on Monday")
	mustAdd(t, failing, threat("y", tuesday.Add(-time.Hour)))
	mustAdd(t, failing, threat("x", tuesday.Add(-time.Hour))) // reported Monday
	require.ErrorIs(t, sendAt(t, failing, clk, tuesday), errDown, "SendDue on Tuesday")
	mustAdd(t, up, threat("x", wednesday.Add(-time.Hour)))
	mustAdd(t, up, threat("z", wednesday.Add(-time.Hour)))
	require.NoError(t, sendAt(t, up, clk, wednesday), "SendDue on Wednesday")
	require.NoError(t, sendAt(t, up, clk, thursday), "SendDue on Thursday")
	// Thirty-one days after Monday, x is new again.
	later := monday.AddDate(0, 0, 31)
	mustAdd(t, up, threat("x", later.Add(-time.Hour)))
	require.NoError(t, sendAt(t, up, clk, later), "SendDue 31 days later")

	assert.Equal(t, [][]string{{"x"}, {"y", "z"}, {"x"}}, digestsOf(rec.Messages()), "the digests list")
	assert.Equal(t, [][]string{{"y"}}, digestsOf(down.Refused()), "Tuesday's refused digests list")
	items, _, err := up.Store().Pending(ctx, "acme")
	assert.NoError(t, err, "Pending")
	assert.Empty(t, items, "items still pending")
}
