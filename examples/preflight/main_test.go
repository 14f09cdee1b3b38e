package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/alertmail/alertmail/mailauth/mailauthtest"
)

// The command against a real DNS server on loopback, given with -server.
func TestRun(t *testing.T) {
	t.Parallel()
	srv := mailauthtest.NewServer(t, mailauthtest.Zones{
		"example.com":               {mailauthtest.TXT("v=spf1 ip4:192.0.2.0/24 -all")},
		"_dmarc.example.com":        {mailauthtest.TXT("v=DMARC1; p=reject")},
		"s1._domainkey.example.com": {mailauthtest.TXT("v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=")},
		"esp.example":               {mailauthtest.TXT("v=spf1 ip4:198.51.100.0/24 -all")},
	})
	msgFile := filepath.Join(t.TempDir(), "msg.eml")
	if err := os.WriteFile(msgFile, []byte("From: Alerts <alerts@example.com>\r\nSubject: x\r\n\r\nbody\r\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		args []string
		code int
		out  []string
	}{
		{"pass", []string{"-from", "example.com", "-ip", "192.0.2.1"}, 0,
			[]string{"pass with both", `example.com "v=spf1 ip4:192.0.2.0/24 -all" -> pass`}},
		{"esp unsigned", []string{"-from", "Alerts <alerts@example.com>", "-ip", "198.51.100.7", "-mailfrom", "b@esp.example"}, 1,
			[]string{"fail, disposition reject", "To fix:", "sign with DKIM as d=example.com"}},
		{"esp signed", []string{"-from", "alerts@example.com", "-ip", "198.51.100.7", "-mailfrom", "b@esp.example", "-dkim", "example.com:s1"}, 0,
			[]string{"d=example.com s=s1: pass"}},
		{"bad ip", []string{"-from", "example.com", "-ip", "nope"}, 2, nil},
		{"missing from", []string{"-ip", "192.0.2.1"}, 2, nil},
		{"message", []string{"-message", msgFile, "-ip", "192.0.2.1"}, 0, []string{"DMARC preflight for example.com: pass"}},
		{"missing message", []string{"-message", filepath.Join(t.TempDir(), "none"), "-ip", "192.0.2.1"}, 2, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			var out, errOut bytes.Buffer
			code := run(append(c.args, "-server", srv.Addr()), &out, &errOut)
			if code != c.code {
				t.Errorf("run(%q) = %d; want %d\nstdout:\n%s\nstderr:\n%s", c.args, code, c.code, out.String(), errOut.String())
			}
			for _, w := range c.out {
				if !strings.Contains(out.String(), w) {
					t.Errorf("run(%q) output lacks %q:\n%s", c.args, w, out.String())
				}
			}
		})
	}
}
