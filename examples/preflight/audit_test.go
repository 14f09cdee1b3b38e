package main

import (
	"bytes"
	"crypto/ed25519"
	"crypto/x509"
	"encoding/base64"
	"encoding/csv"
	"encoding/json"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/alertmail/alertmail/mailauth"
	"github.com/alertmail/alertmail/mailauth/mailauthtest"
)

const platformYAML = `# The platform of the command's tests.
corporate_domain: corp.example
platform_domain: platform.example
sending_ips: [192.0.2.16/29, "2001:db8:25::1"]
spf_include: _spf.platform.example
applications:
  - id: scan-notifications
    name: Scan Notifications
    migration: {old: corp.example, at: 2026-12-31}
  - id: scheduled-reports
    name: Scheduled Reports
    migration: {old: corp.example, at: "2026-12-31T00:00:00Z"}
contact: https://platform.example/support
`

// auditZones serves the platform and four customers: one ready, one whose
// SPF record lacks the platform, one with the scheduled-report trap, one
// whose lookups fail.
func auditZones() mailauthtest.Zones {
	return mailauthtest.Zones{
		"_spf.platform.example":   {mailauthtest.TXT("v=spf1 ip4:192.0.2.16/29 ip6:2001:db8:25::1 -all")},
		"_dmarc.platform.example": {mailauthtest.TXT("v=DMARC1; p=reject")},
		"ready.example":           {mailauthtest.TXT("v=spf1 include:_spf.platform.example -all")},
		"_dmarc.ready.example":    {mailauthtest.TXT("v=DMARC1; p=reject")},
		"soft.example":            {mailauthtest.TXT("v=spf1 mx ~all"), mailauthtest.MX(10, "mx.soft.example")},
		"mx.soft.example":         {mailauthtest.A("198.51.100.1")},
		"_dmarc.soft.example":     {mailauthtest.TXT("v=DMARC1; p=quarantine")},
		"trap.example":            {mailauthtest.TXT("v=spf1 ip4:198.51.100.77 -all")},
		"_dmarc.trap.example":     {mailauthtest.TXT("v=DMARC1; p=reject")},
		"broken.example":          {mailauthtest.CNAME("broken.example")},
	}
}

const customersCSV = `tenant,app,from,cloud,gateway,report_sender
ready,scan-notifications,alerts@ready.example,,,
soft,scan-notifications,alerts@soft.example,,,
trap,scan-notifications,,,,reports@trap.example
private,scan-notifications,alerts@priv.example,private,smtp.priv.example,
bad,scan-notifications,alerts@bad..example,,,
SOFT,scan-notifications,alerts@dup.example,,,
../escape,scan-notifications,alerts@broken.example,,,
"broken,row
`

// writeFiles writes name/content pairs into a temporary directory and
// returns it.
func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600))
	}
	return dir
}

