package dkim_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/alertmail/alertmail/mailauth/dkim"
	"github.com/alertmail/alertmail/mailauth/mailauthtest"
)

const message = "From: Security Alerts <alerts@example.com>\r\n" +
	"To: admin@customer.example\r\n" +
	"Subject: 3 new critical alerts\r\n" +
	"Date: Tue, 24 Nov 2026 08:00:00 +0000\r\n" +
	"Message-ID: <alert-1@example.com>\r\n" +
	"MIME-Version: 1.0\r\n" +
	"Content-Type: text/plain; charset=utf-8\r\n" +
	"\r\n" +
	"Three new critical alerts were raised.\r\n" +
	"Open the console to review them.\r\n"

var (
	rsaOnce sync.Once
	rsaKey  *rsa.PrivateKey
)

// testRSAKey returns a 2048-bit key, made once for all tests.
func testRSAKey(t testing.TB) *rsa.PrivateKey {
	t.Helper()
	rsaOnce.Do(func() {
		var err error
		rsaKey, err = rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
	})
	return rsaKey
}

func testEd25519Key(t testing.TB) ed25519.PrivateKey {
	t.Helper()
	_, k, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	return k
}

// keys returns one key of each supported type.
func keys(t testing.TB) map[string]crypto.Signer {
	return map[string]crypto.Signer{"rsa": testRSAKey(t), "ed25519": testEd25519Key(t)}
}

func newSigner(t testing.TB, key crypto.Signer, selector string) *dkim.Signer {
	t.Helper()
	s, err := dkim.NewSigner(dkim.SignerConfig{Domain: "example.com", Selector: selector, Key: key})
	require.NoError(t, err)
	return s
}

// keyRecord returns the TXT record of a signer, in strings of at most 255
// octets as DNS requires.
func keyRecord(s *dkim.Signer) (string, mailauthtest.Record) {
	name, text := s.DNSRecord()
	var parts []string
	for len(text) > 255 {
		parts, text = append(parts, text[:255]), text[255:]
	}
	return name, mailauthtest.TXT(append(parts, text)...)
}

func sign(t testing.TB, s *dkim.Signer, msg string) string {
	t.Helper()
	var b bytes.Buffer
	require.NoError(t, s.Sign(&b, strings.NewReader(msg)))
	return b.String()
}

func verify(t testing.TB, res dkim.Resolver, msg string) []dkim.Signature {
	t.Helper()
	v, err := dkim.NewVerifier(dkim.VerifierConfig{Resolver: res})
	require.NoError(t, err)
	sigs, err := v.Verify(context.Background(), strings.NewReader(msg))
	require.NoErrorf(t, err, "Verify error: %v", err)
	return sigs
}

// python returns /usr/bin/python3 with dkimpy importable, or skips the test
// (fails it under CI=true).
func python(t *testing.T) string {
	t.Helper()
	const py = "/usr/bin/python3"
	if err := exec.Command(py, "-c", "import dkim, dns.resolver, nacl").Run(); err != nil {
		require.NotEqualf(t, "true", os.Getenv("CI"), "dkimpy (Debian python3-dkim) is required under CI: %v", err)
		t.Skipf("dkimpy (Debian python3-dkim) not available: %v", err)
	}
	return py
}

// dkimpyVerify is dkimverify with its DNS sent to the loopback server.
const dkimpyVerify = `
import sys, dkim, dns.resolver
r = dns.resolver.Resolver(configure=False)
r.nameservers = ["127.0.0.1"]
r.port = int(sys.argv[1])
r.lifetime = 5
def dnsfunc(name, timeout=5):
    name = name.decode() if isinstance(name, bytes) else name
    try:
        a = r.resolve(name, "TXT")
    except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
        return None
    return b"".join(a[0].strings)
ok = dkim.verify(sys.stdin.buffer.read(), dnsfunc=dnsfunc)
print("signature ok" if ok else "signature verification failed")
sys.exit(0 if ok else 1)
`

