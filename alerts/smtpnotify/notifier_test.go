package smtpnotify_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"net"
	"net/mail"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/alertmail/alertmail/alerts"
	"github.com/alertmail/alertmail/alerts/smtpnotify"
	"github.com/alertmail/alertmail/mailauth/dkim"
)

// testMessage is an Active Threat alert rendered by alerts.Content, with
// event data that must come out escaped.
func testMessage(t *testing.T) *alerts.Message {
	t.Helper()
	msg := &alerts.Message{
		ID:       "alert-acme-active-threat-42",
		Tenant:   "acme",
		Category: alerts.ActiveThreat,
		From:     "Security Alerts <alerts@platform.example>",
		ReplyTo:  "soc@acme.example",
		To:       []string{"ops@acme.example", "ciso@acme.example"},
		Time:     time.Date(2026, 3, 29, 1, 15, 0, 0, time.UTC),
		Events: []alerts.Event{{
			ID: "evt-1", Tenant: "acme", Category: alerts.ActiveThreat, Score: 9.5,
			Asset: "web-01", Summary: `<script>alert("x")</script> ransomware note`,
			Time: time.Date(2026, 3, 29, 1, 10, 0, 0, time.UTC),
		}},
	}
	c, err := alerts.NewContent(alerts.ContentConfig{EventURL: "https://console.example.com/events/{id}"})
	require.NoError(t, err, "NewContent")
	require.NoError(t, c.Render(msg), "Render")
	return msg
}

// config returns a configuration for ts with the given security.
func config(ts *testServer, sec smtpnotify.Security) smtpnotify.Config {
	return smtpnotify.Config{
		Host:           ts.Host,
		Port:           ts.Port,
		Security:       sec,
		TLSConfig:      &tls.Config{RootCAs: ts.Roots},
		DialTimeout:    5 * time.Second,
		CommandTimeout: 5 * time.Second,
	}
}

func mustNew(t *testing.T, cfg smtpnotify.Config) *smtpnotify.Notifier {
	t.Helper()
	n, err := smtpnotify.New(cfg)
	require.NoErrorf(t, err, "New(%v)", cfg)
	return n
}

// notifyOne sends testMessage through a notifier for cfg and returns the
// one message ts received.
func notifyOne(t *testing.T, ts *testServer, cfg smtpnotify.Config) received {
	t.Helper()
	require.NoError(t, mustNew(t, cfg).Notify(context.Background(), testMessage(t)), "Notify()")
	got := ts.messages()
	require.Lenf(t, got, 1, "server received %d messages; want 1", len(got))
	return got[0]
}

// parts parses a received message: its header and its MIME parts by
// media type, decoded.
func parts(t *testing.T, data []byte) (mail.Header, map[string]string) {
	t.Helper()
	m, err := mail.ReadMessage(bytes.NewReader(data))
	require.NoErrorf(t, err, "mail.ReadMessage\n%s", data)
	mt, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	require.NoErrorf(t, err, "Content-Type = %q", m.Header.Get("Content-Type"))
	require.Equalf(t, "multipart/alternative", mt, "Content-Type = %q; want multipart/alternative", mt)
	out := map[string]string{}
	r := multipart.NewReader(m.Body, params["boundary"])
	for {
		p, err := r.NextPart()
		if err == io.EOF {
			break
		}
		require.NoError(t, err, "NextPart")
		b, err := io.ReadAll(p)
		require.NoError(t, err, "reading part")
		ct, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
		// Lines travel as CRLF; the message's bodies use LF.
		out[ct] = strings.ReplaceAll(string(b), "\r\n", "\n")
	}
	return m.Header, out
}

