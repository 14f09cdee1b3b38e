package alerts_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/alertmail/alertmail/alerts"
)

// senderCall is one question a SenderPolicy was asked.
type senderCall struct {
	tenant   string
	category alerts.CategoryID
}

// TestDispatcherSender: the sender policy chooses From (with its display
// name), Reply-To and the DKIM domain of every alert, asked with the
// email's tenant and category.
func TestDispatcherSender(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var calls []senderCall
	want := alerts.Sender{From: `"Acme, Security" <alerts@acme.example>`, ReplyTo: "soc@acme.example", DKIMDomain: "acme.example"}
	e := newEnv(t, func(c *alerts.DispatcherConfig) {
		c.Sender = alerts.SenderPolicyFunc(func(_ context.Context, tenant string, category alerts.CategoryID) (alerts.Sender, error) {
			mu.Lock()
			defer mu.Unlock()
			calls = append(calls, senderCall{tenant, category})
			return want, nil
		})
	})
	e.dispatch(t, event("a"), alerts.Sent)
	th := event("b")
	th.Category = alerts.Threat
	e.dispatch(t, th, alerts.Sent)
	msgs := e.rec.Messages()
	require.Len(t, msgs, 2, "emails sent")
	for _, m := range msgs {
		got := alerts.Sender{From: m.From, ReplyTo: m.ReplyTo, DKIMDomain: m.DKIMDomain}
		assert.Equalf(t, want, got, "the sender of the %s email", m.Category)
	}
	assert.Equal(t, []senderCall{{tenant, alerts.ActiveThreat}, {tenant, alerts.Threat}}, calls, "questions to the sender policy")

	// Suppressed events are not sent: the policy is not asked for them.
	for i := range 4 { // the fifth Active Threat email is the last of the period
		e.dispatch(t, event(string(rune('c'+i))), alerts.Sent)
	}
	e.dispatch(t, event("held"), alerts.Suppressed)
	assert.Len(t, calls, 6, "questions after a suppressed event")
}

// TestDispatcherSenderFails: a sender policy that fails is a temporary
// failure of the send: the events are kept, the limit is not charged, and
// the next attempt sends them.
func TestDispatcherSenderFails(t *testing.T) {
	t.Parallel()
	errPolicy := errors.New("policy unavailable")
	var failing sync.Mutex
	fail := true
	e := newEnv(t, func(c *alerts.DispatcherConfig) {
		c.Sender = alerts.SenderPolicyFunc(func(context.Context, string, alerts.CategoryID) (alerts.Sender, error) {
			failing.Lock()
			defer failing.Unlock()
			if fail {
				return alerts.Sender{}, errPolicy
			}
			return alerts.Sender{From: "alerts@platform.example"}, nil
		})
	})
	res := e.dispatch(t, event("a"), alerts.SendFailed)
	assert.ErrorIsf(t, res.Err, errPolicy, "Dispatch = %+v; want the policy's error in Err", res)
	assert.Containsf(t, res.Err.Error(), `tenant "acme", category "active-threat"`, "Result.Err = %v; want the tenant and category named", res.Err)
	assert.Equal(t, 1, res.Pending, "Dispatch: events pending after the failure")
	assert.Zero(t, e.rec.Len(), "emails sent")
	failing.Lock()
	fail = false
	failing.Unlock()
	res = e.flush(t, alerts.Sent)
	assert.Equal(t, 1, res.Events, "Flush: events sent")
	assert.Equal(t, "alerts@platform.example", e.rec.Messages()[0].From, "From")
}

// TestApplySender covers the helper alone: a nil policy changes nothing,
// a choice replaces all three fields, and a line break is refused with
// the message unchanged.
func TestApplySender(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	base := alerts.Message{Tenant: tenant, Category: alerts.Threat, From: "old@example.com", ReplyTo: "r@example.com", DKIMDomain: "example.com"}
	msg := base
	require.NoError(t, alerts.ApplySender(ctx, nil, &msg), "ApplySender(nil policy)")
	assert.Equal(t, base, msg, "message after ApplySender(nil policy)")

	policy := func(s alerts.Sender) alerts.SenderPolicy {
		return alerts.SenderPolicyFunc(func(context.Context, string, alerts.CategoryID) (alerts.Sender, error) { return s, nil })
	}
	msg = base
	require.NoError(t, alerts.ApplySender(ctx, policy(alerts.Sender{From: "Alerts <a@platform.example>"}), &msg), "ApplySender")
	assert.Equal(t, "Alerts <a@platform.example>", msg.From, "From")
	assert.Empty(t, msg.ReplyTo, "ReplyTo: the choice replaces it")
	assert.Empty(t, msg.DKIMDomain, "DKIMDomain: the choice replaces it")

	for _, s := range []alerts.Sender{
		{From: "a@platform.example\r\nBcc: x@evil.example"},
		{From: "a@platform.example", ReplyTo: "r@example.com\n"},
		{From: "a@platform.example", DKIMDomain: "platform.example\r"},
	} {
		msg = base
		err := alerts.ApplySender(ctx, policy(s), &msg)
		assert.Errorf(t, err, "ApplySender(%+v) = nil; want an error for the line break", s)
		assert.Equalf(t, base, msg, "message after ApplySender(%+v) failed", s)
	}
}
