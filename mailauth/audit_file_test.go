package mailauth_test

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/alertmail/alertmail/mailauth"
	"github.com/alertmail/alertmail/mailauth/mailauthtest"
)

var updateAuditGolden = flag.Bool("update-audit", false, "rewrite the golden files of the audit's results and notices")

// golden compares got with testdata/audit/name, or rewrites the file with
// -update-audit.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "audit", name)
	if *updateAuditGolden {
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, got, 0o644))
		return
	}
	want, err := os.ReadFile(path)
	require.NoErrorf(t, err, "reading golden file (go test -run %s -update-audit writes it)", t.Name())
	assert.Equalf(t, string(want), string(got), "%s differs from the golden file %s", t.Name(), path)
}

// inputErr is the part of an AuditInputError a test checks.
type inputErr struct {
	line  int
	field string
}

func inputErrs(bad []*mailauth.AuditInputError) []inputErr {
	var out []inputErr
	for _, e := range bad {
		out = append(out, inputErr{e.Line, e.Field})
	}
	return out
}

func tenants(cs []mailauth.AuditCustomer) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Tenant)
	}
	return out
}

func TestReadAuditCustomersCSV(t *testing.T) {
	t.Parallel()
	const file = "\uFEFFTenant, FROM ,app,cloud,gateway,report_sender,dkim\n" +
		"acme,alerts@acme.example,scan-notifications,,,reports@acme.example,yes\n" + // 2
		"bad-quote,a\"b@x.example,scan-notifications,,,,\n" + // 3: a bare quote
		"short,alerts@short.example\n" + // 4: two fields of seven
		"\"multi\nline\",alerts@multi.example,alert-emails,shared,,,no\n" + // 5-6: a line break in a tenant
		"bad-domain,alerts@exa mple..com,scan-notifications,,,,\n" + // 7
		"ACME,alerts@other.example,scan-notifications,,,,\n" + // 8: a duplicate
		"private,alerts@private.example,scan-notifications,private,smtp.private.example,,\n" + // 9
		"gw,alerts@gw.example,scan-notifications,,smtp.gw.example,,\n" + // 10: a gateway without private cloud
		"cloud,alerts@c.example,scan-notifications,hybrid,,,\n" + // 11
		",alerts@nobody.example,scan-notifications,,,,\n" + // 12
		"noapp,alerts@noapp.example,,,,,\n" + // 13
		"flag,alerts@flag.example,scan-notifications,,,,maybe\n" + // 14
		"trap,,scheduled-reports,,,reports@bücher.example,\n" + // 15
		"badreport,,scan-notifications,,,Reports <r@x.example>,\n" + // 16
		"underscore,alerts@u.example,scan-notifications,private,smtp_1.u.example,,\n" + // 17: a gateway is a host name
		"\n" +
		"last,,account-management,,,,\n" // 19
	customers, bad, err := mailauth.ReadAuditCustomers(strings.NewReader(file), mailauth.AuditCSV)
	require.NoError(t, err)
	assert.Equal(t, []string{"acme", "private", "trap", "last"}, tenants(customers), "ReadAuditCustomers tenants")
	assert.Equal(t, []inputErr{{3, ""}, {4, ""}, {5, "tenant"}, {7, "from"}, {8, "tenant"}, {10, "gateway"}, {11, "cloud"}, {12, "tenant"},
		{13, "app"}, {14, "dkim"}, {16, "report_sender"}, {17, "gateway"}}, inputErrs(bad), "ReadAuditCustomers errors")
	for _, e := range bad {
		assert.Containsf(t, e.Error(), "mailauth: customers line ", "AuditInputError.Error() = %q", e.Error())
	}
	assert.Equal(t, `mailauth: customers line 8: tenant "ACME": appears already on line 2; each tenant has one row`, bad[4].Error(), "duplicate tenant error")
	assert.Equal(t, "mailauth: customers line 4 (tenant \"short\"): malformed CSV row: 2 fields, but the header has 7", bad[1].Error(), "short row error")

	want := []mailauth.AuditCustomer{
		{Tenant: "acme", App: mailauth.ScanNotifications, Customer: mailauth.Customer{From: "alerts@acme.example", DKIM: true}, ReportSender: "reports@acme.example", Line: 2},
		{Tenant: "private", App: mailauth.ScanNotifications, Customer: mailauth.Customer{From: "alerts@private.example", Cloud: mailauth.PrivateCloud, Gateway: "smtp.private.example"}, Line: 9},
		{Tenant: "trap", App: mailauth.ScheduledReports, ReportSender: "reports@xn--bcher-kva.example", Line: 15},
		{Tenant: "last", App: mailauth.AccountManagement, Line: 19},
	}
	assert.Equal(t, want, customers, "ReadAuditCustomers customers")
}