// dkimpySign is dkimsign with the algorithm and header list given.
const dkimpySign = `
import sys, dkim
key = open(sys.argv[1], "rb").read()
msg = sys.stdin.buffer.read()
sig = dkim.sign(msg, sys.argv[2].encode(), sys.argv[3].encode(), key,
    signature_algorithm=sys.argv[4].encode(),
    canonicalize=(sys.argv[5].encode(), sys.argv[6].encode()),
    include_headers=[b"from", b"to", b"subject", b"date", b"message-id"])
sys.stdout.buffer.write(sig + msg)
`

func runPython(t *testing.T, script string, stdin string, args ...string) (string, error) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "script.py")
	require.NoError(t, os.WriteFile(path, []byte(script), 0o600))
	cmd := exec.Command(python(t), append([]string{path}, args...)...)
	cmd.Stdin = strings.NewReader(stdin)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil && stderr.Len() > 0 {
		t.Logf("python stderr: %s", stderr.String())
	}
	return string(out), err
}

func TestSignedHereVerifiesWithDkimpy(t *testing.T) {
	t.Parallel()
	for name, key := range keys(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := newSigner(t, key, "sel-"+name)
			rname, rec := keyRecord(s)
			srv := mailauthtest.NewServer(t, mailauthtest.Zones{rname: {rec}})
			port := srv.Addr()[strings.LastIndexByte(srv.Addr(), ':')+1:]
			signed := sign(t, s, message)

			out, err := runPython(t, dkimpyVerify, signed, port)
			if assert.NoErrorf(t, err, "dkimpy verify(signed with %s) = %q, %v; want signature ok\n%s", name, out, err, signed) {
				assert.Equalf(t, "signature ok", strings.TrimSpace(out), "dkimpy verify(signed with %s) = %q; want signature ok\n%s", name, out, signed)
			}
			// dkimpy must also see a change made after signing.
			tampered := strings.Replace(signed, "Three new", "Thirty new", 1)
			out, err = runPython(t, dkimpyVerify, tampered, port)
			assert.Errorf(t, err, "dkimpy verify(tampered) = %q, nil; want a failure", out)
		})
	}
}