func TestNotifySecurityModes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		opts    serverOptions
		sec     smtpnotify.Security
		wantTLS bool
	}{
		{"plaintext", serverOptions{}, smtpnotify.Plaintext, false},
		{"starttls", serverOptions{startTLS: true}, smtpnotify.StartTLS, true},
		{"implicit tls", serverOptions{implicitTLS: true}, smtpnotify.ImplicitTLS, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ts := startServer(t, tt.opts)
			rcv := notifyOne(t, ts, config(ts, tt.sec))
			msg := testMessage(t)
			assert.Equalf(t, tt.wantTLS, rcv.TLS, "TLS = %v; want %v", rcv.TLS, tt.wantTLS)
			assert.Equal(t, "alerts@platform.example", rcv.From, "envelope sender")
			assert.Equal(t, []string{"ops@acme.example", "ciso@acme.example"}, rcv.To, "envelope recipients")
			h, p := parts(t, rcv.Data)
			wantHeaders := map[string]string{
				"From":         `"Security Alerts" <alerts@platform.example>`,
				"To":           "<ops@acme.example>, <ciso@acme.example>",
				"Reply-To":     "<soc@acme.example>",
				"Subject":      "Active Threat Alerts: 1 event",
				"Message-Id":   "<alert-acme-active-threat-42@platform.example>",
				"Date":         "Sun, 29 Mar 2026 01:15:00 +0000",
				"Mime-Version": "1.0",
			}
			for k, want := range wantHeaders {
				assert.Equalf(t, want, h.Get(k), "header %s = %q; want %q", k, h.Get(k), want)
			}
			assert.Len(t, h["To"], 1, "To fields")
			assert.Empty(t, h["Bcc"], "Bcc fields")
			assert.Equal(t, msg.Text, p["text/plain"], "text/plain part")
			assert.Equal(t, msg.HTML, p["text/html"], "text/html part")
			assert.Contains(t, p["text/plain"], `web-01: <script>alert("x")</script> ransomware note`, "text/plain part lacks the event summary")
			assert.NotContains(t, p["text/html"], "<script>", "text/html part does not escape the event summary")
			assert.Contains(t, p["text/html"], "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; ransomware note", "text/html part does not escape the event summary")
			assert.Contains(t, p["text/html"], `<a href="https://console.example.com/events/evt-1" `, "text/html part lacks the event link")
		})
	}
}

func TestNotifyVerifiesCertificateByDefault(t *testing.T) {
	t.Parallel()
	ts := startServer(t, serverOptions{startTLS: true})
	cfg := config(ts, smtpnotify.StartTLS)
	cfg.TLSConfig = nil // the system roots do not know the test certificate
	err := mustNew(t, cfg).Notify(context.Background(), testMessage(t))
	require.ErrorContainsf(t, err, "certificate", "Notify() = %v; want a certificate verification error", err)
	assert.Empty(t, ts.messages(), "server received messages")
}

func TestNotifyStartTLSRequired(t *testing.T) {
	t.Parallel()
	ts := startServer(t, serverOptions{}) // no STARTTLS offered
	err := mustNew(t, config(ts, smtpnotify.StartTLS)).Notify(context.Background(), testMessage(t))
	require.ErrorIsf(t, err, smtpnotify.ErrNoStartTLS, "Notify() = %v; want ErrNoStartTLS", err)
	assert.Zerof(t, ts.txns.Load(), "server saw %d transactions; want 0", ts.txns.Load())
}

