package smtpnotify

import (
	"bytes"
	"io"
	"mime"
	"net/mail"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/jordan-wright/email"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/alertmail/alertmail/alerts"
)

// FuzzCompose checks that whatever the message's fields hold, compose
// either refuses them or produces a message whose header has exactly the
// fields the notifier sets, once each, within the line limits, with the
// subject intact.
func FuzzCompose(f *testing.F) {
	f.Add("Active Threat Alerts: 3 events", "ops@acme.example", "Alerts <alerts@platform.example>", "soc@acme.example", "m-1")
	f.Add("a\r\nBcc: x@evil.example", "ops@acme.example\r\nBcc: x@evil.example", "a@b.example", "", "id")
	f.Add("Ünïcode sübject 🚨", "Ops@Bücher.Example", `"Sécurité" <alerts@platform.example>`, "x", "a.b")
	f.Add("=?utf-8?q?encoded?=", "undisclosed-recipients:;", "a@b.example\n", "c@d.example\x00", "a\rb")
	f.Add(strings.Repeat("x", 900), "ops@acme.example", `"Acme, Inc." <alerts@platform.example>`, "", "long")
	s, err := Config{Host: "relay.example", From: "alerts@platform.example"}.validate()
	require.NoError(f, err, "validate")
	allowed := []string{"From", "To", "Reply-To", "Subject", "Date", "Message-Id", "Mime-Version", "Content-Type"}
	f.Fuzz(func(t *testing.T, subject, to, from, replyTo, id string) {
		msg := &alerts.Message{ID: id, From: from, ReplyTo: replyTo, To: []string{to}, Subject: subject,
			Text: "text", HTML: "<p>html</p>", Time: time.Unix(0, 0)}
		env, err := s.compose(msg)
		if err != nil {
			return
		}
		call := "compose(" + strings.Join([]string{subject, to, from, replyTo}, ", ") + ")"
		assert.Emptyf(t, headerLineErrors(env.bytes()), "%s header lines", call)
		m, err := mail.ReadMessage(bytes.NewReader(env.bytes()))
		require.NoErrorf(t, err, "%s produced an unreadable message\n%s", call, env.bytes())
		for k, v := range m.Header {
			assert.Containsf(t, allowed, k, "%s produced header %s: %q", call, k, v)
			assert.Lenf(t, v, 1, "%s produced %d %s fields", call, len(v), k)
		}
		got, err := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
		// A subject that already looks like an encoded word is decoded by
		// the reader, and net/textproto drops the white space around a
		// value; compare what a mail client would show.
		if !strings.Contains(subject, "=?") && strings.TrimSpace(subject) == subject {
			assert.NoErrorf(t, err, "%s: Subject %q", call, m.Header.Get("Subject"))
			assert.Equalf(t, subject, got, "%s: Subject %q came out as %q", call, subject, got)
		}
		if assert.Lenf(t, env.to, 1, "%s: envelope recipients %q", call, env.to) {
			assert.Falsef(t, strings.ContainsAny(env.to[0], "\r\n\x00,") && !strings.HasPrefix(env.to[0], `"`),
				"%s: envelope recipient %q", call, env.to[0])
		}
	})
}

// TestComposerGaps shows what the pinned jordan-wright/email does that
// compose works around: an unparsable To and attachment file names copied
// raw into the header (header injection, closed by compose's checks); no
// folding, and From and To split at every comma (so compose writes those
// fields itself); a From present without a value left out (how compose
// keeps the library from writing its own). If a new version changes any
// of these, this test fails, and doc.go and mime need a look.
func TestComposerGaps(t *testing.T) {
	t.Parallel()
	compose := func(edit func(e *email.Email)) string {
		e := email.NewEmail()
		e.From = "a@platform.example"
		e.Text = []byte("x")
		edit(e)
		b, err := e.Bytes()
		require.NoError(t, err, "email.Bytes")
		return string(b)
	}
	got := compose(func(e *email.Email) { e.To = []string{"ops@acme.example\r\nBcc: spy@evil.example"} })
	assert.Containsf(t, got, "\r\nBcc: spy@evil.example\r\n", "email.Bytes() no longer copies an unparsable To raw:\n%s", got)
	got = compose(func(e *email.Email) {
		_, err := e.Attach(strings.NewReader("x"), "a.txt\r\nX-Injected: 1", "text/plain")
		require.NoError(t, err, "Attach")
	})
	assert.Containsf(t, got, "\r\nX-Injected: 1", "email.Bytes() no longer copies attachment names raw:\n%s", got)
	var to []string
	for i := range 20 {
		to = append(to, strings.Repeat("x", 40)+string(rune('a'+i))+"@acme.example")
	}
	got = compose(func(e *email.Email) { e.From, e.To = `"Acme, Inc." <a@platform.example>`, to })
	assert.Containsf(t, got, "From: \"Acme,  Inc.\" <a@platform.example>\r\n", "email.Bytes() no longer splits From at a comma:\n%s", got)
	assert.Containsf(t, got, "To: <"+to[0]+">, <"+to[1]+">, ", "email.Bytes() now folds To:\n%s", got)
	got = compose(func(e *email.Email) { e.Headers["From"] = []string{} })
	assert.NotContainsf(t, got, "From:", "email.Bytes() writes a From present without a value:\n%s", got)
}