func TestDkimpySignedVerifiesHere(t *testing.T) {
	t.Parallel()
	ed := testEd25519Key(t)
	rsaDER := x509.MarshalPKCS1PrivateKey(testRSAKey(t))
	rsaPub, err := x509.MarshalPKIXPublicKey(&testRSAKey(t).PublicKey)
	require.NoError(t, err)
	cases := []struct {
		name, algo, hc, bc string
		priv               []byte // the key file dkimpy reads
		record             string
		cli                bool // sign with the dkimsign command, not dkim.sign
	}{
		{"dkimsign rsa", "rsa-sha256", "relaxed", "simple", pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: rsaDER}),
			"v=DKIM1; k=rsa; p=" + base64.StdEncoding.EncodeToString(rsaPub), true},
		{"dkimsign ed25519", "ed25519-sha256", "relaxed", "relaxed", []byte(base64.StdEncoding.EncodeToString(ed.Seed())),
			"v=DKIM1; k=ed25519; p=" + base64.StdEncoding.EncodeToString(ed.Public().(ed25519.PublicKey)), true},
		{"rsa relaxed/simple", "rsa-sha256", "relaxed", "simple", pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: rsaDER}),
			"v=DKIM1; k=rsa; p=" + base64.StdEncoding.EncodeToString(rsaPub), false},
		{"rsa simple/simple", "rsa-sha256", "simple", "simple", pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: rsaDER}),
			"v=DKIM1; k=rsa; p=" + base64.StdEncoding.EncodeToString(rsaPub), false},
		{"ed25519 relaxed/relaxed", "ed25519-sha256", "relaxed", "relaxed", []byte(base64.StdEncoding.EncodeToString(ed.Seed())),
			"v=DKIM1; k=ed25519; p=" + base64.StdEncoding.EncodeToString(ed.Public().(ed25519.PublicKey)), false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			keyFile := filepath.Join(t.TempDir(), "key")
			require.NoError(t, os.WriteFile(keyFile, c.priv, 0o600))
			var signed string
			if c.cli {
				signed = dkimsign(t, message, "--hcanon", c.hc, "--bcanon", c.bc, "--signalg", c.algo, "py", "example.com", keyFile)
			} else {
				var err error
				signed, err = runPython(t, dkimpySign, message, keyFile, "py", "example.com", c.algo, c.hc, c.bc)
				require.NoErrorf(t, err, "dkimpy sign: %v", err)
			}
			var rec mailauthtest.Record
			text := c.record
			var parts []string
			for len(text) > 255 {
				parts, text = append(parts, text[:255]), text[255:]
			}
			rec = mailauthtest.TXT(append(parts, text)...)
			srv := mailauthtest.NewServer(t, mailauthtest.Zones{"py._domainkey.example.com": {rec}})
			sigs := verify(t, srv.Resolver(t), signed)
			require.Lenf(t, sigs, 1, "Verify(dkimpy %s) = %+v; want one signature\n%s", c.name, sigs, signed)
			got := [3]string{string(sigs[0].Result), sigs[0].Domain, sigs[0].Selector}
			want := [3]string{"pass", "example.com", "py"}
			require.Equalf(t, want, got, "Verify(dkimpy %s) = %+v; want a pass for d=example.com s=py\n%s", c.name, sigs, signed)
			tampered := strings.Replace(signed, "Subject: 3 new", "Subject: 0 new", 1)
			sigs = verify(t, srv.Resolver(t), tampered)
			if assert.Lenf(t, sigs, 1, "Verify(dkimpy %s, Subject changed) = %+v; want one signature", c.name, sigs) {
				assert.EqualValuesf(t, "fail", sigs[0].Result, "Verify(dkimpy %s, Subject changed) = %+v; want fail", c.name, sigs)
			}
		})
	}
}

// dkimsign runs Debian's dkimsign command (python3-dkim) on msg.
func dkimsign(t *testing.T, msg string, args ...string) string {
	t.Helper()
	python(t) // dkimsign is a dkimpy script: same requirement
	path, err := exec.LookPath("dkimsign")
	if err != nil {
		require.NotEqualf(t, "true", os.Getenv("CI"), "dkimsign (Debian python3-dkim) is required under CI: %v", err)
		t.Skipf("dkimsign not available: %v", err)
	}
	cmd := exec.Command(path, args...)
	cmd.Stdin = strings.NewReader(msg)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoErrorf(t, err, "dkimsign %q: %v\n%s", args, err, stderr.String())
	return string(out)
}

func TestSignVerifyRoundTrip(t *testing.T) {
	t.Parallel()
	for name, key := range keys(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := newSigner(t, key, "s1")
			rname, rec := keyRecord(s)
			srv := mailauthtest.NewServer(t, mailauthtest.Zones{rname: {rec}})
			sigs := verify(t, srv.Resolver(t), sign(t, s, message))
			require.Equalf(t, 1, len(sigs), "Verify = %d signatures; want 1", len(sigs))
			got := sigs[0]
			assert.NoErrorf(t, got.Err, "Verify(signed with %s) = %+v; want pass", name, got)
			assert.NotEmptyf(t, got.B, "Verify(signed with %s) = %+v; want the b= value", name, got)
			gotTags := [5]string{string(got.Result), got.Domain, got.Selector, got.Algorithm, got.Identifier}
			wantTags := [5]string{"pass", "example.com", "s1", name + "-sha256", "@example.com"}
			assert.Equalf(t, wantTags, gotTags, "Verify(signed with %s) = %+v; want pass for d=example.com s=s1 a=%s-sha256", name, got, name)
		})
	}
}

