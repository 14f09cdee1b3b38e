package smtpnotify

import (
	"bytes"
	"mime"
	"net/mail"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jordan-wright/email"

	"github.com/alertmail/alertmail/alerts"
)

// FuzzCompose checks that whatever the message's fields hold, compose
// either refuses them or produces a message whose header has exactly the
// fields the notifier sets, once each, with the subject intact.
func FuzzCompose(f *testing.F) {
	f.Add("Active Threat Alerts: 3 events", "ops@acme.example", "Alerts <alerts@platform.example>", "soc@acme.example", "m-1")
	f.Add("a\r\nBcc: x@evil.example", "ops@acme.example\r\nBcc: x@evil.example", "a@b.example", "", "id")
	f.Add("Ünïcode sübject 🚨", "Ops@Bücher.Example", `"Sécurité" <alerts@platform.example>`, "x", "a.b")
	f.Add("=?utf-8?q?encoded?=", "undisclosed-recipients:;", "a@b.example\n", "c@d.example\x00", "a\rb")
	s, err := Config{Host: "relay.example", From: "alerts@platform.example"}.validate()
	if err != nil {
		f.Fatal(err)
	}
	allowed := []string{"From", "To", "Reply-To", "Subject", "Date", "Message-Id", "Mime-Version", "Content-Type"}
	f.Fuzz(func(t *testing.T, subject, to, from, replyTo, id string) {
		msg := &alerts.Message{ID: id, From: from, ReplyTo: replyTo, To: []string{to}, Subject: subject,
			Text: "text", HTML: "<p>html</p>", Time: time.Unix(0, 0)}
		env, err := s.compose(msg)
		if err != nil {
			return
		}
		m, err := mail.ReadMessage(bytes.NewReader(env.data))
		if err != nil {
			t.Fatalf("compose(%q, %q, %q, %q) produced an unreadable message: %v\n%s", subject, to, from, replyTo, err, env.data)
		}
		for k, v := range m.Header {
			if !slices.Contains(allowed, k) {
				t.Errorf("compose(%q, %q, %q, %q) produced header %s: %q", subject, to, from, replyTo, k, v)
			}
			if len(v) != 1 {
				t.Errorf("compose(%q, %q, %q, %q) produced %d %s fields", subject, to, from, replyTo, len(v), k)
			}
		}
		got, err := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
		if err != nil || got != subject {
			// A subject that already looks like an encoded word is decoded
			// by the reader; compare what a mail client would show.
			if strings.Contains(subject, "=?") {
				return
			}
			t.Errorf("compose: Subject %q came out as %q (%v)", subject, got, err)
		}
		if len(env.to) != 1 || strings.ContainsAny(env.to[0], "\r\n\x00,") && !strings.HasPrefix(env.to[0], `"`) {
			t.Errorf("compose: envelope recipients %q", env.to)
		}
	})
}

// TestComposerGaps shows the two header-injection gaps of the pinned
// jordan-wright/email that compose's checks close. If a new version fixes
// them, this test fails and the note in doc.go can go.
func TestComposerGaps(t *testing.T) {
	t.Parallel()
	e := email.NewEmail()
	e.From = "a@platform.example"
	e.To = []string{"ops@acme.example\r\nBcc: spy@evil.example"}
	e.Text = []byte("x")
	b, err := e.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "\r\nBcc: spy@evil.example\r\n") {
		t.Errorf("email.Bytes() no longer copies an unparsable To raw:\n%s", b)
	}
	e = email.NewEmail()
	e.From = "a@platform.example"
	e.Text = []byte("x")
	if _, err := e.Attach(strings.NewReader("x"), "a.txt\r\nX-Injected: 1", "text/plain"); err != nil {
		t.Fatal(err)
	}
	if b, err = e.Bytes(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "\r\nX-Injected: 1") {
		t.Errorf("email.Bytes() no longer copies attachment names raw:\n%s", b)
	}
}

// TestConfigCopied checks that changing the caller's configuration after
// New cannot smuggle a bad attachment name or header past the checks.
func TestConfigCopied(t *testing.T) {
	t.Parallel()
	cfg := Config{Host: "relay.example", From: "alerts@platform.example",
		Headers:     map[string]string{"X-Tag": "ok"},
		Attachments: []Attachment{{Filename: "logo.png", ContentType: "image/png", Content: []byte("x")}}}
	s, err := cfg.validate()
	if err != nil {
		t.Fatal(err)
	}
	cfg.Headers["X-Tag"] = "bad\r\nBcc: spy@evil.example"
	cfg.Attachments[0].Filename = "logo.png\r\nX-Injected: 1"
	env, err := s.compose(&alerts.Message{ID: "m", To: []string{"ops@acme.example"}, Subject: "s", Text: "t"})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(env.data), "Bcc:") || strings.Contains(string(env.data), "X-Injected") {
		t.Errorf("a change after New reached the message:\n%s", env.data)
	}
}

func BenchmarkCompose(b *testing.B) {
	s, err := Config{Host: "relay.example", From: "Security Alerts <alerts@platform.example>"}.validate()
	if err != nil {
		b.Fatal(err)
	}
	msg := &alerts.Message{ID: "alert-1", To: []string{"ops@acme.example", "ciso@acme.example"}, ReplyTo: "soc@acme.example",
		Subject: "Active Threat Alerts: 20 events", Text: strings.Repeat("- 2026-03-29 03:15:00 CEST (UTC+02:00) | score 9\n", 60),
		HTML: strings.Repeat("<tr><td>2026-03-29 03:15:00 CEST</td><td>9</td></tr>\n", 60), Time: time.Unix(0, 0)}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.compose(msg); err != nil {
			b.Fatal(err)
		}
	}
}
