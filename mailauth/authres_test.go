package mailauth_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"strings"
	"testing"

	"github.com/emersion/go-msgauth/authres"

	"github.com/alertmail/alertmail/mailauth"
	"github.com/alertmail/alertmail/mailauth/dkim"
	"github.com/alertmail/alertmail/mailauth/dmarc"
	"github.com/alertmail/alertmail/mailauth/mailauthtest"
)

const received = "From: Security Alerts <alerts@example.com>\r\n" +
	"To: admin@customer.example\r\n" +
	"Subject: 3 new critical alerts\r\n" +
	"Date: Tue, 24 Nov 2026 08:00:00 +0000\r\n" +
	"Message-ID: <alert-1@example.com>\r\n" +
	"\r\n" +
	"Three new critical alerts were raised.\r\n"

// signedZones returns preflightZones plus the key record of a new signer
// for example.com, and the signer.
func signedZones(t testing.TB, key crypto.Signer) (mailauthtest.Zones, *dkim.Signer) {
	t.Helper()
	s, err := dkim.NewSigner(dkim.SignerConfig{Domain: "example.com", Selector: "k1", Key: key})
	if err != nil {
		t.Fatal(err)
	}
	z := mailauthtest.Zones{}
	for k, v := range preflightZones {
		z[k] = v
	}
	name, text := s.DNSRecord()
	var parts []string
	for len(text) > 255 {
		parts, text = append(parts, text[:255]), text[255:]
	}
	z[name] = []mailauthtest.Record{mailauthtest.TXT(append(parts, text)...)}
	return z, s
}

func signMessage(t testing.TB, s *dkim.Signer, msg string) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := s.Sign(&b, strings.NewReader(msg)); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestAuthenticate(t *testing.T) {
	t.Parallel()
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	zones, signer := signedZones(t, key)
	srv := mailauthtest.NewServer(t, zones)
	a, err := mailauth.NewAuthenticator(mailauth.AuthenticatorConfig{ServID: "mx.customer.example", Resolver: srv.Resolver(t)})
	if err != nil {
		t.Fatal(err)
	}
	signed := signMessage(t, signer, received)
	cases := []struct {
		name     string
		msg      []byte
		ip       string
		mailFrom string
		want     []string // substrings of the header value
		dmarc    dmarc.Result
	}{
		{"all pass", signed, "192.0.2.25", "bounce@bounce.example.com",
			[]string{"mx.customer.example; spf=pass smtp.helo=bounce.example.com smtp.mailfrom=bounce@bounce.example.com", "dkim=pass header.b=", "header.d=example.com header.i=@example.com header.s=k1",
				"dmarc=pass header.from=example.com policy.dmarc=reject"}, dmarc.Pass},
		{"esp ip, signed", signed, "198.51.100.7", "b@esp.example",
			[]string{"spf=pass smtp.helo=bounce.example.com smtp.mailfrom=b@esp.example", "dkim=pass", "dmarc=pass"}, dmarc.Pass},
		{"body changed", bytes.Replace(signed, []byte("Three new"), []byte("Thirty new"), 1), "198.51.100.7", "b@esp.example",
			[]string{`dkim=fail reason="signature d=example.com s=k1: body hash did not verify: the body was changed after signing"`,
				`dmarc=fail reason="disposition reject" header.from=example.com policy.dmarc=reject`}, dmarc.Fail},
		{"unsigned, spf fail", []byte(received), "203.0.113.9", "b@example.com",
			[]string{"spf=fail smtp.helo=bounce.example.com smtp.mailfrom=b@example.com", "dmarc=fail"}, dmarc.Fail},
		{"null sender uses helo", []byte(received), "192.0.2.25", "",
			[]string{"spf=pass smtp.helo=bounce.example.com", "dmarc=pass"}, dmarc.Pass},
		{"two from domains", []byte("From: a@example.com\r\nFrom: b@example.net\r\n\r\nx\r\n"), "192.0.2.25", "b@example.com",
			[]string{"dmarc=permerror"}, dmarc.PermError},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			res, err := a.Authenticate(context.Background(), c.msg, netipAddr(t, c.ip), c.mailFrom, "bounce.example.com")
			if err != nil {
				t.Fatalf("Authenticate error: %v", err)
			}
			v := res.Value()
			for _, w := range c.want {
				if !strings.Contains(v, w) {
					t.Errorf("Authenticate(%s).Value() = %q; want it to contain %q", c.name, v, w)
				}
			}
			if res.DMARC.Result != c.dmarc {
				t.Errorf("Authenticate(%s).DMARC.Result = %s; want %s", c.name, res.DMARC.Result, c.dmarc)
			}
			// The value must parse back as RFC 8601.
			id, results, err := authres.Parse(v)
			if err != nil || id != "mx.customer.example" || len(results) < 2 {
				t.Errorf("authres.Parse(%q) = %q, %d results, %v; want the authserv-id and the results", v, id, len(results), err)
			}
			if !strings.HasPrefix(res.String(), "Authentication-Results: mx.customer.example;") {
				t.Errorf("String() = %q; want the whole header field", res.String())
			}
		})
	}
}