func TestNotifyAuth(t *testing.T) {
	t.Parallel()
	const user, pass = "relay-user", "s3cret-Pa55word"
	tests := []struct {
		name     string
		opts     serverOptions
		sec      smtpnotify.Security
		insecure bool
		password string
		wantErr  func(error) bool
		wantAuth int32 // AUTH attempts the server saw
	}{
		{"plain over starttls", serverOptions{startTLS: true, mechs: []string{"PLAIN"}}, smtpnotify.StartTLS, false, pass, nil, 1},
		{"login over implicit tls", serverOptions{implicitTLS: true, mechs: []string{"LOGIN"}}, smtpnotify.ImplicitTLS, false, pass, nil, 1},
		{"plain preferred", serverOptions{startTLS: true}, smtpnotify.StartTLS, false, pass, nil, 1},
		{"wrong password", serverOptions{startTLS: true}, smtpnotify.StartTLS, false, "wrong-" + pass, func(err error) bool {
			// Not retried at once, and not permanent: the message is
			// fine, the configuration is not.
			var se *smtp.SMTPError
			return errors.As(err, &se) && se.Code == 535 && strings.Contains(err.Error(), "AUTH: 535 5.7.8") &&
				!errors.Is(err, alerts.ErrPermanent)
		}, 1},
		{"refused without tls", serverOptions{allowInsecureAuth: true}, smtpnotify.Plaintext, false, pass, func(err error) bool {
			return errors.Is(err, smtpnotify.ErrInsecureAuth)
		}, 0},
		{"allowed on loopback", serverOptions{allowInsecureAuth: true}, smtpnotify.Plaintext, true, pass, nil, 1},
		{"no mechanism in common", serverOptions{startTLS: true, mechs: []string{"CRAM-MD5"}}, smtpnotify.StartTLS, false, pass, func(err error) bool {
			return errors.Is(err, smtpnotify.ErrNoAuthMechanism)
		}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.opts.users = map[string]string{user: pass}
			ts := startServer(t, tt.opts)
			cfg := config(ts, tt.sec)
			cfg.Username, cfg.Password, cfg.AllowInsecureAuth = user, smtpnotify.Secret(tt.password), tt.insecure
			cfg.Retry = smtpnotify.Retry{MaxAttempts: 3, InitialBackoff: time.Millisecond}
			err := mustNew(t, cfg).Notify(context.Background(), testMessage(t))
			assert.Equalf(t, tt.wantAuth, ts.authSeen.Load(), "server saw %d AUTH attempts; want %d", ts.authSeen.Load(), tt.wantAuth)
			if tt.wantErr == nil {
				require.NoError(t, err, "Notify()")
				got := ts.messages()
				require.Lenf(t, got, 1, "server received %+v; want 1 message from %s", got, user)
				assert.Equal(t, user, got[0].AuthUser, "AUTH user")
				return
			}
			require.Truef(t, tt.wantErr(err), "Notify() = %v; want a different error", err)
			for _, s := range []string{tt.password, "czNjcmV0"} {
				assert.NotContainsf(t, err.Error(), s, "error %q reveals the password", err)
				assert.NotContainsf(t, fmt.Sprintf("%+v %#v", err, err), s, "error %q reveals the password", err)
			}
			assert.Empty(t, ts.messages(), "server received messages")
		})
	}
}

func TestNotifyRetry(t *testing.T) {
	t.Parallel()
	tempFail := &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try again later"}
	temporary := func(code int, text string) func(error) bool {
		return func(err error) bool {
			var se *smtp.SMTPError
			return errors.As(err, &se) && se.Code == code && strings.Contains(err.Error(), text) && !errors.Is(err, alerts.ErrPermanent)
		}
	}
	const ops, ciso = "ops@acme.example", "ciso@acme.example"
	tests := []struct {
		name     string
		opts     serverOptions
		attempts int
		wantErr  func(error) bool
		wantTxns int32
		wantTo   [][]string // recipients of each message stored
	}{
		{"4xx then success", serverOptions{data: func(n int, _ []byte) error {
			if n == 1 {
				return tempFail
			}
			return nil
		}}, 3, nil, 2, [][]string{{ops, ciso}}},
		{"4xx without retry", serverOptions{data: func(int, []byte) error { return tempFail }}, 0,
			temporary(451, "end of data: 451 4.3.0 try again later"), 1, nil},
		{"4xx every time", serverOptions{data: func(int, []byte) error { return tempFail }}, 3,
			temporary(451, "attempt 3 of 3"), 3, nil},
		{"4xx to MAIL", serverOptions{mail: func(int, string) error { return tempFail }}, 2,
			temporary(451, "MAIL: 451"), 2, nil},
		{"recipient deferred then accepted", serverOptions{rcpt: func(n int, to string, _ int) error {
			if n == 1 && to == ops {
				return &smtp.SMTPError{Code: 450, EnhancedCode: smtp.EnhancedCode{4, 2, 0}, Message: "mailbox busy"}
			}
			return nil
		}}, 2, nil, 2, [][]string{{ciso}, {ops}}},
		{"recipient deferred every time", serverOptions{rcpt: func(_ int, to string, _ int) error {
			if to == ops {
				return &smtp.SMTPError{Code: 450, EnhancedCode: smtp.EnhancedCode{4, 2, 0}, Message: "mailbox busy"}
			}
			return nil
		}}, 2, temporary(450, "RCPT: 450 4.2.0 mailbox busy"), 2, [][]string{{ciso}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ts := startServer(t, tt.opts)
			cfg := config(ts, smtpnotify.Plaintext)
			cfg.Retry = smtpnotify.Retry{MaxAttempts: tt.attempts, InitialBackoff: time.Millisecond, MaxBackoff: 4 * time.Millisecond}
			err := mustNew(t, cfg).Notify(context.Background(), testMessage(t))
			if tt.wantErr == nil {
				require.NoError(t, err, "Notify()")
			} else {
				require.Truef(t, tt.wantErr(err), "Notify() = %v; want a different error", err)
			}
			assert.Equalf(t, tt.wantTxns, ts.txns.Load(), "server saw %d transactions; want %d", ts.txns.Load(), tt.wantTxns)
			var gotTo [][]string
			for _, m := range ts.messages() {
				gotTo = append(gotTo, m.To)
			}
			assert.Equalf(t, tt.wantTo, gotTo, "server stored messages to %q; want %q", gotTo, tt.wantTo)
		})
	}
}