func TestVerifyFailures(t *testing.T) {
	t.Parallel()
	key := testEd25519Key(t)
	s := newSigner(t, key, "s1")
	other := newSigner(t, testEd25519Key(t), "s1")
	rname, rec := keyRecord(s)
	_, otherRec := keyRecord(other)
	signed := sign(t, s, message)
	srv := mailauthtest.NewServer(t, mailauthtest.Zones{
		rname:                            {rec},
		"gone._domainkey.example.com":    {mailauthtest.NoneOf(mailauthtest.TypeTXT)},
		"slow._domainkey.example.com":    {mailauthtest.Timeout()},
		"rotated._domainkey.example.com": {otherRec},
	})
	res := srv.Resolver(t)
	cases := []struct {
		name   string
		msg    string
		result string
		reason error
		text   string
	}{
		{"body changed", strings.Replace(signed, "Three new", "Thirty new", 1), "fail", dkim.ErrBodyHash, "body was changed after signing"},
		{"body appended", signed + "P.S. click here\r\n", "fail", dkim.ErrBodyHash, "body was changed after signing"},
		{"subject changed", strings.Replace(signed, "Subject: 3 new", "Subject: 0 new", 1), "fail", dkim.ErrHeaderHash, "signed header field was changed"},
		{"from added", strings.Replace(signed, "To: ", "From: ceo@example.com\r\nTo: ", 1), "fail", dkim.ErrHeaderHash, "signed header field was changed"},
		{"no key", strings.Replace(signed, "s=s1", "s=gone", 1), "permerror", dkim.ErrNoKey, "no key record"},
		{"key timeout", strings.Replace(signed, "s=s1", "s=slow", 1), "temperror", dkim.ErrKeyUnavailable, "temporary DNS failure"},
		{"key rotated", strings.Replace(signed, "s=s1", "s=rotated", 1), "fail", dkim.ErrHeaderHash, "not the signing key"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			sigs := verify(t, res, c.msg)
			require.Equalf(t, 1, len(sigs), "Verify(%s) = %d signatures; want 1", c.name, len(sigs))
			got := sigs[0]
			var ve *dkim.VerifyError
			assert.EqualValuesf(t, c.result, got.Result, "Verify(%s) = %s, %v; want %s, %v", c.name, got.Result, got.Err, c.result, c.reason)
			assert.ErrorIsf(t, got.Err, c.reason, "Verify(%s) = %s, %v; want %s, %v", c.name, got.Result, got.Err, c.result, c.reason)
			assert.ErrorAsf(t, got.Err, &ve, "Verify(%s) error = %v; want a *dkim.VerifyError", c.name, got.Err)
			assert.ErrorContainsf(t, got.Err, c.text, "Verify(%s) error = %v; want it to say %q", c.name, got.Err, c.text)
			// The one-line report names the signature, the result and the
			// reason, without repeating the package prefix.
			s := got.String()
			assert.Truef(t, strings.HasPrefix(s, "d=example.com s=") && strings.Contains(s, ": "+c.result+" (") &&
				strings.Contains(s, c.text) && !strings.Contains(s, "dkim:"),
				"Verify(%s).String() = %q; want d=example.com, %s and %q", c.name, s, c.result, c.text)
		})
	}
}

func TestVerifyNoSignature(t *testing.T) {
	t.Parallel()
	sigs := verify(t, mailauthtest.NewResolver(nil), message)
	assert.Equalf(t, 0, len(sigs), "Verify(unsigned) = %+v; want no signatures", sigs)
}

