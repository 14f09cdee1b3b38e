package smtpnotify_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/alertmail/alertmail/alerts/smtpnotify"
	"github.com/alertmail/alertmail/internal/dkimpy"
	"github.com/alertmail/alertmail/mailauth/dkim"
)

var testRSAKey = sync.OnceValues(func() (*rsa.PrivateKey, error) { return rsa.GenerateKey(rand.Reader, 2048) })

func rsaKey(t *testing.T) *rsa.PrivateKey {
	t.Helper()
	k, err := testRSAKey()
	require.NoError(t, err, "rsa.GenerateKey")
	return k
}

func ed25519Key(t *testing.T) (ed25519.PublicKey, ed25519.PrivateKey) {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err, "ed25519.GenerateKey")
	return pub, priv
}

// logSecrets logs a configuration the ways a host might.
func logSecrets(w io.Writer, cfg smtpnotify.Config) {
	l := slog.New(slog.NewJSONHandler(w, nil))
	l.Info("smtp", "config", cfg, "password", cfg.Password, "dkim", cfg.DKIM)
	slog.New(slog.NewTextHandler(w, nil)).Info("smtp", "config", cfg, "password", cfg.Password, "dkim", cfg.DKIM)
}

// TestNotifyDKIMVerifiedByDkimpy signs through mailauth/dkim's Signer, as
// the From address's domain or as the message's DKIMDomain, and has dkimpy
// verify the message the relay received.
func TestNotifyDKIMVerifiedByDkimpy(t *testing.T) {
	t.Parallel()
	dkimpy.Require(t)
	_, edKey := ed25519Key(t)
	tests := []struct {
		name       string
		key        crypto.Signer
		selector   string
		dkimDomain string // Message.DKIMDomain
		wantDomain string // d=
		folded     bool   // a From with a comma and 20 long recipients: folded fields
	}{
		{"rsa-sha256", rsaKey(t), "alerts2026", "", "platform.example", false},
		{"ed25519-sha256", edKey, "ed", "", "platform.example", false},
		{"customer domain", edKey, "ed", "acme.example", "acme.example", false},
		{"folded headers", edKey, "ed", "", "platform.example", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			signer, err := dkim.NewSigner(dkim.SignerConfig{Domain: "platform.example", Selector: tt.selector, Key: tt.key})
			require.NoError(t, err, "dkim.NewSigner")
			_, record := signer.DNSRecord()
			ts := startServer(t, serverOptions{startTLS: true})
			cfg := config(ts, smtpnotify.StartTLS)
			cfg.DKIM = signer
			msg := testMessage(t)
			msg.DKIMDomain = tt.dkimDomain
			if tt.folded {
				msg.From = `"Acme, Inc. Security Operations Centre" <alerts@platform.example>`
				msg.To = nil
				for i := range 20 {
					msg.To = append(msg.To, fmt.Sprintf("security-operations-team-%02d@subsidiary.acme.example", i))
				}
			}
			require.NoError(t, mustNew(t, cfg).Notify(context.Background(), msg), "Notify()")
			got := ts.messages()
			require.Lenf(t, got, 1, "server received %d messages; want 1", len(got))
			data := got[0].Data
			require.Truef(t, bytes.HasPrefix(data, []byte("DKIM-Signature: ")), "message does not start with a DKIM-Signature:\n%s", data)
			if tt.folded {
				require.Containsf(t, string(data), ",\r\n <security-operations-team-", "message has no folded To:\n%s", data)
			}

			name := tt.selector + "._domainkey." + tt.wantDomain
			verify := func(msg []byte) (string, error) {
				return dkimpy.Verify(t, msg, map[string]string{name: record})
			}
			out, err := verify(data)
			require.NoErrorf(t, err, "dkimpy verify = %q; want pass after asking for %s\n%s", out, name, data)
			require.Truef(t, strings.HasPrefix(out, "pass "+name), "dkimpy verify = %q; want pass after asking for %s\n%s", out, name, data)
			// A changed body must fail, or the check above proves nothing.
			tampered := bytes.Replace(data, []byte("ransomware note"), []byte("ransomware n0te"), 1)
			out, err = verify(tampered)
			assert.Errorf(t, err, "dkimpy verify of a tampered message = %q; want fail", out)
			assert.Truef(t, strings.HasPrefix(out, "fail"), "dkimpy verify of a tampered message = %q; want fail", out)
		})
	}
}

// TestNotifySignerFailure: a signer's error stops the message before any
// connection, and is returned wrapped.
func TestNotifySignerFailure(t *testing.T) {
	t.Parallel()
	ts := startServer(t, serverOptions{})
	errNoKey := errors.New("no key for this domain")
	var asked []string
	cfg := config(ts, smtpnotify.Plaintext)
	cfg.DKIM = smtpnotify.SignerFunc(func(w io.Writer, r io.Reader, domain string) error {
		asked = append(asked, domain)
		return errNoKey
	})
	msg := testMessage(t)
	msg.DKIMDomain = "acme.example"
	err := mustNew(t, cfg).Notify(context.Background(), msg)
	require.ErrorIsf(t, err, errNoKey, "Notify() = %v; want the signer's error", err)
	assert.Equal(t, []string{"acme.example"}, asked, "domains the signer was asked to sign as")
	assert.Zerof(t, ts.conns.Load(), "server saw %d connections; want 0", ts.conns.Load())
}

var _ smtpnotify.Signer = (*dkim.Signer)(nil)