// cancelOnRetry is a slog.Handler that cancels a context when the
// notifier logs that it will retry: the test then knows the notifier is
// waiting out its backoff.
type cancelOnRetry struct{ cancel context.CancelFunc }

func (h cancelOnRetry) Enabled(context.Context, slog.Level) bool { return true }
func (h cancelOnRetry) Handle(_ context.Context, r slog.Record) error {
	if strings.Contains(r.Message, "retrying") {
		h.cancel()
	}
	return nil
}
func (h cancelOnRetry) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h cancelOnRetry) WithGroup(string) slog.Handler      { return h }

func TestNotifyRetryHonoursContext(t *testing.T) {
	t.Parallel()
	ts := startServer(t, serverOptions{data: func(int, []byte) error {
		return &smtp.SMTPError{Code: 421, EnhancedCode: smtp.EnhancedCode{4, 3, 2}, Message: "shutting down"}
	}})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cfg := config(ts, smtpnotify.Plaintext)
	cfg.Retry = smtpnotify.Retry{MaxAttempts: 5, InitialBackoff: time.Hour}
	cfg.Logger = slog.New(cancelOnRetry{cancel})
	start := time.Now()
	err := mustNew(t, cfg).Notify(ctx, testMessage(t))
	require.ErrorIsf(t, err, context.Canceled, "Notify() = %v; want context.Canceled mentioning the last 421", err)
	require.ErrorContainsf(t, err, "421", "Notify() = %v; want context.Canceled mentioning the last 421", err)
	assert.Lessf(t, time.Since(start), 10*time.Second, "Notify took %v; want it to stop when the context ends", time.Since(start))
	assert.Equalf(t, int32(1), ts.txns.Load(), "server saw %d transactions; want 1", ts.txns.Load())
}

func TestNotifyCancelledDuringData(t *testing.T) {
	t.Parallel()
	inData := make(chan struct{})
	release := make(chan struct{})
	ts := startServer(t, serverOptions{data: func(int, []byte) error {
		close(inData)
		<-release
		return errors.New("released")
	}})
	t.Cleanup(func() { close(release) })
	cfg := config(ts, smtpnotify.Plaintext)
	cfg.CommandTimeout = time.Minute
	cfg.Retry = smtpnotify.Retry{MaxAttempts: 3, InitialBackoff: time.Millisecond}
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-inData
		cancel()
	}()
	start := time.Now()
	err := mustNew(t, cfg).Notify(ctx, testMessage(t))
	require.ErrorIsf(t, err, context.Canceled, "Notify() = %v; want context.Canceled during the end of data", err)
	require.ErrorContainsf(t, err, "end of data", "Notify() = %v; want context.Canceled during the end of data", err)
	assert.Lessf(t, time.Since(start), 10*time.Second, "Notify took %v after cancellation; want it to return at once", time.Since(start))
	assert.Equalf(t, int32(1), ts.txns.Load(), "server saw %d transactions; want 1 (no retry after cancellation)", ts.txns.Load())
}

