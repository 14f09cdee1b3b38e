package mailauth_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/alertmail/alertmail/mailauth"
)

// dkimpyScript signs a message with dkimpy (the key from argv) and verifies
// it with DNS answered by the record under test: an independent
// implementation reading the advised record.
const dkimpyScript = `
import sys, dkim
selector, domain, keyfile, algo, name, text = sys.argv[1:7]
key = open(keyfile, 'rb').read().strip()
msg = b"From: alerts@customer.example\r\nTo: soc@customer.example\r\nSubject: scan finished\r\n\r\nThe scan finished.\r\n"
sig = dkim.sign(msg, selector.encode(), domain.encode(), key, signature_algorithm=algo.encode(), include_headers=[b"from", b"to", b"subject"])
def dns(qname, timeout=5):
    qname = qname.decode() if isinstance(qname, bytes) else qname
    if qname.rstrip(".") != name:
        sys.exit("looked up %s, not %s" % (qname, name))
    return text.encode()
if not dkim.verify(sig + msg, dnsfunc=dns):
    sys.exit("signature does not verify with the advised record")
print("ok")
`

// TestDKIMRecordVerifies checks the advised record with dkimpy: a message it
// signs with the private key verifies when DNS answers the advised record.
func TestDKIMRecordVerifies(t *testing.T) {
	t.Parallel()
	python := "/usr/bin/python3"
	if err := exec.Command(python, "-c", "import dkim, nacl").Run(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("dkimpy (python3-dkim) is missing: %v", err)
		}
		t.Skipf("dkimpy (python3-dkim, python3-nacl) is not installed for %s: %v", python, err)
	}
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	edPub, edKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name, algo string
		pub        any
		private    []byte // as dkimpy reads it
		k          string
	}{
		{"rsa", "rsa-sha256", &rsaKey.PublicKey, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(rsaKey)}), "k=rsa"},
		{"ed25519", "ed25519-sha256", edPub, []byte(base64.StdEncoding.EncodeToString(edKey.Seed())), "k=ed25519"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := validConfig()
			cfg.CustomerDKIM = &mailauth.DKIMKey{Selector: "AlertMail", PublicKey: tt.pub}
			p, err := mailauth.NewPolicy(cfg)
			if err != nil {
				t.Fatal(err)
			}
			rec, ok := p.DKIMRecord("customer.example")
			if !ok {
				t.Fatal("DKIMRecord(customer.example) = false; want a record")
			}
			if rec.Name != "alertmail._domainkey.customer.example" || rec.Selector != "alertmail" {
				t.Errorf("DKIMRecord(customer.example) = %q, %q; want alertmail._domainkey.customer.example, alertmail", rec.Name, rec.Selector)
			}
			if !strings.HasPrefix(rec.Text, "v=DKIM1; "+tt.k+"; p=") {
				t.Errorf("DKIMRecord(customer.example).Text = %q; want v=DKIM1; %s; p=…", rec.Text, tt.k)
			}
			keyfile := filepath.Join(t.TempDir(), "key")
			if err := os.WriteFile(keyfile, tt.private, 0o600); err != nil {
				t.Fatal(err)
			}
			out, err := exec.Command(python, "-c", dkimpyScript, rec.Selector, "customer.example", keyfile, tt.algo, rec.Name, rec.Text).CombinedOutput()
			if err != nil || strings.TrimSpace(string(out)) != "ok" {
				t.Errorf("dkimpy sign and verify with the advised record: %v\n%s", err, out)
			}
		})
	}
}

func TestDKIMRecordWithoutKey(t *testing.T) {
	t.Parallel()
	p, err := mailauth.NewPolicy(validConfig())
	if err != nil {
		t.Fatal(err)
	}
	if rec, ok := p.DKIMRecord("customer.example"); ok {
		t.Errorf("DKIMRecord(customer.example) = %+v, true; want false without CustomerDKIM", rec)
	}
}

func TestDKIMRecordString(t *testing.T) {
	t.Parallel()
	long := mailauth.DKIMRecord{Name: "s._domainkey.c.example", Text: strings.Repeat("a", 300)}
	want := `s._domainkey.c.example. IN TXT "` + strings.Repeat("a", 255) + `" "` + strings.Repeat("a", 45) + `"`
	if got := long.String(); got != want {
		t.Errorf("DKIMRecord.String() = %q; want %q", got, want)
	}
}

func TestDKIMRecordInternationalizedDomain(t *testing.T) {
	t.Parallel()
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	cfg := validConfig()
	cfg.CustomerDKIM = &mailauth.DKIMKey{Selector: "Platform", PublicKey: pub}
	p, err := mailauth.NewPolicy(cfg)
	if err != nil {
		t.Fatal(err)
	}
	rec, ok := p.DKIMRecord("Bücher.example.")
	if want := "platform._domainkey.xn--bcher-kva.example"; !ok || rec.Name != want || !strings.HasPrefix(rec.Text, "v=DKIM1; k=ed25519; p=") {
		t.Errorf("DKIMRecord(Bücher.example.) = %+v, %v; want %s with an ed25519 key", rec, ok, want)
	}
}