func runCommand(args ...string) (int, string, string) {
	var out, errOut bytes.Buffer
	code := run(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestAuditCommand(t *testing.T) {
	t.Parallel()
	srv := mailauthtest.NewServer(t, auditZones())
	dir := writeFiles(t, map[string]string{"platform.yaml": platformYAML, "customers.csv": customersCSV})
	notices := filepath.Join(dir, "notices")
	code, stdout, stderr := runCommand("audit", "-platform", filepath.Join(dir, "platform.yaml"),
		"-customers", filepath.Join(dir, "customers.csv"), "-server", srv.Addr(),
		"-csv", filepath.Join(dir, "results.csv"), "-json", filepath.Join(dir, "results.json"), "-notices", notices)
	assert.Equalf(t, exitNotReady, code, "preflight audit = %d; want %d\nstdout:\n%s\nstderr:\n%s", code, exitNotReady, stdout, stderr)

	// The bad rows, with their lines; the others audited.
	for _, want := range []string{
		`customers.csv: line 6 (tenant "bad"): from "alerts@bad..example": `,
		`customers.csv: line 7: tenant "SOFT": appears already on line 3; each tenant has one row`,
		`customers.csv: line 9: malformed CSV row: extraneous or missing " in quoted-field`,
	} {
		assert.Containsf(t, stderr, want, "preflight audit stderr")
	}
	assert.NotContains(t, stderr, "\r", "preflight audit draws no progress bar on a file")
	for _, want := range []string{
		"status                 customers  to do",
		"ready                          1  nothing",
		"private-cloud                  1  nothing: their own gateway sends",
		"needs-spf-change               1  publish the merged SPF record",
		"scheduled-report-trap          1  send scheduled reports from the platform",
		"dns-error                      1  nothing yet: audit again",
		"unreadable rows                3  correct the customer file",
		"total                          8",
		"5 customers audited in ",
		"2 notices written to " + notices,
	} {
		assert.Containsf(t, stdout, want, "preflight audit summary")
	}

	f, err := os.Open(filepath.Join(dir, "results.csv"))
	require.NoError(t, err)
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	require.NoError(t, err)
	require.Len(t, rows, 6, "results.csv rows")
	var got [][2]string
	for _, row := range rows[1:] {
		got = append(got, [2]string{row[1], row[5]})
	}
	assert.Equal(t, [][2]string{{"ready", "ready"}, {"soft", "needs-spf-change"}, {"trap", "scheduled-report-trap"},
		{"private", "private-cloud"}, {"../escape", "dns-error"}}, got, "results.csv tenants and statuses, in file order")
	assert.Equal(t, "v=spf1 mx include:_spf.platform.example ~all", rows[2][10], "results.csv spf_record of soft")

	var js []map[string]any
	data, err := os.ReadFile(filepath.Join(dir, "results.json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(data, &js))
	require.Len(t, js, 5, "results.json")
	assert.Equal(t, "noreply@platform.example", js[2]["set_report_sender"], "results.json set_report_sender of trap")

	entries, err := os.ReadDir(notices)
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	assert.ElementsMatch(t, []string{"soft.txt", "trap.txt"}, names, "notices written")
	soft, err := os.ReadFile(filepath.Join(notices, "soft.txt"))
	require.NoError(t, err)
	assert.Contains(t, string(soft), `soft.example. IN TXT "v=spf1 mx include:_spf.platform.example ~all"`, "soft's notice")
	assert.Contains(t, string(soft), "Subject: Action needed before 31 December 2026", "soft's notice")
}

func TestAuditCommandReady(t *testing.T) {
	t.Parallel()
	srv := mailauthtest.NewServer(t, auditZones())
	dir := writeFiles(t, map[string]string{
		"platform.json": `{"corporate_domain": "corp.example", "platform_domain": "platform.example", "sending_ips": ["192.0.2.16/29", "2001:db8:25::1"]}`,
		"customers.json": `[{"tenant": "ready", "app": "scan-notifications", "from": "alerts@ready.example"},
			{"tenant": "default", "app": "alert-emails"}]`,
	})
	code, stdout, stderr := runCommand("audit", "-platform", filepath.Join(dir, "platform.json"),
		"-customers", filepath.Join(dir, "customers.json"), "-server", srv.Addr(), "-csv", "-")
	assert.Equalf(t, exitReady, code, "preflight audit = %d; want %d\nstderr:\n%s", code, exitReady, stderr)
	assert.True(t, strings.HasPrefix(stdout, "line,tenant,app,from,"), "preflight audit -csv - writes the CSV on stdout: %q", stdout)
	assert.Contains(t, stderr, "ready                          2  nothing", "preflight audit -csv - writes the summary on stderr")
}

func TestAuditCommandUsage(t *testing.T) {
	t.Parallel()
	dir := writeFiles(t, map[string]string{
		"platform.yaml":  platformYAML,
		"typo.yaml":      "corporate_domain: corp.example\nplatfrom_domain: platform.example\n",
		"corporate.yaml": "corporate_domain: corp.example\nplatform_domain: mail.corp.example\nsending_ips: [192.0.2.1]\n",
		"customers.txt":  "tenant,app,from\n",
		"customers.csv":  "tenant,app\n",
	})
	p := func(name string) string { return filepath.Join(dir, name) }
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no platform", []string{"audit", "-customers", p("customers.csv")}, "-platform and -customers are required"},
		{"extra argument", []string{"audit", "-platform", p("platform.yaml"), "-customers", p("customers.csv"), "more"}, "and nothing else"},
		{"missing platform file", []string{"audit", "-platform", p("none.yaml"), "-customers", p("customers.csv")}, "no such file"},
		{"misspelt key", []string{"audit", "-platform", p("typo.yaml"), "-customers", p("customers.csv")}, "line 2: field platfrom_domain not found"},
		{"corporate", []string{"audit", "-platform", p("corporate.yaml"), "-customers", p("customers.csv")}, "PolicyConfig.PlatformDomain"},
		{"format", []string{"audit", "-platform", p("platform.yaml"), "-customers", p("customers.txt")}, "cannot tell the format"},
		{"header", []string{"audit", "-platform", p("platform.yaml"), "-customers", p("customers.csv")}, "lacks the column from"},
		{"unknown subcommand", []string{"audits"}, `unknown subcommand "audits"`},
		{"bad flag", []string{"audit", "-nope"}, "flag provided but not defined"},
	} {
		code, _, stderr := runCommand(tc.args...)
		assert.Equalf(t, exitUsage, code, "preflight %s (%s) = %d; want %d", strings.Join(tc.args, " "), tc.name, code, exitUsage)
		assert.Containsf(t, stderr, tc.want, "preflight %s (%s) stderr", strings.Join(tc.args, " "), tc.name)
	}
	code, stdout, _ := runCommand("help")
	assert.Equal(t, exitReady, code, "preflight help")
	assert.Contains(t, stdout, "preflight audit -platform FILE -customers FILE", "preflight help")
}

func TestReadPlatform(t *testing.T) {
	t.Parallel()
	pub, _, err := ed25519.GenerateKey(nil)
	require.NoError(t, err)
	der, err := x509.MarshalPKIXPublicKey(pub)
	require.NoError(t, err)
	pemKey := string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
	withKey := func(key string) string {
		return platformYAML + "customer_dkim:\n  selector: pf1\n  public_key: |\n    " + strings.ReplaceAll(strings.TrimSpace(key), "\n", "\n    ") + "\n"
	}
	for _, key := range []string{pemKey, base64.StdEncoding.EncodeToString(der)} {
		pc, contact, err := readPlatform(strings.NewReader(withKey(key)))
		require.NoError(t, err, "readPlatform")
		assert.Equal(t, "https://platform.example/support", contact, "readPlatform contact")
		require.NotNil(t, pc.CustomerDKIM, "readPlatform CustomerDKIM")
		assert.Equal(t, pub, pc.CustomerDKIM.PublicKey, "readPlatform CustomerDKIM.PublicKey")
		require.Len(t, pc.Applications, 2, "readPlatform Applications")
		assert.Equal(t, pc.Applications[0].Migration.At, pc.Applications[1].Migration.At, "a date and an RFC 3339 instant of its midnight")
		assert.Equal(t, "2026-12-31T00:00:00Z", pc.Applications[0].Migration.At.Format("2006-01-02T15:04:05Z07:00"), "readPlatform migration.at")
		assert.Equal(t, "2001:db8:25::1/128", pc.SendingIPs[1].String(), "readPlatform a single address")
		_, err = mailauth.NewAudit(mailauth.AuditConfig{Policy: pc})
		assert.NoError(t, err, "NewAudit(readPlatform)")
	}
	for _, tc := range []struct{ name, file, want string }{
		{"empty", "", "the file is empty"},
		{"ip", "sending_ips: [192.0.2.300]", `sending_ips[0] "192.0.2.300"`},
		{"date", "applications: [{id: x, migration: {old: a.example, at: 31/12/2026}}]", `applications[0].migration.at "31/12/2026": is neither a date`},
		{"key", "customer_dkim: {selector: s, public_key: nope!}", "customer_dkim.public_key: neither PEM nor base64"},
		{"pem type", "customer_dkim: {selector: s, public_key: \"-----BEGIN PRIVATE KEY-----\\nAAAA\\n-----END PRIVATE KEY-----\\n\"}", `a PEM "PRIVATE KEY" block`},
		{"yaml", "sending_ips: [", "did not find expected"},
	} {
		_, _, err := readPlatform(strings.NewReader(tc.file))
		if assert.Errorf(t, err, "readPlatform(%s)", tc.name) {
			assert.Containsf(t, err.Error(), tc.want, "readPlatform(%s)", tc.name)
		}
	}
}

func TestNoticeName(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"acme":        "acme",
		"../etc/x":    "_.._etc_x",
		"a b/c":       "a_b_c",
		"":            "_",
		".hidden":     "_.hidden",
		"Bücher-GmbH": "B__cher-GmbH",
	} {
		assert.Equalf(t, want, noticeName(in), "noticeName(%q)", in)
	}
}

func TestProgressBarOnlyOnTerminal(t *testing.T) {
	t.Parallel()
	assert.Nil(t, progressBar(&bytes.Buffer{}, 10), "progressBar(a buffer)")
	r, w, err := os.Pipe()
	require.NoError(t, err)
	defer r.Close()
	defer w.Close()
	assert.Nil(t, progressBar(w, 10), "progressBar(a pipe)")
}