func TestNotifyHangingServer(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		timeout  time.Duration // Config.CommandTimeout
		ctx      time.Duration // context timeout, 0 for none
		attempts int
		want     error
		wantConn int32
	}{
		// The dial has its own (default) timeout, so these can only end
		// in the greeting, however slow the machine.
		{"command timeout", 150 * time.Millisecond, 0, 0, os.ErrDeadlineExceeded, 1},
		{"command timeout retried", 100 * time.Millisecond, 0, 2, os.ErrDeadlineExceeded, 2},
		// The context's deadline bounds the dial too: on a busy machine it
		// may end there.
		{"context deadline", time.Minute, 150 * time.Millisecond, 3, context.DeadlineExceeded, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			host, port, conns := hangingServer(t)
			cfg := smtpnotify.Config{Host: host, Port: port, Security: smtpnotify.Plaintext, CommandTimeout: tt.timeout,
				Retry: smtpnotify.Retry{MaxAttempts: tt.attempts, InitialBackoff: time.Millisecond}}
			ctx := context.Background()
			if tt.ctx > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.ctx)
				defer cancel()
			}
			start := time.Now()
			err := mustNew(t, cfg).Notify(ctx, testMessage(t))
			require.ErrorIsf(t, err, tt.want, "Notify() = %v; want %v while waiting for the greeting", err, tt.want)
			if tt.ctx == 0 {
				require.ErrorContainsf(t, err, "greeting", "Notify() = %v; want %v while waiting for the greeting", err, tt.want)
			} else {
				require.Regexpf(t, "dial|greeting", err.Error(), "Notify() = %v; want %v while dialling or waiting for the greeting", err, tt.want)
			}
			assert.NotErrorIsf(t, err, alerts.ErrPermanent, "Notify() = %v; want a temporary error", err)
			assert.Lessf(t, time.Since(start), 10*time.Second, "Notify took %v; want about the timeout", time.Since(start))
			if tt.ctx == 0 {
				// The client read nothing: the server may not have
				// counted its connection yet.
				assert.Eventuallyf(t, func() bool { return conns.Load() == tt.wantConn }, 10*time.Second, time.Millisecond,
					"server saw %d connections; want %d", conns.Load(), tt.wantConn)
			} else {
				// The context may have ended before the connection was
				// made; there is no retry after it ended.
				assert.LessOrEqualf(t, conns.Load(), tt.wantConn, "server saw %d connections; want at most %d", conns.Load(), tt.wantConn)
			}
		})
	}
}

// TestNotifyRefusesHeaderInjection sends bad messages through the whole
// path, with a live server: nothing may reach it.
func TestNotifyRefusesHeaderInjection(t *testing.T) {
	t.Parallel()
	ts := startServer(t, serverOptions{})
	n := mustNew(t, config(ts, smtpnotify.Plaintext))
	tests := []struct {
		name      string
		edit      func(*alerts.Message)
		wantField string
		wantErr   error
	}{
		// jordan-wright/email copies a To value that fails
		// mail.ParseAddress into the header as it is.
		{"crlf in to", func(m *alerts.Message) { m.To = []string{"ops@acme.example\r\nBcc: spy@evil.example"} }, "Message.To[0]", smtpnotify.ErrHeaderInjection},
		{"lf in second to", func(m *alerts.Message) { m.To[1] = "ciso@acme.example\nX-Evil: 1" }, "Message.To[1]", smtpnotify.ErrHeaderInjection},
		{"trailing crlf in to", func(m *alerts.Message) { m.To = []string{"ops@acme.example\r\n"} }, "Message.To[0]", smtpnotify.ErrHeaderInjection},
		{"unparsable to", func(m *alerts.Message) { m.To = []string{"undisclosed-recipients:;"} }, "Message.To[0]", alerts.ErrInvalidRecipient},
		{"list in one to", func(m *alerts.Message) { m.To = []string{"ops@acme.example, spy@evil.example"} }, "Message.To[0]", alerts.ErrInvalidRecipient},
		{"display name in to", func(m *alerts.Message) { m.To = []string{"Ops <spy@evil.example>"} }, "Message.To[0]", alerts.ErrInvalidRecipient},
		{"crlf in subject", func(m *alerts.Message) { m.Subject = "Alert\r\nBcc: spy@evil.example" }, "Message.Subject", smtpnotify.ErrHeaderInjection},
		{"nul in subject", func(m *alerts.Message) { m.Subject = "Alert\x00" }, "Message.Subject", smtpnotify.ErrHeaderInjection},
		{"lf in from name", func(m *alerts.Message) { m.From = "Alerts\n <alerts@platform.example>" }, "Message.From", smtpnotify.ErrHeaderInjection},
		{"crlf in reply-to", func(m *alerts.Message) { m.ReplyTo = "soc@acme.example\r\nBcc: spy@evil.example" }, "Message.ReplyTo", smtpnotify.ErrHeaderInjection},
		{"cr in id", func(m *alerts.Message) { m.ID = "a\rb" }, "Message.ID", smtpnotify.ErrHeaderInjection},
		{"bad id", func(m *alerts.Message) { m.ID = "a@b>" }, "Message.ID", smtpnotify.ErrInvalidField},
		{"crlf in dkim domain", func(m *alerts.Message) { m.DKIMDomain = "acme.example\r\nBcc: spy@evil.example" }, "Message.DKIMDomain", smtpnotify.ErrHeaderInjection},
		{"bad dkim domain", func(m *alerts.Message) { m.DKIMDomain = "acme.example; s=x" }, "Message.DKIMDomain", smtpnotify.ErrInvalidField},
		{"hyphen ends dkim domain", func(m *alerts.Message) { m.DKIMDomain = "d-.example" }, "Message.DKIMDomain", smtpnotify.ErrInvalidField},
		{"unrendered", func(m *alerts.Message) { m.Subject, m.Text, m.HTML = "", "", "" }, "Message.Subject", smtpnotify.ErrInvalidField},
		{"no recipients", func(m *alerts.Message) { m.To = nil }, "Message.To", smtpnotify.ErrInvalidField},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg := testMessage(t)
			tt.edit(msg)
			err := n.Notify(context.Background(), msg)
			wantFieldError(t, err, tt.wantField, tt.wantErr, "Notify(%s)", tt.name)
			assert.ErrorContainsf(t, err, tt.wantField, "error %q does not name the field %s", err, tt.wantField)
		})
	}
	assert.Zerof(t, ts.conns.Load(), "server saw %d connections; want 0: bad input must be refused before connecting", ts.conns.Load())
}

