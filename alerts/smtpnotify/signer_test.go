package smtpnotify

import (
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/alertmail/alertmail/alerts"
	"github.com/alertmail/alertmail/mailauth/dkim"
)

// BenchmarkComposeDKIM is BenchmarkCompose with a DKIM signature, by the
// signer of mailauth/dkim with its default header fields.
func BenchmarkComposeDKIM(b *testing.B) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(b, err, "rsa.GenerateKey")
	_, edKey, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(b, err, "ed25519.GenerateKey")
	msg := &alerts.Message{ID: "alert-1", To: []string{"ops@acme.example", "ciso@acme.example"}, ReplyTo: "soc@acme.example",
		Subject: "Active Threat Alerts: 20 events", Text: strings.Repeat("- 2026-03-29 03:15:00 CEST (UTC+02:00) | score 9\n", 60),
		HTML: strings.Repeat("<tr><td>2026-03-29 03:15:00 CEST</td><td>9</td></tr>\n", 60), Time: time.Unix(0, 0)}
	for _, k := range []struct {
		name string
		key  crypto.Signer
	}{{"rsa", rsaKey}, {"ed25519", edKey}} {
		b.Run(k.name, func(b *testing.B) {
			signer, err := dkim.NewSigner(dkim.SignerConfig{Domain: "platform.example", Selector: "s1", Key: k.key})
			require.NoError(b, err, "dkim.NewSigner")
			s, err := Config{Host: "relay.example", From: "Security Alerts <alerts@platform.example>", DKIM: signer}.validate()
			require.NoError(b, err, "validate")
			b.ReportAllocs()
			for b.Loop() {
				if _, err := s.compose(msg); err != nil {
					require.FailNow(b, "compose", err)
				}
			}
		})
	}
}
