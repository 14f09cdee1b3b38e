package alerts_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/mail"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/alertmail/alertmail/alerts"
	"github.com/alertmail/alertmail/alerts/smtpnotify"
)

// relay is a go-smtp server on loopback whose answers a test chooses: it
// refuses the recipients in refuse with 550 5.1.1 and, while tempFail is
// set, the message data with 451 4.3.0. It records the messages it
// accepts.
type relay struct {
	port int

	mu       sync.Mutex
	refuse   map[string]bool
	tempFail bool
	got      []relayed
}

// relayed is one message the relay accepted.
type relayed struct {
	to        []string
	messageID string
}

func startRelay(t *testing.T) *relay {
	t.Helper()
	r := &relay{refuse: map[string]bool{}}
	s := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &relaySession{r: r}, nil }))
	s.Domain = "mx.test"
	s.ErrorLog = log.New(io.Discard, "", 0)
	s.ReadTimeout, s.WriteTimeout = 10*time.Second, 10*time.Second
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err, "listen")
	go s.Serve(l)
	t.Cleanup(func() { s.Close() })
	r.port = l.Addr().(*net.TCPAddr).Port
	return r
}

// set changes the relay's answers.
func (r *relay) set(refuse []string, tempFail bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.refuse = map[string]bool{}
	for _, a := range refuse {
		r.refuse[a] = true
	}
	r.tempFail = tempFail
}

func (r *relay) messages() []relayed {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.got)
}

type relaySession struct {
	r  *relay
	to []string
}

func (s *relaySession) Mail(string, *smtp.MailOptions) error { return nil }

func (s *relaySession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.r.mu.Lock()
	defer s.r.mu.Unlock()
	if s.r.refuse[to] {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
	}
	s.to = append(s.to, to)
	return nil
}

func (s *relaySession) Data(rd io.Reader) error {
	m, err := mail.ReadMessage(rd)
	if err != nil {
		return err
	}
	if _, err := io.Copy(io.Discard, m.Body); err != nil {
		return err
	}
	s.r.mu.Lock()
	defer s.r.mu.Unlock()
	if s.r.tempFail {
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try again later"}
	}
	s.r.got = append(s.r.got, relayed{to: slices.Clone(s.to), messageID: m.Header.Get("Message-Id")})
	return nil
}

func (s *relaySession) Reset()        { s.to = nil }
func (s *relaySession) Logout() error { return nil }

// smtpEnv is a dispatcher sending through smtpnotify to a relay, for
// tenant acme with the recipients soc@ and gone@acme.example.
type smtpEnv struct {
	*env
	relay *relay

	mu      sync.Mutex
	refused []alerts.Refusal // given to OnRefused
}

func newSMTPEnv(t *testing.T) *smtpEnv {
	t.Helper()
	se := &smtpEnv{relay: startRelay(t)}
	n, err := smtpnotify.New(smtpnotify.Config{
		Host: "127.0.0.1", Port: se.relay.port, Security: smtpnotify.Plaintext,
		From: "alerts@platform.example", AttemptTimeout: 5 * time.Second,
	})
	require.NoError(t, err, "smtpnotify.New")
	se.env = newEnv(t, func(c *alerts.DispatcherConfig) {
		c.Notifier = n
		c.OnRefused = func(_ context.Context, key alerts.LimitKey, refused []alerts.Refusal) {
			assert.Equalf(t, alerts.LimitKey{Tenant: tenant, Category: alerts.ActiveThreat}, key, "OnRefused key")
			se.mu.Lock()
			defer se.mu.Unlock()
			se.refused = append(se.refused, refused...)
		}
	})
	se.save(t, tenant, true, "soc@acme.example", "gone@acme.example")
	return se
}

func (se *smtpEnv) hooked() []alerts.Refusal {
	se.mu.Lock()
	defer se.mu.Unlock()
	return slices.Clone(se.refused)
}

// undelivered lists acme's undelivered Active Threat events.
func (se *smtpEnv) undelivered(t *testing.T) []string {
	t.Helper()
	evs, err := se.d.Undelivered(context.Background(), tenant, alerts.ActiveThreat)
	require.NoError(t, err, "Undelivered")
	return eventIDs(evs)
}