// wantFieldError fails the test unless err is a *FieldError on field
// wrapping want; call names the call that returned err.
func wantFieldError(t *testing.T, err error, field string, want error, call string, args ...any) {
	t.Helper()
	call = fmt.Sprintf(call, args...)
	var fe *smtpnotify.FieldError
	require.ErrorAsf(t, err, &fe, "%s = %v; want a FieldError on %s wrapping %v", call, err, field, want)
	assert.Equalf(t, field, fe.Field, "%s = %v; want a FieldError on %s", call, err, field)
	assert.ErrorIsf(t, err, want, "%s = %v; want an error wrapping %v", call, err, want)
}

// TestNewRefusesHeaderInjection covers the configuration's header fields:
// attachment names (which jordan-wright/email copies into
// Content-Disposition and Content-ID) and custom headers.
func TestNewRefusesHeaderInjection(t *testing.T) {
	t.Parallel()
	ts := startServer(t, serverOptions{})
	tests := []struct {
		name      string
		edit      func(*smtpnotify.Config)
		wantField string
		wantErr   error
	}{
		{"crlf in attachment name", func(c *smtpnotify.Config) {
			c.Attachments = []smtpnotify.Attachment{{Filename: "logo.png\r\nContent-Type: text/html", Content: []byte("x")}}
		}, "Config.Attachments[0].Filename", smtpnotify.ErrHeaderInjection},
		{"quote in attachment name", func(c *smtpnotify.Config) {
			c.Attachments = []smtpnotify.Attachment{{Filename: "ok.png"}, {Filename: `a.png"; x="y`}}
		}, "Config.Attachments[1].Filename", smtpnotify.ErrInvalidField},
		{"angle bracket in attachment name", func(c *smtpnotify.Config) {
			c.Attachments = []smtpnotify.Attachment{{Filename: "a>b.png"}}
		}, "Config.Attachments[0].Filename", smtpnotify.ErrInvalidField},
		{"crlf in content type", func(c *smtpnotify.Config) {
			c.Attachments = []smtpnotify.Attachment{{Filename: "a.png", ContentType: "image/png\r\nX-Evil: 1"}}
		}, "Config.Attachments[0].ContentType", smtpnotify.ErrHeaderInjection},
		{"crlf in custom header", func(c *smtpnotify.Config) { c.Headers = map[string]string{"X-Tag": "a\r\nBcc: spy@evil.example"} }, "Config.Headers[X-Tag]", smtpnotify.ErrHeaderInjection},
		{"bad custom header name", func(c *smtpnotify.Config) { c.Headers = map[string]string{"X Tag:": "a"} }, "Config.Headers[X Tag:]", smtpnotify.ErrInvalidField},
		{"reserved custom header", func(c *smtpnotify.Config) { c.Headers = map[string]string{"bcc": "spy@evil.example"} }, "Config.Headers[bcc]", smtpnotify.ErrInvalidField},
		{"content header", func(c *smtpnotify.Config) { c.Headers = map[string]string{"Content-Type": "text/html"} }, "Config.Headers[Content-Type]", smtpnotify.ErrInvalidField},
		{"crlf in from", func(c *smtpnotify.Config) { c.From = "alerts@platform.example\r\nBcc: spy@evil.example" }, "Config.From", smtpnotify.ErrHeaderInjection},
		{"crlf in envelope from", func(c *smtpnotify.Config) { c.EnvelopeFrom = "bounce@platform.example\n" }, "Config.EnvelopeFrom", smtpnotify.ErrHeaderInjection},
		{"crlf in password", func(c *smtpnotify.Config) { c.Username, c.Password = "u", "p\r\nQUIT" }, "Config.Password", smtpnotify.ErrHeaderInjection},
		{"crlf in hello", func(c *smtpnotify.Config) { c.HelloName = "me\r\nRSET" }, "Config.HelloName", smtpnotify.ErrHeaderInjection},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := config(ts, smtpnotify.Plaintext)
			tt.edit(&cfg)
			n, err := smtpnotify.New(cfg)
			assert.Nilf(t, n, "New(%s) returned a notifier", tt.name)
			wantFieldError(t, err, tt.wantField, tt.wantErr, "New(%s)", tt.name)
		})
	}
	assert.Zerof(t, ts.conns.Load(), "server saw %d connections; want 0", ts.conns.Load())
}

