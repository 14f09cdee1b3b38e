package mailauthsender_test

import (
	"bytes"
	"context"
	"io"
	"log"
	"net"
	"net/mail"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/alertmail/alertmail/alerts"
	"github.com/alertmail/alertmail/alerts/mailauthsender"
	"github.com/alertmail/alertmail/alerts/smtpnotify"
	"github.com/alertmail/alertmail/digest"
	"github.com/alertmail/alertmail/internal/dkimpy"
	"github.com/alertmail/alertmail/mailauth/dkim"
)

// relay is a go-smtp server on loopback that keeps the data of every
// message it accepts.
type relay struct {
	addr *net.TCPAddr
	mu   sync.Mutex
	msgs [][]byte
}

func startRelay(t *testing.T) *relay {
	t.Helper()
	r := &relay{}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &relaySession{r: r}, nil }))
	srv.Domain = "mx.test"
	srv.ErrorLog = log.New(io.Discard, "", 0)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err, "listen")
	r.addr = l.Addr().(*net.TCPAddr)
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return r
}

func (r *relay) messages() [][]byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([][]byte(nil), r.msgs...)
}

type relaySession struct{ r *relay }

func (s *relaySession) Mail(string, *smtp.MailOptions) error { return nil }
func (s *relaySession) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (s *relaySession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.r.mu.Lock()
	s.r.msgs = append(s.r.msgs, b)
	s.r.mu.Unlock()
	return nil
}
func (s *relaySession) Reset()        {}
func (s *relaySession) Logout() error { return nil }

var dTag = regexp.MustCompile(`(?:^|[;\s])d=([^;\s]+)`)

// TestSenderPolicyDKIM sends an alert and a digest for two customers
// through the real pipeline (a Dispatcher and a digest Mailer sharing one
// settings store and one sender Cache, smtpnotify signing with
// mailauth/dkim, a go-smtp relay on loopback): each email carries the
// policy's From, Reply-To and DKIM domain, and dkimpy verifies its
// signature with d= the chosen domain.
func TestSenderPolicyDKIM(t *testing.T) {
	t.Parallel()
	w := newWorld(t, nil)
	senders := w.cache(t, func(cfg *mailauthsender.Config) { cfg.DisplayName = "Acme Security" })
	signer, err := dkim.NewSigner(dkim.SignerConfig{Domain: "platform.example", Selector: "alertmail", Key: dkimKey})
	require.NoError(t, err, "dkim.NewSigner")
	platformName, platformRecord := signer.DNSRecord()
	customerKey, ok := w.policy.DKIMRecord("good.example")
	require.True(t, ok, "DKIMRecord(good.example)")
	records := map[string]string{platformName: platformRecord, customerKey.Name: customerKey.Text}

	r := startRelay(t)
	backend, err := smtpnotify.New(smtpnotify.Config{Host: "127.0.0.1", Port: r.addr.Port, Security: smtpnotify.Plaintext, DKIM: signer})
	require.NoError(t, err, "smtpnotify.New")

	settings := alerts.NewMemorySettingsStore(nil)
	ctx := context.Background()
	for _, tenant := range []string{"good", "soft"} {
		cur, err := settings.Load(ctx, tenant)
		require.NoError(t, err, "Load")
		draft := cur.Edit()
		require.NoError(t, draft.SetRecipients([]string{"soc@" + tenant + ".example"}), "SetRecipients")
		_, err = settings.Save(ctx, draft.Settings())
		require.NoError(t, err, "Save")
	}
	mailer, err := digest.NewMailer(digest.MailerConfig{Notifier: backend, Settings: settings, Sender: senders, Clock: w.clock})
	require.NoError(t, err, "digest.NewMailer")
	d, err := alerts.NewDispatcher(alerts.DispatcherConfig{Settings: settings, Notifier: backend, Digest: mailer, Sender: senders, Clock: w.clock})
	require.NoError(t, err, "NewDispatcher")

	for _, tenant := range []string{"good", "soft"} {
		require.NoError(t, mailer.SetTenant(tenant, digest.Subscription{Schedule: digest.Schedule{Hour: 10}}), "SetTenant")
		for _, ev := range []alerts.Event{
			{ID: "det-1", Tenant: tenant, Category: alerts.ActiveThreat, Score: 9, Asset: "web-01", Fingerprint: "r1", Summary: "Ransomware behaviour", Time: w.clock.Now()},
			{ID: "det-2", Tenant: tenant, Category: alerts.ActiveThreat, Score: 2, Asset: "web-02", Fingerprint: "r2", Summary: "Unsigned driver", Time: w.clock.Now()},
		} {
			_, err := d.Dispatch(ctx, ev)
			require.NoErrorf(t, err, "Dispatch(%s, %s)", tenant, ev.ID)
		}
	}
	w.clock.Advance(time.Hour) // 10:00 UTC: the digests are due
	require.NoError(t, mailer.SendDue(ctx), "SendDue")

	want := map[string]struct{ from, replyTo, domain string }{
		"soc@good.example": {`"Acme Security" <soc@good.example>`, "", "good.example"},
		"soc@soft.example": {`"Acme Security" <noreply@platform.example>`, "<soc@soft.example>", "platform.example"},
	}
	got := r.messages()
	require.Len(t, got, 4, "messages the relay received: an alert and a digest per tenant")
	kinds := map[string]int{}
	for _, data := range got {
		m, err := mail.ReadMessage(bytes.NewReader(data))
		require.NoError(t, err, "mail.ReadMessage")
		rcpts, err := m.Header.AddressList("To")
		require.NoErrorf(t, err, "To %q", m.Header.Get("To"))
		require.Lenf(t, rcpts, 1, "To %q", m.Header.Get("To"))
		to := rcpts[0].Address
		wt, ok := want[to]
		require.Truef(t, ok, "a message to %q", to)
		kind := "alert"
		if strings.HasPrefix(m.Header.Get("Subject"), "Daily digest") {
			kind = "digest"
		}
		kinds[kind]++
		assert.Equalf(t, wt.from, m.Header.Get("From"), "From of the %s to %s", kind, to)
		assert.Equalf(t, wt.replyTo, m.Header.Get("Reply-To"), "Reply-To of the %s to %s", kind, to)
		sig := m.Header.Get("DKIM-Signature")
		match := dTag.FindStringSubmatch(sig)
		require.NotNilf(t, match, "DKIM-Signature of the %s to %s = %q; want a d= tag", kind, to, sig)
		assert.Equalf(t, wt.domain, match[1], "d= of the %s to %s", kind, to)

		out, err := dkimpy.Verify(t, data, records)
		wantName := "alertmail._domainkey." + wt.domain
		require.NoErrorf(t, err, "dkimpy verify of the %s to %s = %q; want pass\n%s", kind, to, out, data)
		assert.Truef(t, strings.HasPrefix(out, "pass "+wantName), "dkimpy verify of the %s to %s = %q; want pass after asking for %s", kind, to, out, wantName)
		if kind == "digest" {
			continue
		}
		// A changed body must fail, or the check above proves nothing.
		tampered := bytes.Replace(data, []byte("web-0"), []byte("web-9"), 1)
		require.NotEqual(t, data, tampered, "the tampering changed nothing")
		out, err = dkimpy.Verify(t, tampered, records)
		assert.Errorf(t, err, "dkimpy verify of a tampered %s = %q; want fail", kind, out)
	}
	assert.Equal(t, map[string]int{"alert": 2, "digest": 2}, kinds, "messages by kind")
}