func TestReadAuditCustomersCSVFile(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, file, want string
	}{
		{"empty", "", "mailauth: customers line 1: the file is empty; it must start with a header row"},
		{"unknown column", "tenant,app,from,colour\n", `mailauth: customers line 1: header "colour": is not a column of a customer file (tenant, app, from, cloud, gateway, report_sender, dkim)`},
		{"missing column", "tenant,from\nx,\n", `mailauth: customers line 1: header "tenant,from": lacks the column app`},
		{"twice", "tenant,app,from,Tenant\n", `mailauth: customers line 1: header "Tenant": names a column twice`},
		{"bad header", "tenant,\"app\nfrom\n", "mailauth: customers line 1: reading the header row: extraneous or missing \" in quoted-field"},
	} {
		customers, bad, err := mailauth.ReadAuditCustomers(strings.NewReader(tc.file), mailauth.AuditCSV)
		assert.EqualErrorf(t, err, tc.want, "ReadAuditCustomers(%s)", tc.name)
		assert.Emptyf(t, customers, "ReadAuditCustomers(%s) customers", tc.name)
		assert.Emptyf(t, bad, "ReadAuditCustomers(%s) errors", tc.name)
	}
	_, _, err := mailauth.ReadAuditCustomers(strings.NewReader("x"), "xml")
	assert.EqualError(t, err, `mailauth: unknown customer file format "xml"`, "ReadAuditCustomers(xml)")

	// An I/O error is the file's error; the customers read before it are kept.
	r := iotest.TimeoutReader(strings.NewReader("tenant,app,from\na,scan-notifications,\n"))
	_, _, err = mailauth.ReadAuditCustomers(iotest.HalfReader(r), mailauth.AuditCSV)
	assert.ErrorIs(t, err, iotest.ErrTimeout, "ReadAuditCustomers(failing reader)")
}

func TestReadAuditCustomersJSON(t *testing.T) {
	t.Parallel()
	const file = `[
  {"tenant": "acme", "app": "scan-notifications", "from": "alerts@acme.example", "dkim": true, "report_sender": "reports@acme.example"},
  {"tenant": "typo", "app": "scan-notifications", "frm": "alerts@typo.example"},
  {"tenant": 7, "app": "scan-notifications"},
  "not an object",
  {"tenant": "acme", "app": "alert-emails"},
  {
    "tenant": "bad",
    "app": "scan-notifications",
    "from": "alerts@-bad-.example"
  },
  {"tenant": "private", "app": "scan-notifications", "from": "a@p.example", "cloud": "private", "gateway": "smtp.p.example"}
]
`
	customers, bad, err := mailauth.ReadAuditCustomers(strings.NewReader(file), mailauth.AuditJSON)
	require.NoError(t, err)
	assert.Equal(t, []string{"acme", "private"}, tenants(customers), "ReadAuditCustomers tenants")
	assert.Equal(t, []int{2, 12}, []int{customers[0].Line, customers[1].Line}, "ReadAuditCustomers lines")
	assert.Equal(t, []inputErr{{3, ""}, {4, ""}, {5, ""}, {6, "tenant"}, {7, "from"}}, inputErrs(bad), "ReadAuditCustomers errors")
	assert.Equal(t, `mailauth: customers line 3 (tenant "typo"): malformed customer: unknown field "frm"`, bad[0].Error(), "unknown key error")

	for _, tc := range []struct {
		name, file, want string
		n                int
	}{
		{"object", `{"tenant": "x"}`, "mailauth: customers line 1: the file is not a JSON array of customers", 0},
		{"syntax", "[\n{\"tenant\": \"a\", \"app\": \"scan-notifications\"},\n{\"tenant\": }\n]", "mailauth: customers line 3: malformed JSON: invalid character '}' looking for beginning of value", 1},
		{"truncated", "[\n{\"tenant\": \"a\", \"app\": \"x\"}", "mailauth: customers line 2: the JSON ends early", 1},
		{"trailing", "[]\n[]", "mailauth: customers line 2: malformed JSON: text after the array of customers", 0},
		{"empty", "", "mailauth: customers line 1: the JSON ends early", 0},
	} {
		customers, _, err := mailauth.ReadAuditCustomers(strings.NewReader(tc.file), mailauth.AuditJSON)
		assert.EqualErrorf(t, err, tc.want, "ReadAuditCustomers(%s)", tc.name)
		assert.Lenf(t, customers, tc.n, "ReadAuditCustomers(%s) customers read before the error", tc.name)
	}
}