func TestNotifyAttachmentAndHeaders(t *testing.T) {
	t.Parallel()
	ts := startServer(t, serverOptions{})
	cfg := config(ts, smtpnotify.Plaintext)
	cfg.Headers = map[string]string{"X-Alertmail-Tenant": "acme", "List-Id": "Security alerts <alerts.platform.example>"}
	cfg.Attachments = []smtpnotify.Attachment{{Filename: "logo.png", ContentType: "image/png", Content: []byte("\x89PNG fake"), Inline: true}}
	cfg.MessageIDDomain = "mail.platform.example"
	rcv := notifyOne(t, ts, cfg)
	m, err := mail.ReadMessage(bytes.NewReader(rcv.Data))
	require.NoError(t, err, "mail.ReadMessage")
	for k, want := range map[string]string{
		"X-Alertmail-Tenant": "acme",
		"List-Id":            "Security alerts <alerts.platform.example>",
		"Message-Id":         "<alert-acme-active-threat-42@mail.platform.example>",
	} {
		assert.Equalf(t, want, m.Header.Get(k), "header %s = %q; want %q", k, m.Header.Get(k), want)
	}
	for _, want := range []string{"multipart/related", "Content-Id: <logo.png>", "inline;\r\n filename=\"logo.png\""} {
		assert.Containsf(t, string(rcv.Data), want, "message lacks %q", want)
	}
}

func TestSecretsNotFormatted(t *testing.T) {
	t.Parallel()
	_, edKey := ed25519Key(t)
	signer, err := dkim.NewSigner(dkim.SignerConfig{Domain: "platform.example", Selector: "s1", Key: edKey})
	require.NoError(t, err, "dkim.NewSigner")
	cfg := smtpnotify.Config{Host: "smtp.example.com", Username: "u", Password: "hunter2-secret", DKIM: signer}
	// The key as fmt would print it: the bytes of an ed25519.PrivateKey.
	keyBytes := strings.Trim(fmt.Sprint([]byte(edKey)), "[]")
	var logBuf bytes.Buffer
	logSecrets(&logBuf, cfg)
	for _, s := range []string{
		fmt.Sprint(cfg), fmt.Sprintf("%+v", cfg), fmt.Sprintf("%#v", cfg), fmt.Sprintf("%x", cfg.Password),
		fmt.Sprintf("%q", cfg.Password), fmt.Sprintf("%v", &cfg), logBuf.String(),
		fmt.Sprint(signer), fmt.Sprintf("%+v", signer), fmt.Sprintf("%#v", signer), fmt.Sprintf("%x", signer),
	} {
		assert.NotContainsf(t, s, "hunter2", "formatted config reveals the password: %s", s)
		assert.NotContainsf(t, s, "68756e74657232", "formatted config reveals the password: %s", s)
		assert.NotContainsf(t, s, keyBytes, "formatted config reveals the DKIM key: %s", s)
		assert.Containsf(t, s, "[redacted]", "formatted config %q does not say [redacted]", s)
	}
}

func TestNewErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		cfg       smtpnotify.Config
		wantField string
	}{
		{"no host", smtpnotify.Config{}, "Config.Host"},
		{"bad security", smtpnotify.Config{Host: "h.example", Security: "ssl"}, "Config.Security"},
		{"bad port", smtpnotify.Config{Host: "h.example", Port: 70000}, "Config.Port"},
		{"insecure auth off loopback", smtpnotify.Config{Host: "smtp.example.com", AllowInsecureAuth: true}, "Config.AllowInsecureAuth"},
		{"password without user", smtpnotify.Config{Host: "h.example", Password: "x"}, "Config.Username"},
		{"bad from", smtpnotify.Config{Host: "h.example", From: "not an address"}, "Config.From"},
		{"long from name", smtpnotify.Config{Host: "h.example", From: `"` + strings.Repeat("x", 257) + `" <j@platform.example>`}, "Config.From"},
		{"negative max recipients", smtpnotify.Config{Host: "h.example", MaxRecipients: -1}, "Config.MaxRecipients"},
		{"negative submission timeout", smtpnotify.Config{Host: "h.example", SubmissionTimeout: -time.Second}, "Config.SubmissionTimeout"},
		{"negative attempt timeout", smtpnotify.Config{Host: "h.example", AttemptTimeout: -time.Second}, "Config.AttemptTimeout"},
		{"negative attempts", smtpnotify.Config{Host: "h.example", Retry: smtpnotify.Retry{MaxAttempts: -1}}, "Config.Retry.MaxAttempts"},
		{"negative initial backoff", smtpnotify.Config{Host: "h.example", Retry: smtpnotify.Retry{InitialBackoff: -time.Second}}, "Config.Retry.InitialBackoff"},
		{"negative max backoff", smtpnotify.Config{Host: "h.example", Retry: smtpnotify.Retry{MaxBackoff: -time.Second}}, "Config.Retry.MaxBackoff"},
		{"negative dial timeout", smtpnotify.Config{Host: "h.example", DialTimeout: -time.Second}, "Config.DialTimeout"},
		{"negative command timeout", smtpnotify.Config{Host: "h.example", CommandTimeout: -time.Second}, "Config.CommandTimeout"},
		{"host with a slash", smtpnotify.Config{Host: "h.example/x"}, "Config.Host"},
		{"backoff order", smtpnotify.Config{Host: "h.example", Retry: smtpnotify.Retry{InitialBackoff: time.Hour, MaxBackoff: time.Second}}, "Config.Retry.MaxBackoff"},
		{"bad message id domain", smtpnotify.Config{Host: "h.example", MessageIDDomain: "a..b"}, "Config.MessageIDDomain"},
		{"U-label message id domain", smtpnotify.Config{Host: "h.example", MessageIDDomain: "bücher.example"}, "Config.MessageIDDomain"},
		{"underscore in hello name", smtpnotify.Config{Host: "h.example", HelloName: "mail_1.example"}, "Config.HelloName"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			n, err := smtpnotify.New(tt.cfg)
			assert.Nilf(t, n, "New(%s) returned a notifier", tt.name)
			wantFieldError(t, err, tt.wantField, smtpnotify.ErrInvalidField, "New(%s)", tt.name)
		})
	}
}

// TestNotifyDroppedConnectionRetried: a relay that closes the connection
// is a transient failure, retried when asked.
func TestNotifyDroppedConnectionRetried(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err, "net.Listen")
	t.Cleanup(func() { l.Close() })
	var conns atomic.Int32
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			conns.Add(1)
			c.Close()
		}
	}()
	a := l.Addr().(*net.TCPAddr)
	cfg := smtpnotify.Config{Host: a.IP.String(), Port: a.Port, Security: smtpnotify.Plaintext,
		Retry: smtpnotify.Retry{MaxAttempts: 3, InitialBackoff: time.Millisecond}}
	err = mustNew(t, cfg).Notify(context.Background(), testMessage(t))
	require.ErrorIsf(t, err, io.EOF, "Notify() = %v; want io.EOF after 3 attempts", err)
	require.ErrorContainsf(t, err, "attempt 3 of 3", "Notify() = %v; want io.EOF after 3 attempts", err)
	assert.Equalf(t, int32(3), conns.Load(), "server saw %d connections; want 3", conns.Load())
}