func TestVerifyTooManySignatures(t *testing.T) {
	t.Parallel()
	k := testEd25519Key(t)
	s1, s2 := newSigner(t, k, "a"), newSigner(t, k, "b")
	n1, r1 := keyRecord(s1)
	n2, r2 := keyRecord(s2)
	res := mailauthtest.NewResolver(mailauthtest.Zones{n1: {r1}, n2: {r2}})
	msg := sign(t, s2, sign(t, s1, message))
	v, err := dkim.NewVerifier(dkim.VerifierConfig{Resolver: res, MaxSignatures: 1})
	require.NoError(t, err)
	sigs, err := v.Verify(context.Background(), strings.NewReader(msg))
	require.NoError(t, err)
	require.Lenf(t, sigs, 2, "Verify(2 signatures, max 1) = %+v; want 2", sigs)
	assert.Truef(t, sigs[0].Result == "pass" && sigs[0].Selector == "b", "Verify(2 signatures, max 1)[0] = %+v; want b pass", sigs[0])
	assert.Equalf(t, "a", sigs[1].Selector, "Verify(2 signatures, max 1)[1] = %+v; want a, not checked", sigs[1])
	assert.ErrorIsf(t, sigs[1].Err, dkim.ErrTooManySignatures, "Verify(2 signatures, max 1)[1] = %+v; want a, not checked", sigs[1])
	all := verify(t, res, msg)
	require.Lenf(t, all, 2, "Verify(2 signatures) = %+v; want 2", all)
	for i, sg := range all {
		assert.EqualValuesf(t, "pass", sg.Result, "Verify(2 signatures)[%d] = %+v; want pass", i, sg)
	}
}

func TestNewSignerRejects(t *testing.T) {
	t.Parallel()
	small := fakeSigner{&rsa.PublicKey{N: new(big.Int).Lsh(big.NewInt(1), 767), E: 65537}}
	ed := testEd25519Key(t)
	cases := []struct {
		name  string
		cfg   dkim.SignerConfig
		field string
	}{
		{"no domain", dkim.SignerConfig{Selector: "s", Key: ed}, "Domain"},
		{"no selector", dkim.SignerConfig{Domain: "example.com", Key: ed}, "Selector"},
		{"no key", dkim.SignerConfig{Domain: "example.com", Selector: "s"}, "Key"},
		{"small rsa", dkim.SignerConfig{Domain: "example.com", Selector: "s", Key: small}, "Key"},
		{"ecdsa", dkim.SignerConfig{Domain: "example.com", Selector: "s", Key: fakeSigner{&ecdsa.PublicKey{}}}, "unsupported key type"},
		{"no From", dkim.SignerConfig{Domain: "example.com", Selector: "s", Key: ed, HeaderKeys: []string{"Subject"}}, "SignerConfig.HeaderKeys"},
		{"negative expiration", dkim.SignerConfig{Domain: "example.com", Selector: "s", Key: ed, Expiration: -1}, "Expiration"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			_, err := dkim.NewSigner(c.cfg)
			assert.ErrorContainsf(t, err, c.field, "NewSigner(%s) error = %v; want one naming %s", c.name, err, c.field)
		})
	}
	_, err := dkim.NewVerifier(dkim.VerifierConfig{MaxSignatures: -1})
	assert.ErrorContainsf(t, err, "MaxSignatures", "NewVerifier(MaxSignatures: -1) error = %v; want one naming MaxSignatures", err)
}

func TestSignerExpiration(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 11, 24, 8, 0, 0, 0, time.UTC)
	s, err := dkim.NewSigner(dkim.SignerConfig{Domain: "example.com", Selector: "s1", Key: testEd25519Key(t),
		Expiration: time.Hour, Clock: dkim.ClockFunc(func() time.Time { return at })})
	require.NoError(t, err)
	signed := sign(t, s, message)
	want := "x=" + strconv.FormatInt(at.Add(time.Hour).Unix(), 10)
	assert.Containsf(t, stripWS(signed[:strings.Index(signed, "\r\nFrom:")]), want, "Sign with Expiration 1h at %v: signature lacks %s\n%s", at, want, signed)
}

// fakeSigner has a public key and cannot sign: NewSigner must refuse it
// before signing.
type fakeSigner struct{ pub crypto.PublicKey }

func (f fakeSigner) Public() crypto.PublicKey { return f.pub }

func (f fakeSigner) Sign(io.Reader, []byte, crypto.SignerOpts) ([]byte, error) {
	return nil, errors.New("fake signer cannot sign")
}

func stripWS(s string) string {
	return strings.NewReplacer(" ", "", "\t", "", "\r", "", "\n", "").Replace(s)
}

func FuzzVerify(f *testing.F) {
	key := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, 32))
	s, err := dkim.NewSigner(dkim.SignerConfig{Domain: "example.com", Selector: "s1", Key: key})
	require.NoError(f, err)
	name, rec := keyRecord(s)
	res := mailauthtest.NewResolver(mailauthtest.Zones{name: {rec}})
	v, err := dkim.NewVerifier(dkim.VerifierConfig{Resolver: res})
	require.NoError(f, err)
	var b bytes.Buffer
	require.NoError(f, s.Sign(&b, strings.NewReader(message)))
	f.Add(b.String())
	f.Add(message)
	f.Add("DKIM-Signature: v=1; a=rsa-sha256; d=; s=\r\n\r\n")
	f.Add("DKIM-Signature: v=1;;;==; h=from\r\n folded\r\nFrom: a\r\n\r\nbody")
	f.Fuzz(func(t *testing.T, msg string) {
		sigs, err := v.Verify(context.Background(), strings.NewReader(msg))
		if err != nil {
			return
		}
		for _, sg := range sigs {
			assert.Equalf(t, sg.Result == "pass", sg.Err == nil, "Verify(%q) = %s with error %v; want an error exactly when not pass", msg, sg.Result, sg.Err)
		}
	})
}

func TestKeyRecord(t *testing.T) {
	t.Parallel()
	ed := testEd25519Key(t).Public().(ed25519.PublicKey)
	// crypto/rsa no longer generates 512-bit keys; a modulus of 512 bits
	// is all KeyRecord looks at.
	small := &rsa.PublicKey{N: new(big.Int).SetBit(big.NewInt(1), 511, 1), E: 65537}
	tests := []struct {
		name   string
		pub    crypto.PublicKey
		prefix string // of the record; empty for an error
		errHas string
	}{
		{"rsa", testRSAKey(t).Public(), "v=DKIM1; k=rsa; p=MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA", ""},
		{"ed25519", ed, "v=DKIM1; k=ed25519; p=" + base64.StdEncoding.EncodeToString(ed), ""},
		{"rsa 512", small, "", "RSA key of 512 bits"},
		{"nil rsa", (*rsa.PublicKey)(nil), "", "nil RSA public key"},
		{"short ed25519", ed25519.PublicKey(ed[:16]), "", "Ed25519 key of 16 octets"},
		{"ecdsa", &ecdsa.PublicKey{}, "", "unsupported key type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := dkim.KeyRecord(tt.pub)
			if tt.prefix == "" {
				if assert.ErrorContainsf(t, err, tt.errHas, "KeyRecord(%s) = %q, %v; want an error saying %q", tt.name, got, err, tt.errHas) {
					assert.Truef(t, strings.HasPrefix(err.Error(), "dkim: "), "KeyRecord(%s) error = %v; want the dkim: prefix", tt.name, err)
				}
				return
			}
			require.NoErrorf(t, err, "KeyRecord(%s) = %q, %v; want a record starting %q", tt.name, got, err, tt.prefix)
			assert.Truef(t, strings.HasPrefix(got, tt.prefix), "KeyRecord(%s) = %q; want a record starting %q", tt.name, got, tt.prefix)
		})
	}
}

// A Signer keeps the header keys it was made with: the caller's slice
// (or DefaultHeaderKeys) changing afterwards does not change what it signs.
func TestSignerCopiesHeaderKeys(t *testing.T) {
	t.Parallel()
	keys := []string{"From", "Subject"}
	s, err := dkim.NewSigner(dkim.SignerConfig{Domain: "example.com", Selector: "s1", Key: testEd25519Key(t), HeaderKeys: keys})
	require.NoError(t, err)
	keys[1] = "X-Changed"
	signed := sign(t, s, message)
	h := signed[:strings.Index(signed, "\r\nFrom:")]
	assert.Containsf(t, strings.ToLower(h), "h=from:subject", "Sign after the caller changed HeaderKeys = %q; want h=from:subject", h)
}
