package digest_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/alertmail/alertmail/alerts"
	"github.com/alertmail/alertmail/alerts/alertstest"
	"github.com/alertmail/alertmail/digest"
)

// pipeline is a Dispatcher and a Mailer wired as a host wires them: one
// settings store for both, the mailer as the dispatcher's Digest, one
// clock.
type pipeline struct {
	settings *alerts.MemorySettingsStore
	d        *alerts.Dispatcher
	m        *digest.Mailer
	clock    *alertstest.Clock
	alerts   *alertstest.Recorder // alert emails
	digests  *alertstest.Recorder // digest emails
}

// newPipeline returns a pipeline at start whose tenant "acme" gets its
// digest at 09:00 Berlin; Threat fires at 5 and Active Threat at 4.
func newPipeline(t *testing.T, start time.Time) *pipeline {
	t.Helper()
	p := &pipeline{
		settings: alerts.NewMemorySettingsStore(nil),
		clock:    alertstest.NewClock(start),
		alerts:   alertstest.NewRecorder(),
		digests:  alertstest.NewRecorder(),
	}
	var err error
	p.m, err = digest.NewMailer(digest.MailerConfig{Notifier: p.digests, Settings: p.settings, Clock: p.clock})
	require.NoError(t, err, "NewMailer")
	mustSetTenant(t, p.m, "acme", digest.Subscription{Schedule: digest.Schedule{Hour: 9, Location: berlin}})
	p.d, err = alerts.NewDispatcher(alerts.DispatcherConfig{
		Settings:   p.settings,
		Saver:      p.settings,
		Notifier:   p.alerts,
		Digest:     p.m,
		Thresholds: map[alerts.CategoryID]alerts.Threshold{alerts.ActiveThreat: 4, alerts.Threat: 5},
		Clock:      p.clock,
	})
	require.NoError(t, err, "NewDispatcher")
	return p
}

// save saves acme's settings through the dispatcher: Threat on or off
// (Active Threat always on) and the recipients given.
func (p *pipeline) save(t *testing.T, threat bool, recipients ...string) {
	t.Helper()
	ctx := context.Background()
	cur, err := p.d.Load(ctx, "acme")
	require.NoError(t, err, "Load")
	draft := cur.Edit()
	require.NoError(t, draft.Set(alerts.ActiveThreat, true), "Set(active-threat)")
	require.NoError(t, draft.Set(alerts.Threat, threat), "Set(threat)")
	require.NoError(t, draft.SetRecipients(recipients), "SetRecipients")
	_, err = p.d.Save(ctx, draft.Settings())
	require.NoError(t, err, "Dispatcher.Save")
}

// dispatch dispatches an event of acme and checks its outcome.
func (p *pipeline) dispatch(t *testing.T, cat alerts.CategoryID, fp string, score float64, want alerts.Outcome) {
	t.Helper()
	ev := alerts.Event{ID: fp, Tenant: "acme", Category: cat, Score: score, Asset: "laptop-7", Fingerprint: fp, Summary: "detection " + fp, Time: p.clock.Now()}
	res, err := p.d.Dispatch(context.Background(), ev)
	require.NoErrorf(t, err, "Dispatch(%s, score %v)", fp, score)
	require.Equalf(t, want, res.Outcome, "Dispatch(%s, score %v) = %+v; want %s", fp, score, res, want)
}

// pending returns the fingerprints of acme's pending digest items.
func (p *pipeline) pending(t *testing.T) []string {
	t.Helper()
	items, _, err := p.m.Store().Pending(context.Background(), "acme")
	require.NoError(t, err, "Pending")
	var fps []string
	for _, it := range items {
		fps = append(fps, it.Fingerprint)
	}
	return fps
}