// TestConfigCopied checks that changing the caller's configuration after
// New cannot smuggle a bad attachment name or header past the checks.
func TestConfigCopied(t *testing.T) {
	t.Parallel()
	cfg := Config{Host: "relay.example", From: "alerts@platform.example",
		Headers:     map[string]string{"X-Tag": "ok"},
		Attachments: []Attachment{{Filename: "logo.png", ContentType: "image/png", Content: []byte("x")}}}
	s, err := cfg.validate()
	require.NoError(t, err, "validate")
	cfg.Headers["X-Tag"] = "bad\r\nBcc: spy@evil.example"
	cfg.Attachments[0].Filename = "logo.png\r\nX-Injected: 1"
	env, err := s.compose(&alerts.Message{ID: "m", To: []string{"ops@acme.example"}, Subject: "s", Text: "t"})
	require.NoError(t, err, "compose")
	assert.NotContainsf(t, string(env.bytes()), "Bcc:", "a change after New reached the message:\n%s", env.bytes())
	assert.NotContainsf(t, string(env.bytes()), "X-Injected", "a change after New reached the message:\n%s", env.bytes())
}

// TestComposeDeduplicates: a recipient given twice gets one RCPT and is
// listed once.
func TestComposeDeduplicates(t *testing.T) {
	t.Parallel()
	s, err := Config{Host: "relay.example", From: "alerts@platform.example"}.validate()
	require.NoError(t, err, "validate")
	env, err := s.compose(&alerts.Message{ID: "m", To: []string{"ops@acme.example", "ops@ACME.example", "ciso@acme.example"}, Subject: "s", Text: "t"})
	require.NoError(t, err, "compose")
	assert.Equal(t, []string{"ops@acme.example", "ciso@acme.example"}, env.to, "envelope recipients")
	assert.Contains(t, string(env.bytes()), "\r\nTo: <ops@acme.example>, <ciso@acme.example>\r\n", "To field")
}

func TestPartsReader(t *testing.T) {
	t.Parallel()
	parts := [][]byte{[]byte("From: a\r\n"), nil, []byte("\r\nbody")}
	got, err := io.ReadAll(iotest.OneByteReader(&partsReader{parts: slices.Clone(parts)}))
	require.NoError(t, err, "reading a partsReader")
	assert.Equal(t, "From: a\r\n\r\nbody", string(got), "partsReader read")
	var buf bytes.Buffer
	n, err := (&partsReader{parts: slices.Clone(parts)}).WriteTo(&buf)
	require.NoError(t, err, "partsReader.WriteTo")
	assert.Equal(t, int64(15), n, "partsReader.WriteTo count")
	assert.Equal(t, "From: a\r\n\r\nbody", buf.String(), "partsReader.WriteTo")
	assert.Equal(t, "From: a\r\n", string(parts[0]), "the parts read are left as they were")
}

func BenchmarkCompose(b *testing.B) {
	s, err := Config{Host: "relay.example", From: "Security Alerts <alerts@platform.example>"}.validate()
	require.NoError(b, err, "validate")
	msg := &alerts.Message{ID: "alert-1", To: []string{"ops@acme.example", "ciso@acme.example"}, ReplyTo: "soc@acme.example",
		Subject: "Active Threat Alerts: 20 events", Text: strings.Repeat("- 2026-03-29 03:15:00 CEST (UTC+02:00) | score 9\n", 60),
		HTML: strings.Repeat("<tr><td>2026-03-29 03:15:00 CEST</td><td>9</td></tr>\n", 60), Time: time.Unix(0, 0)}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.compose(msg); err != nil {
			require.FailNow(b, "compose", err)
		}
	}
}
