package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/alertmail/alertmail/mailauth/mailauthtest"
)

func TestCheckCommand(t *testing.T) {
	t.Parallel()
	srv := mailauthtest.NewServer(t, auditZones())
	platform := filepath.Join(writeFiles(t, map[string]string{"platform.yaml": platformYAML}), "platform.yaml")
	for _, tc := range []struct {
		name string
		args []string
		code int
		want []string
	}{
		{"ready", []string{"ready.example"}, exitReady, []string{"ready.example: ready", "scan-notifications: send from postmaster@ready.example (customer-domain)"}},
		{"soft, flags after", []string{"alerts@soft.example", "-app", "scan-notifications"}, exitNotReady, []string{
			"alerts@soft.example: needs-spf-change",
			"The notice for alerts@soft.example:",
			`soft.example. IN TXT "v=spf1 mx include:_spf.platform.example ~all"`,
		}},
		{"report trap", []string{"-report", "reports@trap.example"}, exitNotReady, []string{"reports@trap.example: scheduled-report-trap", "Set the report's sender to noreply@platform.example."}},
		{"private", []string{"-private", "-gateway", "smtp.priv.example", "priv.example"}, exitReady, []string{"priv.example: private-cloud"}},
		{"unknown app", []string{"-app", "billing", "ready.example"}, exitNotReady, []string{`ready.example: invalid`, `unknown application "billing"`}},
	} {
		args := append([]string{"check", "-platform", platform, "-server", srv.Addr()}, tc.args...)
		code, stdout, stderr := runCommand(args...)
		assert.Equalf(t, tc.code, code, "preflight check %s (%s) = %d; want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(tc.args, " "), tc.name, code, tc.code, stdout, stderr)
		for _, w := range tc.want {
			assert.Containsf(t, stdout, w, "preflight check %s (%s)", strings.Join(tc.args, " "), tc.name)
		}
	}
	for _, args := range [][]string{{"check", "ready.example"}, {"check", "-platform", platform}, {"check", "-platform", platform, "a.example", "b.example"}} {
		code, _, stderr := runCommand(args...)
		assert.Equalf(t, exitUsage, code, "preflight %s = %d; want %d", strings.Join(args, " "), code, exitUsage)
		assert.Containsf(t, stderr, "want -platform FILE and one DOMAIN or ADDRESS", "preflight %s", strings.Join(args, " "))
	}
}

func TestSPFCommand(t *testing.T) {
	t.Parallel()
	srv := mailauthtest.NewServer(t, auditZones())
	for _, tc := range []struct {
		args []string
		code int
		want []string
	}{
		{[]string{"ready.example", "192.0.2.17"}, exitReady, []string{
			"pass: include:_spf.platform.example matched in ready.example (ip 192.0.2.17, lookups 1, void 0)",
			"      ip4:192.0.2.16/29 matched",
			`ready.example "v=spf1 include:_spf.platform.example -all" -> pass`,
			"  include:_spf.platform.example lookups +1 (total 1) matched",
		}},
		{[]string{"soft.example", "192.0.2.17"}, exitNotReady, []string{"softfail: ~all matched in soft.example", "  mx lookups +1 (total 1)"}},
		{[]string{"broken.example", "192.0.2.17", "-sender", "a@broken.example"}, exitNotReady, []string{"temperror"}},
	} {
		args := append([]string{"spf", "-server", srv.Addr()}, tc.args...)
		code, stdout, stderr := runCommand(args...)
		assert.Equalf(t, tc.code, code, "preflight spf %s = %d; want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(tc.args, " "), code, tc.code, stdout, stderr)
		for _, w := range tc.want {
			assert.Containsf(t, stdout, w, "preflight spf %s", strings.Join(tc.args, " "))
		}
	}
	for _, args := range [][]string{{"spf", "ready.example"}, {"spf", "ready.example", "nope"}} {
		code, _, _ := runCommand(args...)
		assert.Equalf(t, exitUsage, code, "preflight %s = %d; want %d", strings.Join(args, " "), code, exitUsage)
	}
}
