// Package dkimpy has dkimpy (Debian python3-dkim), a DKIM implementation
// independent of go-msgauth, verify the signatures this module's tests
// make. It is internal because it ties its users to a Python interpreter;
// only this module's tests use it, and its helpers fail the test rather
// than return errors.
package dkimpy

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// Python is the interpreter Debian's python3-dkim installs dkimpy for.
const Python = "/usr/bin/python3"

// verifyScript verifies the message in the file argv[1], serving the key
// records given as name=record arguments and nothing else. It prints pass
// or fail, then the names it asked for, without a trailing dot.
const verifyScript = `
import sys, dkim
msg = open(sys.argv[1], 'rb').read()
records = dict(a.encode().split(b'=', 1) for a in sys.argv[2:])
asked = []
def dnsfunc(n, timeout=5):
    if isinstance(n, str):
        n = n.encode()
    n = n.rstrip(b'.')
    asked.append(n)
    return records.get(n)
ok = dkim.verify(msg, dnsfunc=dnsfunc)
print('pass' if ok else 'fail', b' '.join(asked).decode())
sys.exit(0 if ok else 1)
`

// Require fails tb under CI=true, and skips it otherwise, when Python
// cannot import dkimpy.
func Require(tb testing.TB) {
	tb.Helper()
	if err := exec.Command(Python, "-c", "import dkim").Run(); err != nil {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("dkimpy (Debian python3-dkim) is required under CI: %v", err)
		}
		tb.Skipf("dkimpy (Debian python3-dkim) is not installed: %v", err)
	}
}

// Verify has dkimpy verify msg, answering its key queries from records
// (a name such as "s._domainkey.example.com" to its TXT record). It
// returns dkimpy's output, "pass" or "fail" followed by the names it asked
// for, and a non-nil error when the verification failed.
func Verify(tb testing.TB, msg []byte, records map[string]string) (string, error) {
	tb.Helper()
	Require(tb)
	path := filepath.Join(tb.TempDir(), "msg.eml")
	if err := os.WriteFile(path, msg, 0o600); err != nil {
		tb.Fatalf("dkimpy: writing the message: %v", err)
	}
	args := []string{"-c", verifyScript, path}
	for name, rec := range records {
		args = append(args, name+"="+rec)
	}
	out, err := exec.Command(Python, args...).CombinedOutput()
	return string(out), err
}
