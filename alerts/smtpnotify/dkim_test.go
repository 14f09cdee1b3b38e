package smtpnotify_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/alertmail/alertmail/alerts/smtpnotify"
)

var testRSAKey = sync.OnceValues(func() (*rsa.PrivateKey, error) { return rsa.GenerateKey(rand.Reader, 2048) })

func rsaKey(t *testing.T) *rsa.PrivateKey {
	t.Helper()
	k, err := testRSAKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// logSecrets logs a configuration the ways a host might.
func logSecrets(w io.Writer, cfg smtpnotify.Config) {
	l := slog.New(slog.NewJSONHandler(w, nil))
	l.Info("smtp", "config", cfg, "password", cfg.Password, "dkim", *cfg.DKIM)
	slog.New(slog.NewTextHandler(w, nil)).Info("smtp", "config", cfg, "password", cfg.Password)
}

// dkimVerifyScript verifies a message with dkimpy (Debian python3-dkim),
// an implementation independent of go-msgauth, serving the public key
// record given on the command line for the one name it should ask for.
const dkimVerifyScript = `
import sys, dkim
msg = open(sys.argv[1], 'rb').read()
name, record = sys.argv[2].encode(), sys.argv[3].encode()
asked = []
def dnsfunc(n, timeout=5):
    if isinstance(n, str):
        n = n.encode()
    asked.append(n)
    return record if n.rstrip(b'.') == name else None
ok = dkim.verify(msg, dnsfunc=dnsfunc)
print('pass' if ok else 'fail', b' '.join(asked).decode())
sys.exit(0 if ok else 1)
`

func dkimpy(t *testing.T) string {
	t.Helper()
	const py = "/usr/bin/python3"
	if err := exec.Command(py, "-c", "import dkim").Run(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("dkimpy (Debian python3-dkim) is required under CI: %v", err)
		}
		t.Skipf("dkimpy (Debian python3-dkim) is not installed: %v", err)
	}
	return py
}

func TestNotifyDKIMVerifiedByDkimpy(t *testing.T) {
	t.Parallel()
	py := dkimpy(t)
	rk := rsaKey(t)
	der, err := x509.MarshalPKIXPublicKey(&rk.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	_, edKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		key    *smtpnotify.DKIM
		record string
	}{
		{"rsa-sha256", &smtpnotify.DKIM{Domain: "platform.example", Selector: "alerts2026", Key: rk},
			"v=DKIM1; k=rsa; p=" + base64.StdEncoding.EncodeToString(der)},
		{"ed25519-sha256", &smtpnotify.DKIM{Domain: "platform.example", Selector: "ed", Key: edKey},
			"v=DKIM1; k=ed25519; p=" + base64.StdEncoding.EncodeToString(edKey.Public().(ed25519.PublicKey))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ts := startServer(t, serverOptions{startTLS: true})
			cfg := config(ts, smtpnotify.StartTLS)
			cfg.DKIM = tt.key
			if err := mustNew(t, cfg).Notify(context.Background(), testMessage(t)); err != nil {
				t.Fatalf("Notify() = %v", err)
			}
			got := ts.messages()
			if len(got) != 1 {
				t.Fatalf("server received %d messages; want 1", len(got))
			}
			data := got[0].Data
			if !strings.HasPrefix(string(data), "DKIM-Signature: ") {
				t.Fatalf("message does not start with a DKIM-Signature:\n%s", data)
			}
			name := tt.key.Selector + "._domainkey." + tt.key.Domain
			verify := func(msg []byte) (string, error) {
				path := filepath.Join(t.TempDir(), "msg.eml")
				if err := os.WriteFile(path, msg, 0o600); err != nil {
					t.Fatal(err)
				}
				out, err := exec.Command(py, "-c", dkimVerifyScript, path, name, tt.record).CombinedOutput()
				return string(out), err
			}
			out, err := verify(data)
			if err != nil || !strings.HasPrefix(out, "pass "+name) {
				t.Fatalf("dkimpy verify = %q, %v; want pass after asking for %s\n%s", out, err, name, data)
			}
			// A changed body must fail, or the check above proves nothing.
			tampered := []byte(strings.Replace(string(data), "ransomware note", "ransomware n0te", 1))
			if out, err := verify(tampered); err == nil || !strings.HasPrefix(out, "fail") {
				t.Errorf("dkimpy verify of a tampered message = %q, %v; want fail", out, err)
			}
		})
	}
}