// TestBelowThresholdToDigest is the route of issue 16: events under the
// threshold reach the digest, which goes to the recipients of the alert
// settings; a save that turns Threat off removes its lines from the next
// digest, and they do not come back when it is turned on again.
func TestBelowThresholdToDigest(t *testing.T) {
	t.Parallel()
	p := newPipeline(t, monday.Add(-3*time.Hour))
	p.save(t, true, "soc@acme.example", "ciso@acme.example")

	p.dispatch(t, alerts.ActiveThreat, "at-low", 2, alerts.BelowThreshold)
	p.dispatch(t, alerts.Threat, "th-low", 3, alerts.BelowThreshold)
	p.dispatch(t, alerts.ActiveThreat, "at-high", 9, alerts.Sent)
	assert.Equal(t, []string{"at-low", "th-low"}, p.pending(t), "items pending for Monday's digest")

	require.NoError(t, sendAt(t, p.m, p.clock, monday), "SendDue on Monday")
	msgs := p.digests.Messages()
	require.Len(t, msgs, 1, "digests on Monday")
	assert.Equal(t, []string{"at-low", "th-low"}, fingerprintsOf(msgs[0]), "Monday's digest lists")
	assert.Equal(t, []string{"soc@acme.example", "ciso@acme.example"}, msgs[0].To, "Monday's digest goes to the settings' recipients")
	assert.Equal(t, 1, p.alerts.Len(), "alert emails")

	// Monday evening: two more under the threshold, then Threat is turned
	// off and the recipients change, in one save.
	p.clock.Set(monday.Add(10 * time.Hour))
	p.dispatch(t, alerts.ActiveThreat, "at-low-2", 1, alerts.BelowThreshold)
	p.dispatch(t, alerts.Threat, "th-low-2", 1, alerts.BelowThreshold)
	p.save(t, false, "soc@acme.example")
	p.dispatch(t, alerts.Threat, "th-low-3", 1, alerts.CategoryDisabled)

	require.NoError(t, sendAt(t, p.m, p.clock, tuesday), "SendDue on Tuesday")
	msgs = p.digests.Messages()
	require.Len(t, msgs, 2, "digests by Tuesday")
	assert.Equal(t, []string{"at-low-2"}, fingerprintsOf(msgs[1]), "Tuesday's digest lists, Threat being off")
	assert.NotContains(t, msgs[1].Text, "detection th-low-2", "Tuesday's digest text")
	assert.Equal(t, []string{"soc@acme.example"}, msgs[1].To, "Tuesday's digest goes to the recipients saved since")
	assert.Empty(t, p.pending(t), "items pending after Tuesday's digest: the Threat item is dropped, not kept")

	// Threat on again: nothing of what was dropped comes back.
	p.save(t, true, "soc@acme.example")
	require.NoError(t, sendAt(t, p.m, p.clock, wednesday), "SendDue on Wednesday")
	assert.Equal(t, 2, p.digests.Len(), "digests by Wednesday: nothing new, no email")
}

// TestDigestWithoutRecipients: a tenant whose settings have no recipients
// gets no digest, no error and no retry, and loses nothing: its items wait
// for the first digest after recipients are saved.
func TestDigestWithoutRecipients(t *testing.T) {
	t.Parallel()
	p := newPipeline(t, monday.Add(-3*time.Hour))
	p.save(t, true) // no recipients
	p.dispatch(t, alerts.Threat, "x", 1, alerts.BelowThreshold)
	p.dispatch(t, alerts.ActiveThreat, "y", 9, alerts.NoRecipients) // an alert waits as well

	require.NoError(t, sendAt(t, p.m, p.clock, monday), "SendDue on Monday, no recipients")
	assert.Zero(t, p.digests.Len(), "digests without recipients")
	assert.Equal(t, []string{"x"}, p.pending(t), "items pending after Monday")
	_, next := digest.Schedule{Hour: 9, Location: berlin}.Next(monday)
	assert.Equal(t, next, p.m.NextDue(), "NextDue(): tomorrow's digest, no retry of today's")
	require.NoError(t, sendAt(t, p.m, p.clock, monday.Add(time.Hour)), "SendDue an hour later")
	assert.Zero(t, p.digests.Len(), "digests an hour later")

	p.clock.Set(monday.Add(2 * time.Hour))
	p.dispatch(t, alerts.Threat, "z", 1, alerts.BelowThreshold)
	p.save(t, true, "soc@acme.example")
	require.NoError(t, sendAt(t, p.m, p.clock, tuesday), "SendDue on Tuesday")
	msgs := p.digests.Messages()
	require.Len(t, msgs, 1, "digests on Tuesday")
	assert.Equal(t, []string{"x", "z"}, fingerprintsOf(msgs[0]), "Tuesday's digest: Monday's item too")
	assert.Equal(t, []string{"soc@acme.example"}, msgs[0].To, "Tuesday's recipients")
}