func TestNewAuthenticatorNeedsServID(t *testing.T) {
	t.Parallel()
	if _, err := mailauth.NewAuthenticator(mailauth.AuthenticatorConfig{}); err == nil || !strings.Contains(err.Error(), "ServID") {
		t.Errorf("NewAuthenticator({}) error = %v; want one naming ServID", err)
	}
}

// BenchmarkAuthenticate is a full DMARC evaluation of a received message
// over an in-memory resolver: SPF for the envelope, one DKIM signature
// verified, DMARC evaluated, the Authentication-Results value formatted.
func BenchmarkAuthenticate(b *testing.B) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		b.Fatal(err)
	}
	_, edKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	for _, k := range []struct {
		name string
		key  crypto.Signer
	}{{"ed25519", edKey}, {"rsa2048", rsaKey}} {
		zones, signer := signedZones(b, k.key)
		msg := signMessage(b, signer, received)
		ip := netipAddr(b, "192.0.2.25")
		for _, gen := range []dmarc.Generation{dmarc.RFC7489, dmarc.RFC9989} {
			b.Run(k.name+"/"+strings.ReplaceAll(gen.String(), " ", ""), func(b *testing.B) {
				a, err := mailauth.NewAuthenticator(mailauth.AuthenticatorConfig{
					ServID: "mx.customer.example", Resolver: mailauthtest.NewResolver(zones), Generation: gen})
				if err != nil {
					b.Fatal(err)
				}
				b.ReportAllocs()
				for b.Loop() {
					res, err := a.Authenticate(context.Background(), msg, ip, "bounce@bounce.example.com", "mta.example.com")
					if err != nil || res.DMARC.Result != dmarc.Pass || res.DKIM[0].Result != "pass" || res.SPF != "pass" {
						b.Fatalf("Authenticate = %v, %v; want all pass", res, err)
					}
					_ = res.Value()
				}
			})
		}
	}
}

// FuzzAuthenticate feeds arbitrary messages (From headers, folding,
// signatures) to the whole receive-side check: it must never panic, and
// the header value it writes must parse as RFC 8601.
func FuzzAuthenticate(f *testing.F) {
	key := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{3}, 32))
	zones, signer := signedZones(f, key)
	a, err := mailauth.NewAuthenticator(mailauth.AuthenticatorConfig{ServID: "mx.example", Resolver: mailauthtest.NewResolver(zones)})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(string(signMessage(f, signer, received)))
	f.Add(received)
	f.Add("From: a@example.com\r\nFrom: b@example.net\r\n\r\n")
	f.Add("From:\r\n =?utf-8?q?A?= <a@EXAMPLE.com>\r\n\r\nx")
	f.Add("from: \"x@y\" <a@example.com>, <b@example.com>\n\nbody")
	f.Add("From: undisclosed:;\r\n\r\n")
	ip := netipAddr(f, "192.0.2.25")
	f.Fuzz(func(t *testing.T, msg string) {
		res, err := a.Authenticate(context.Background(), []byte(msg), ip, "b@bounce.example.com", "mta.example.com")
		if err != nil {
			return
		}
		if res.DMARC == nil {
			t.Fatalf("Authenticate(%q).DMARC = nil; want a verdict", msg)
		}
		if _, _, err := authres.Parse(res.Value()); err != nil {
			t.Errorf("authres.Parse(%q) error %v for message %q", res.Value(), err, msg)
		}
	})
}