// TestDispatcherSMTPOneRecipientRefused: the relay refuses one of two
// recipients; the email goes to the other and counts as sent, the refusal
// is in the Result and given to the hook, and the key goes on sending.
func TestDispatcherSMTPOneRecipientRefused(t *testing.T) {
	t.Parallel()
	se := newSMTPEnv(t)
	se.relay.set([]string{"gone@acme.example"}, false)
	res := se.dispatch(t, event("a"), alerts.Sent)
	require.Lenf(t, res.Refused, 1, "Result.Refused = %+v; want gone@", res.Refused)
	got := res.Refused[0]
	assert.Truef(t, got.Recipient == "gone@acme.example" && got.Code == 550 && got.Status == "5.1.1",
		"Result.Refused[0] = %+v; want gone@acme.example 550 5.1.1", got)
	assert.NoError(t, res.Err, "Result.Err of a partial refusal")
	assert.Equal(t, res.Refused, se.hooked(), "refusals given to OnRefused")
	msgs := se.relay.messages()
	require.Lenf(t, msgs, 1, "relay received %d messages; want 1", len(msgs))
	assert.Equal(t, []string{"soc@acme.example"}, msgs[0].to, "recipients of the delivered message")

	// The next events of the key go out as usual.
	se.relay.set(nil, false)
	for _, id := range []string{"b", "c"} {
		res := se.dispatch(t, event(id), alerts.Sent)
		assert.Emptyf(t, res.Refused, "Dispatch(%q): Result.Refused", id)
	}
	msgs = se.relay.messages()
	require.Lenf(t, msgs, 3, "relay received %d messages; want 3", len(msgs))
	assert.Equal(t, []string{"soc@acme.example", "gone@acme.example"}, msgs[2].to, "recipients once gone@ is accepted")
	assert.Empty(t, se.drain(t), "pending events")
	assert.Empty(t, se.undelivered(t), "undelivered events")
}

// TestDispatcherSMTPAllRefused: the relay refuses every recipient; the
// events move to the undelivered list, nothing is pending, the limit is
// not charged, and requeued they are sent.
func TestDispatcherSMTPAllRefused(t *testing.T) {
	t.Parallel()
	se := newSMTPEnv(t)
	se.relay.set([]string{"soc@acme.example", "gone@acme.example"}, false)
	for _, id := range []string{"a", "b", "c"} {
		res := se.dispatch(t, event(id), alerts.Undeliverable)
		assert.ErrorIsf(t, res.Err, alerts.ErrPermanent, "Dispatch(%q): Result.Err", id)
		assert.Lenf(t, res.Refused, 2, "Dispatch(%q): Result.Refused = %+v; want both recipients", id, res.Refused)
		assert.Equalf(t, 1, res.Events, "Dispatch(%q): Result.Events", id)
		assert.Zerof(t, res.Pending, "Dispatch(%q): Result.Pending", id)
	}
	assert.Len(t, se.hooked(), 6, "refusals given to OnRefused")
	assert.Equal(t, []string{"a", "b", "c"}, se.undelivered(t), "undelivered events")
	assert.Empty(t, se.relay.messages(), "messages delivered")

	// The recipients are fixed; the events are requeued and sent, and the
	// limit (5 per 4 hours) still has all its 5 emails.
	se.relay.set(nil, false)
	n, err := se.d.Requeue(context.Background(), tenant, alerts.ActiveThreat)
	require.NoError(t, err, "Requeue")
	assert.Equal(t, 3, n, "events requeued")
	assert.Empty(t, se.undelivered(t), "undelivered events after Requeue")
	res := se.flush(t, alerts.Sent)
	assert.Equal(t, 3, res.Events, "events of the requeued email")
	for _, id := range []string{"d", "e", "f", "g"} {
		se.dispatch(t, event(id), alerts.Sent)
	}
	se.dispatch(t, event("h"), alerts.Suppressed)
	assert.Len(t, se.relay.messages(), 5, "messages delivered")
	assert.Equal(t, []string{"h"}, se.drain(t), "pending events")
}

// TestDispatcherSMTPTemporary: a 451 is retried later under the same
// Message-ID.
func TestDispatcherSMTPTemporary(t *testing.T) {
	t.Parallel()
	se := newSMTPEnv(t)
	se.save(t, tenant, true, "soc@acme.example")
	se.relay.set(nil, true)
	failed := se.dispatch(t, event("a"), alerts.SendFailed)
	assert.NotErrorIsf(t, failed.Err, alerts.ErrPermanent, "Result.Err = %v; want a temporary error", failed.Err)
	assert.Equal(t, 1, failed.Pending, "pending events after a 451")
	assert.Empty(t, se.undelivered(t), "undelivered events")
	se.relay.set(nil, false)
	sent := se.flush(t, alerts.Sent)
	assert.Equal(t, failed.MessageID, sent.MessageID, "Message.ID of the retry")
	msgs := se.relay.messages()
	require.Lenf(t, msgs, 1, "relay received %d messages; want 1", len(msgs))
	assert.Truef(t, strings.HasPrefix(msgs[0].messageID, "<"+failed.MessageID+"@"),
		"Message-Id of the retry = %q; want <%s@…>", msgs[0].messageID, failed.MessageID)
}

// TestDispatcherSMTPHangingRelay: a relay that accepts connections and
// never answers makes every send fail within its lease, so the frequency
// limit is never charged: 20 events, none delivered, none suppressed.
func TestDispatcherSMTPHangingRelay(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err, "listen")
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c) // held open, never answered
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	n, err := smtpnotify.New(smtpnotify.Config{
		Host: "127.0.0.1", Port: l.Addr().(*net.TCPAddr).Port, Security: smtpnotify.Plaintext,
		From: "alerts@platform.example", AttemptTimeout: 50 * time.Millisecond,
	})
	require.NoError(t, err, "smtpnotify.New")
	cfg := alerts.DispatcherConfig{
		Settings: alerts.NewMemorySettingsStore(nil), Notifier: n, Renderer: countRenderer,
		LeaseTTL: n.MaxDuration() / 2,
	}
	_, err = alerts.NewDispatcher(cfg)
	require.ErrorContains(t, err, "LeaseTTL", "NewDispatcher with a lease shorter than the notifier's MaxDuration")

	e := newEnv(t, func(c *alerts.DispatcherConfig) {
		c.Notifier, c.LeaseTTL, c.Clock = n, time.Second, alerts.SystemClock{}
	})
	for i := range 20 {
		ev := event(string(rune('a' + i)))
		res, err := e.d.Dispatch(context.Background(), ev)
		require.NoErrorf(t, err, "Dispatch(%q)", ev.ID)
		require.Equalf(t, alerts.SendFailed, res.Outcome, "Dispatch(%q) = %+v; want send-failed, never suppressed", ev.ID, res)
		assert.Equalf(t, i+1, res.Pending, "Dispatch(%q): Result.Pending", ev.ID)
	}
}

// TestDispatcherUndeliveredCap: past MaxUndelivered the oldest undelivered
// events are discarded, and the Result says how many.
func TestDispatcherUndeliveredCap(t *testing.T) {
	t.Parallel()
	refused := alerts.NotifierFunc(func(context.Context, *alerts.Message) error {
		return alerts.Permanent(errors.New("554 5.7.1 message refused"))
	})
	e := newEnv(t, func(c *alerts.DispatcherConfig) { c.Notifier = refused })
	for i := range alerts.MaxUndelivered {
		res := e.dispatch(t, event(fmt.Sprint("e", i)), alerts.Undeliverable)
		require.Zerof(t, res.Dropped, "Dispatch %d: Result.Dropped", i)
	}
	res := e.dispatch(t, event("last"), alerts.Undeliverable)
	assert.Equal(t, 1, res.Dropped, "Result.Dropped past the cap")
	assert.Empty(t, res.Refused, "Result.Refused of a message refused whole")
	evs, err := e.d.Undelivered(context.Background(), tenant, alerts.ActiveThreat)
	require.NoError(t, err, "Undelivered")
	require.Len(t, evs, alerts.MaxUndelivered, "undelivered events")
	assert.Equal(t, "e1", evs[0].ID, "oldest undelivered event kept")
	assert.Equal(t, "last", evs[len(evs)-1].ID, "newest undelivered event")
	assert.Empty(t, e.drain(t), "pending events")
}

// TestDispatcherSendOutlivesLease: a send that fails after its lease ran
// out (the clock jumped while Notify ran) gives back the charge of the
// lease's expiry: the next email goes at once, never suppressed.
func TestDispatcherSendOutlivesLease(t *testing.T) {
	t.Parallel()
	var e *env
	fail := true
	e = newEnv(t, func(c *alerts.DispatcherConfig) {
		c.Limit = alerts.FrequencyLimit{Max: 1, Period: 4 * time.Hour}
		c.Notifier = alerts.NotifierFunc(func(ctx context.Context, msg *alerts.Message) error {
			if fail {
				fail = false
				e.clock.Advance(alerts.DefaultLeaseTTL + time.Second)
				return errors.New("421 4.4.2 timeout")
			}
			return e.rec.Notify(ctx, msg)
		})
	})
	res := e.dispatch(t, event("a"), alerts.SendFailed)
	assert.Equal(t, 1, res.Pending, "pending events after the failed send")
	res = e.dispatch(t, event("b"), alerts.Sent)
	assert.Equal(t, 2, res.Events, "events of the email after the failed send")
	e.dispatch(t, event("c"), alerts.Suppressed)
}

// TestDispatcherRefusalLog: the refusals are logged as a count at Warn,
// and the addresses only at Debug.
func TestDispatcherRefusalLog(t *testing.T) {
	t.Parallel()
	refusal := &alerts.RefusedError{Delivered: true, Refused: []alerts.Refusal{{Recipient: "gone@acme.example", Code: 550, Status: "5.1.1", Text: "no such user"}}}
	for _, tt := range []struct {
		level     slog.Level
		addresses bool
	}{
		{slog.LevelInfo, false},
		{slog.LevelDebug, true},
	} {
		t.Run(tt.level.String(), func(t *testing.T) {
			t.Parallel()
			var buf syncBuffer
			e := newEnv(t, func(c *alerts.DispatcherConfig) {
				c.Notifier = alerts.NotifierFunc(func(context.Context, *alerts.Message) error { return refusal })
				c.Logger = slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: tt.level}))
			})
			e.dispatch(t, event("a"), alerts.Sent)
			out := buf.String()
			assert.Containsf(t, out, "level=WARN msg=\"alerts: recipients refused\"", "log at %v", tt.level)
			assert.Containsf(t, out, "refused=1", "log at %v", tt.level)
			assert.Equalf(t, tt.addresses, strings.Contains(out, "gone@acme.example"), "log at %v shows the address: %s", tt.level, out)
		})
	}
}

// syncBuffer is a bytes.Buffer safe for concurrent use, for a log.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