// TestDigestSettingsFail: settings that cannot be loaded fail the attempt
// (a SendError naming the tenant), and the digest goes out on the retry.
func TestDigestSettingsFail(t *testing.T) {
	t.Parallel()
	store := alerts.NewMemorySettingsStore(nil)
	cur, err := store.Load(context.Background(), "acme")
	require.NoError(t, err, "Load")
	draft := cur.Edit()
	require.NoError(t, draft.SetRecipients([]string{"soc@acme.example"}), "SetRecipients")
	require.NoError(t, draft.Set(alerts.Threat, true), "Set(threat)") // off by default
	_, err = store.Save(context.Background(), draft.Settings())
	require.NoError(t, err, "Save")
	errDB := errors.New("settings database down")
	var mu sync.Mutex
	down := true
	loader := alerts.SettingsLoaderFunc(func(ctx context.Context, tenant string) (*alerts.Settings, error) {
		mu.Lock()
		defer mu.Unlock()
		if down {
			return nil, errDB
		}
		return store.Load(ctx, tenant)
	})
	s, clk, rec := newMailer(t, digest.MailerConfig{Settings: loader}, monday.Add(-2*time.Hour))
	mustSetTenant(t, s, "acme", digest.Subscription{Schedule: digest.Schedule{Hour: 9, Location: berlin}})
	mustAdd(t, s, threat("x", monday.Add(-time.Hour)))
	err = sendAt(t, s, clk, monday)
	require.ErrorIsf(t, err, errDB, "SendDue with the settings down = %v", err)
	var se *digest.SendError
	require.ErrorAsf(t, err, &se, "SendDue with the settings down = %v; want a *SendError", err)
	assert.Equal(t, "acme", se.Tenant, "SendError.Tenant")
	assert.Zero(t, rec.Len(), "digests with the settings down")
	assert.WithinDuration(t, monday.Add(digest.DefaultRetryInterval), s.NextDue(), 0, "NextDue(): a retry")
	mu.Lock()
	down = false
	mu.Unlock()
	require.NoError(t, sendAt(t, s, clk, s.NextDue()), "SendDue on the retry")
	assert.Equal(t, [][]string{{"x"}}, digestsOf(rec.Messages()), "digests after the retry")
}

// TestSetTenantWithSettingsAndSender: what the settings and the sender
// policy decide cannot be set per subscription too.
func TestSetTenantWithSettingsAndSender(t *testing.T) {
	t.Parallel()
	sender := alerts.SenderPolicyFunc(func(context.Context, string, alerts.CategoryID) (alerts.Sender, error) {
		return alerts.Sender{}, nil
	})
	s, _, _ := newMailer(t, digest.MailerConfig{Settings: alerts.NewMemorySettingsStore(nil), Sender: sender}, monday)
	for _, tc := range []struct {
		sub  digest.Subscription
		want string
	}{
		{digest.Subscription{To: []string{"soc@acme.example"}}, `digest: bad tenant "acme": To is set, but MailerConfig.Settings gives the recipients`},
		{digest.Subscription{From: "alerts@platform.example"}, `digest: bad tenant "acme": From or ReplyTo is set, but MailerConfig.Sender chooses them`},
		{digest.Subscription{ReplyTo: "soc@acme.example"}, `digest: bad tenant "acme": From or ReplyTo is set, but MailerConfig.Sender chooses them`},
	} {
		err := s.SetTenant("acme", tc.sub)
		assert.ErrorIsf(t, err, digest.ErrTenant, "SetTenant(%+v)", tc.sub)
		assert.EqualErrorf(t, err, tc.want, "SetTenant(%+v)", tc.sub)
	}
	assert.NoError(t, s.SetTenant("acme", digest.Subscription{}), "SetTenant(schedule only)")
}

// TestDigestSender: the sender policy chooses the From, Reply-To and DKIM
// domain of the digest, asked with the tenant and no category; when it
// fails, the items stay for the retry.
func TestDigestSender(t *testing.T) {
	t.Parallel()
	want := alerts.Sender{From: "Acme Security <alerts@platform.example>", ReplyTo: "soc@acme.example", DKIMDomain: "platform.example"}
	errPolicy := errors.New("policy unavailable")
	var mu sync.Mutex
	var asked []string
	fail := true
	sender := alerts.SenderPolicyFunc(func(_ context.Context, tenant string, category alerts.CategoryID) (alerts.Sender, error) {
		mu.Lock()
		defer mu.Unlock()
		asked = append(asked, tenant+"/"+string(category))
		if fail {
			return alerts.Sender{}, errPolicy
		}
		return want, nil
	})
	s, clk, rec := newMailer(t, digest.MailerConfig{Sender: sender}, monday.Add(-2*time.Hour))
	sub := berlinSubscription()
	mustSetTenant(t, s, "acme", sub)
	mustAdd(t, s, threat("x", monday.Add(-time.Hour)))
	err := sendAt(t, s, clk, monday)
	assert.ErrorIsf(t, err, errPolicy, "SendDue with the policy failing = %v", err)
	assert.Zero(t, rec.Len(), "digests with the policy failing")
	mu.Lock()
	fail = false
	mu.Unlock()
	require.NoError(t, sendAt(t, s, clk, s.NextDue()), "SendDue on the retry")
	msgs := rec.Messages()
	require.Len(t, msgs, 1, "digests")
	assert.Equal(t, want, alerts.Sender{From: msgs[0].From, ReplyTo: msgs[0].ReplyTo, DKIMDomain: msgs[0].DKIMDomain}, "the digest's sender")
	assert.Equal(t, []string{"x"}, fingerprintsOf(msgs[0]), "the digest lists")
	assert.Equal(t, []string{"acme/", "acme/"}, asked, "questions to the policy")
}

// TestMailerDigest: the Digester side alone. Items are in the store when
// Digest returns; an event without a time is dated by the mailer's clock;
// an invalid tenant is an error and nothing is appended.
func TestMailerDigest(t *testing.T) {
	t.Parallel()
	s, clk, _ := newMailer(t, digest.MailerConfig{}, monday)
	ctx := context.Background()
	at := monday.Add(-time.Hour)
	require.NoError(t, s.Digest(ctx, []alerts.Event{
		{ID: "a", Tenant: "acme", Category: alerts.Threat, Asset: "h", Fingerprint: "fa", Time: at},
		{ID: "b", Tenant: "acme", Category: alerts.Threat, Asset: "h", Fingerprint: "fb"},
	}), "Digest")
	items, _, err := s.Store().Pending(ctx, "acme")
	require.NoError(t, err, "Pending")
	require.Len(t, items, 2, "items pending")
	assert.Equal(t, at, items[0].Time, "the time of an event that has one")
	assert.Equal(t, clk.Now(), items[1].Time, "the time of an event without one")
	assert.Zero(t, s.Collector().Len(), "items buffered: Digest appends at once")

	err = s.Digest(ctx, []alerts.Event{{Tenant: "acme", Fingerprint: "ok", Time: at}, {Tenant: "", Fingerprint: "bad", Time: at}})
	assert.ErrorIs(t, err, digest.ErrInvalidItem, "Digest(an event without a tenant)")
	items, _, err = s.Store().Pending(ctx, "acme")
	require.NoError(t, err, "Pending")
	assert.Len(t, items, 2, "items pending after a refused batch")
	assert.NoError(t, s.Digest(ctx, nil), "Digest(nil)")
}