// FuzzReadAuditCustomers checks that no customer file makes the reader
// panic or hang, and that what it returns holds together: every customer
// valid, tenants unique, lines increasing, every error placed on a line.
func FuzzReadAuditCustomers(f *testing.F) {
	f.Add([]byte("tenant,app,from\na,scan-notifications,alerts@a.example\n"), false)
	f.Add([]byte("tenant,app,from,cloud,gateway,report_sender,dkim\na,x,,private,gw.example,r@a.example,yes\nb,\"x\ny\",\n"), false)
	f.Add([]byte("tenant,app,from\na\"b,c,d\n\"unterminated\n"), false)
	f.Add([]byte(`[{"tenant":"a","app":"x","from":"a@b.example"},{"tenant":"A","app":"x"},{}]`), true)
	f.Add([]byte(`[{"tenant":"a","app":"x","from":"a@b.example","cloud":"private","gateway":"g.example"}]`), true)
	f.Add([]byte("[\n1,\n\"s\",\n{\"dkim\":\"yes\"}\n"), true)
	f.Fuzz(func(t *testing.T, data []byte, isJSON bool) {
		format := mailauth.AuditCSV
		if isJSON {
			format = mailauth.AuditJSON
		}
		customers, bad, err := mailauth.ReadAuditCustomers(bytes.NewReader(data), format)
		lines := bytes.Count(data, []byte("\n")) + 1
		seen := make(map[string]bool)
		last := 0
		for _, c := range customers {
			key := strings.ToLower(c.Tenant)
			require.Falsef(t, seen[key], "ReadAuditCustomers returned the tenant %q twice", c.Tenant)
			seen[key] = true
			require.NotEmptyf(t, c.Tenant, "customer on line %d has no tenant", c.Line)
			require.NotEmptyf(t, c.App, "customer on line %d has no app", c.Line)
			require.Greaterf(t, c.Line, last, "customer lines are not increasing")
			require.LessOrEqual(t, c.Line, lines, "customer line beyond the file")
			last = c.Line
			if c.Gateway != "" {
				require.Equal(t, mailauth.PrivateCloud, c.Cloud, "a gateway without a private cloud")
			}
		}
		for _, e := range bad {
			require.Positivef(t, e.Line, "AuditInputError %q has no line", e)
			require.LessOrEqualf(t, e.Line, lines, "AuditInputError %q beyond the file", e)
		}
		var ie *mailauth.AuditInputError
		if err != nil && errors.As(err, &ie) {
			require.LessOrEqualf(t, ie.Line, lines, "file error %q beyond the file", err)
		}
		if len(customers) > 0 {
			// Whatever passed the reader, the audit takes it without panicking.
			pc := auditPolicyConfig()
			pc.Resolver = mailauthtest.NewResolver(nil)
			a, err := mailauth.NewAudit(mailauth.AuditConfig{Policy: pc})
			require.NoError(t, err)
			_, err = a.Run(context.Background(), customers[:min(len(customers), 3)], nil)
			require.NoError(t, err)
		}
	})
}

// goldenResults audits one customer of each kind on an in-memory zone and
// returns the audit and its results in input order.
func goldenResults(t *testing.T) (*mailauth.Audit, []*mailauth.AuditResult) {
	t.Helper()
	w := newAuditWorld(len(auditKinds), true)
	pc := auditPolicyConfig()
	pc.Resolver = mailauthtest.NewResolver(w.zones)
	a, err := mailauth.NewAudit(mailauth.AuditConfig{Policy: pc, Contact: "https://platform.example/support"})
	require.NoError(t, err)
	var results []*mailauth.AuditResult
	_, err = a.Run(context.Background(), w.customers, func(r *mailauth.AuditResult) { results = append(results, r) })
	require.NoError(t, err)
	slices.SortFunc(results, func(x, y *mailauth.AuditResult) int { return x.Customer.Line - y.Customer.Line })
	return a, results
}

func TestWriteAuditResultsGolden(t *testing.T) {
	t.Parallel()
	_, results := goldenResults(t)
	for _, f := range []mailauth.AuditFormat{mailauth.AuditCSV, mailauth.AuditJSON} {
		var buf bytes.Buffer
		require.NoError(t, mailauth.WriteAuditResults(&buf, f, results))
		golden(t, "results."+string(f), buf.Bytes())
	}
	err := mailauth.WriteAuditResults(&bytes.Buffer{}, "xml", results)
	assert.EqualError(t, err, `mailauth: unknown audit results format "xml"`, "WriteAuditResults(xml)")
	err = mailauth.WriteAuditResults(failingWriter{}, mailauth.AuditCSV, results)
	assert.Error(t, err, "WriteAuditResults(failing writer)")
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }
