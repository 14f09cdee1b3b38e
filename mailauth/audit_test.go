package mailauth_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/alertmail/alertmail/mailauth"
	"github.com/alertmail/alertmail/mailauth/dnsclient"
	"github.com/alertmail/alertmail/mailauth/internal/pyspf"
	"github.com/alertmail/alertmail/mailauth/mailauthtest"
	"github.com/alertmail/alertmail/mailauth/spf"
)

// runAudit audits customers and returns the results by tenant.
func runAudit(t testing.TB, cfg mailauth.AuditConfig, customers []mailauth.AuditCustomer) (map[string]*mailauth.AuditResult, *mailauth.AuditSummary) {
	t.Helper()
	a, err := mailauth.NewAudit(cfg)
	require.NoError(t, err, "NewAudit")
	results := make(map[string]*mailauth.AuditResult)
	sum, err := a.Run(context.Background(), customers, func(r *mailauth.AuditResult) {
		results[r.Customer.Tenant] = r
	})
	require.NoError(t, err, "Audit.Run")
	return results, sum
}

// platformAddrs returns every address of the platform's networks.
func platformAddrs() []netip.Addr {
	var out []netip.Addr
	for _, n := range auditNetworks {
		for a := n.Addr(); n.Contains(a); a = a.Next() {
			out = append(out, a)
		}
	}
	return out
}

// TestAuditEndToEnd audits 1,000 generated customers of every kind on a
// loopback DNS server, then publishes each merged SPF record on the server
// and checks it with this module's verifier and with pyspf: pass for every
// platform address, the lookup count the audit claimed, and, audited again,
// a ready customer.
func TestAuditEndToEnd(t *testing.T) {
	t.Parallel()
	w := newAuditWorld(1000, true)
	srv := mailauthtest.NewServer(t, w.zones)
	dc := srv.Config()
	// The timeout entries cost one timeout, not two; a timeout of 3 s
	// keeps answers from a loaded machine (CI runs packages in parallel)
	// from passing for timeouts.
	dc.Attempts, dc.Timeout = 1, 3*time.Second
	res, err := dnsclient.New(dc)
	require.NoError(t, err)
	pc := auditPolicyConfig()
	pc.Resolver = res
	cfg := mailauth.AuditConfig{Policy: pc}
	results, sum := runAudit(t, cfg, w.customers)

	require.Len(t, results, len(w.customers), "Audit.Run results")
	counts := make(map[mailauth.AuditStatus]int)
	for _, c := range w.customers {
		r, k := results[c.Tenant], w.kinds[c.Tenant]
		counts[r.Status]++
		assert.Equalf(t, k.want, r.Status, "Audit.Run(%s, a %s customer).Status; reason: %s", c.Tenant, k.name, r.Reason)
		assert.Equalf(t, c, r.Customer, "Audit.Run(%s).Customer", c.Tenant)
		assert.NotEmptyf(t, r.Reason, "Audit.Run(%s, a %s customer).Reason", c.Tenant, k.name)
	}
	for _, st := range mailauth.AuditStatuses() {
		assert.Positivef(t, counts[st], "customers with status %s", st)
	}
	assert.Equal(t, counts, sum.Counts, "AuditSummary.Counts")
	assert.Equal(t, len(w.customers), sum.Customers, "AuditSummary.Customers")
	assert.False(t, sum.Ready(), "AuditSummary.Ready()")
	t.Logf("%d customers, %d lookups sent", sum.Customers, sum.Queries)

	// Publish every merged record, keeping the domain's other records.
	var merged []*mailauth.AuditResult
	for _, c := range w.customers {
		r, k := results[c.Tenant], w.kinds[c.Tenant]
		var m *mailauth.SPFMerge
		if r.Fix != nil {
			m = r.Fix.SPF
		}
		if !k.merged {
			assert.Truef(t, m == nil || len(m.Added) == 0, "Audit.Run(%s, a %s customer).Fix.SPF = %v; want no record to add", c.Tenant, k.name, m)
			continue
		}
		if !assert.NotNilf(t, m, "Audit.Run(%s, a %s customer).Fix.SPF", c.Tenant, k.name) ||
			!assert.NotEmptyf(t, m.Record, "Audit.Run(%s, a %s customer).Fix.SPF.Record; notes %q", c.Tenant, k.name, m.Notes) {
			continue
		}
		assert.LessOrEqualf(t, m.Lookups, mailauth.SPFLookupLimit, "Audit.Run(%s).Fix.SPF.Lookups", c.Tenant)
		var keep []mailauthtest.Record
		for _, rec := range w.zones[m.Domain] {
			if rec.Type != mailauthtest.TypeTXT {
				keep = append(keep, rec)
			}
		}
		srv.Set(m.Domain, append(keep, txt(m.Record))...)
		merged = append(merged, r)
	}

	// Check the records in parallel, each part with a pyspf of its own.
	const parts = 3
	t.Run("verify", func(t *testing.T) {
		for part := range parts {
			t.Run(fmt.Sprint(part), func(t *testing.T) {
				t.Parallel()
				var mine []*mailauth.SPFMerge
				for i := part; i < len(merged); i += parts {
					mine = append(mine, merged[i].Fix.SPF)
				}
				checkMergedRecords(t, srv, mine)
			})
		}
	})

	// With the records published, those customers are ready.
	var again []mailauth.AuditCustomer
	for _, r := range merged {
		again = append(again, r.Customer)
	}
	results, _ = runAudit(t, cfg, again)
	for _, c := range again {
		assert.Equalf(t, mailauth.AuditReady, results[c.Tenant].Status, "Audit.Run(%s) after publishing the merged record; reason: %s", c.Tenant, results[c.Tenant].Reason)
	}
}

// checkMergedRecords checks records published on srv with this module's
// verifier and with pyspf: pass for every platform address, and the lookup
// count claimed, which is within the limit for both.
func checkMergedRecords(t *testing.T, srv *mailauthtest.Server, records []*mailauth.SPFMerge) {
	ours, err := spf.New(spf.Config{Resolver: srv.Resolver(t)})
	require.NoError(t, err)
	const unlimited = 1 << 20
	counter, err := spf.New(spf.Config{Resolver: srv.Resolver(t), LookupLimit: unlimited, VoidLimit: unlimited, MXLimit: unlimited, PTRLimit: unlimited})
	require.NoError(t, err)
	py := pyspf.Start(t, srv.Addr())
	checkPy := func(ip netip.Addr, domain string) pyspf.Result {
		return py.Check(t, ip, "postmaster@"+domain, "audit.test")
	}
	ctx := context.Background()
	for _, m := range records {
		for _, ip := range platformAddrs() {
			res, x := ours.CheckHost(ctx, ip, m.Domain, "postmaster@"+m.Domain, "audit.test")
			assert.Equalf(t, spf.Pass, res, "spf CheckHost(%s, %s) with the merged record %q\n%v", ip, m.Domain, m.Record, x)
			got := checkPy(ip, m.Domain)
			assert.Equalf(t, "pass", got.Result, "pyspf check(%s, %s) with the merged record %q: %s", ip, m.Domain, m.Record, got.Explanation)
		}
		// The lookup count is the worst case: an address no term matches
		// makes every term count. Both verifiers must find it within the
		// limit, and agree on the result (which may still be a permerror
		// for the customer's own void lookups, as it was before).
		lookups := 0
		for _, ip := range []netip.Addr{netip.MustParseAddr("0.0.0.1"), netip.MustParseAddr("100::1")} {
			_, x := counter.CheckHost(ctx, ip, m.Domain, "postmaster@"+m.Domain, "audit.test")
			lookups = max(lookups, x.Lookups)
			res, x := ours.CheckHost(ctx, ip, m.Domain, "postmaster@"+m.Domain, "audit.test")
			assert.Falsef(t, x.Err != nil && errors.Is(x.Err, spf.ErrLookupLimit), "spf CheckHost(%s, %s) with the merged record %q = %v", ip, m.Domain, m.Record, x.Err)
			got := checkPy(ip, m.Domain)
			assert.Equalf(t, string(res), got.Result, "pyspf check(%s, %s) with the merged record %q: %s; spf CheckHost: %v", ip, m.Domain, m.Record, got.Explanation, x)
			assert.NotContainsf(t, got.Explanation, "DNS lookups", "pyspf check(%s, %s) with the merged record %q (%d lookups claimed)", ip, m.Domain, m.Record, m.Lookups)
		}
		assert.Equalf(t, m.Lookups, lookups, "lookups of the merged record %q of %s", m.Record, m.Domain)
	}
}

// TestAuditResultParts checks the parts of a result beyond the status: the
// sender after the cut-over, the DKIM record, both DMARC verdicts, the
// trap's fix coming from the report sender.
func TestAuditResultParts(t *testing.T) {
	t.Parallel()
	w := newAuditWorld(len(auditKinds), true)
	pc := auditPolicyConfig()
	pc.Resolver = mailauthtest.NewResolver(w.zones)
	results, _ := runAudit(t, mailauth.AuditConfig{Policy: pc}, w.customers)
	byKind := make(map[string]*mailauth.AuditResult)
	for tenant, r := range results {
		byKind[w.kinds[tenant].name] = r
	}

	r := byKind["strict-dmarc"]
	assert.Equal(t, "noreply@platform.example", r.Sender, "strict-dmarc Sender after the cut-over")
	require.NotNil(t, r.Fix, "strict-dmarc Fix")
	assert.Equal(t, []string{"*@platform.example"}, r.Fix.AllowList, "strict-dmarc Fix.AllowList")
	require.NotNil(t, r.Fix.DKIM, "strict-dmarc Fix.DKIM")
	assert.Equal(t, "pf1._domainkey."+r.Fix.Domain, r.Fix.DKIM.Name, "strict-dmarc Fix.DKIM.Name")
	v7489, v9989 := r.DMARC()
	if assert.NotNil(t, v7489, "strict-dmarc DMARC() rfc7489") && assert.NotNil(t, v9989, "strict-dmarc DMARC() rfc9989") {
		assert.Equal(t, "fail", string(v7489.Result), "strict-dmarc RFC 7489 verdict")
		assert.Equal(t, "fail", string(v9989.Result), "strict-dmarc RFC 9989 verdict")
	}

	r = byKind["report-trap"]
	require.NotNil(t, r.Report, "report-trap Report")
	require.NotNil(t, r.Fix, "report-trap Fix")
	assert.Equal(t, "noreply@platform.example", r.Fix.Sender, "report-trap Fix.Sender")
	assert.Same(t, r.Report.Fix, r.Fix, "report-trap Fix comes from the report sender's decision")

	r = byKind["dkim-published"]
	assert.Equal(t, r.Customer.From, r.Sender, "dkim-published Sender")
	assert.Nil(t, r.Fix, "dkim-published Fix")

	r = byKind["unknown-app"]
	assert.ErrorIs(t, r.Err, mailauth.ErrUnknownApp, "unknown-app Err")
	assert.Nil(t, r.Decision, "unknown-app Decision")

	r = byKind["corporate-sender"]
	require.NotNil(t, r.Fix, "corporate-sender Fix")
	assert.Equal(t, []string{"*@platform.example"}, r.Fix.AllowList, "corporate-sender Fix.AllowList")
}

// TestAuditMigrationInstant checks that each application is judged as it
// sends after its own cut-over, whatever the policy clock says.
func TestAuditMigrationInstant(t *testing.T) {
	t.Parallel()
	pc := auditPolicyConfig()
	pc.Resolver = mailauthtest.NewResolver(auditPlatformZones())
	customers := []mailauth.AuditCustomer{
		{Tenant: "a", App: mailauth.AlertEmails},
		{Tenant: "b", App: mailauth.AccountManagement},
		{Tenant: "c", App: mailauth.AlertEmails, Customer: mailauth.Customer{From: "x@corp.example"}},
	}
	results, _ := runAudit(t, mailauth.AuditConfig{Policy: pc}, customers)
	for tenant, want := range map[string]string{"a": "noreply@platform.example", "b": "noreply@platform.example", "c": "noreply@platform.example"} {
		assert.Equalf(t, want, results[tenant].Sender, "Audit.Run(%s).Sender", tenant)
	}
	assert.Equal(t, mailauth.AuditNeedsAllowList, results["c"].Status, "Audit.Run(c).Status")
}

// TestAuditFromName: with applications that have a FromName, the audit
// reports the From as it goes out and still reads its domain.
func TestAuditFromName(t *testing.T) {
	t.Parallel()
	pc := auditPolicyConfig()
	pc.Resolver = mailauthtest.NewResolver(auditPlatformZones())
	for i := range pc.Applications {
		pc.Applications[i].FromName = "Platform, Alerts"
	}
	customers := []mailauth.AuditCustomer{{Tenant: "c", App: mailauth.AlertEmails, Customer: mailauth.Customer{From: "x@corp.example"}}}
	results, _ := runAudit(t, mailauth.AuditConfig{Policy: pc}, customers)
	r := results["c"]
	assert.Equal(t, `"Platform, Alerts" <noreply@platform.example>`, r.Sender, "Audit.Run(c).Sender")
	assert.Equal(t, mailauth.AuditNeedsAllowList, r.Status, "Audit.Run(c).Status")
	require.NotNil(t, r.Fix, "Audit.Run(c).Fix")
	assert.Equal(t, []string{"*@platform.example"}, r.Fix.AllowList, "Audit.Run(c).Fix.AllowList")
}

// hangingResolver answers from an in-memory zone, except for the names
// under a hanging domain, whose lookups wait until their context ends.
type hangingResolver struct {
	*mailauthtest.Resolver
	hang string
}

func (h hangingResolver) wait(ctx context.Context, name string) error {
	if !strings.HasSuffix(strings.TrimSuffix(name, "."), h.hang) {
		return nil
	}
	<-ctx.Done()
	return &net.DNSError{Err: ctx.Err().Error(), Name: name, IsTimeout: true}
}

func (h hangingResolver) LookupTXT(ctx context.Context, name string) ([]string, error) {
	if err := h.wait(ctx, name); err != nil {
		return nil, err
	}
	return h.Resolver.LookupTXT(ctx, name)
}

// TestAuditCustomerTimeout checks that a customer whose lookups hang is
// reported as timed out after CustomerTimeout, and that the others, checked
// meanwhile by the other workers, are not held up.
func TestAuditCustomerTimeout(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		w := newAuditWorld(40, false)
		hang := mailauth.AuditCustomer{Tenant: "hang", App: mailauth.ScanNotifications, Customer: mailauth.Customer{From: "a@hang.example"}}
		customers := append([]mailauth.AuditCustomer{hang}, w.customers...)
		pc := auditPolicyConfig()
		pc.Resolver = hangingResolver{mailauthtest.NewResolver(w.zones), "hang.example"}
		a, err := mailauth.NewAudit(mailauth.AuditConfig{Policy: pc, Workers: 2, CustomerTimeout: 10 * time.Second})
		require.NoError(t, err)
		start := time.Now()
		var order []string
		sum, err := a.Run(context.Background(), customers, func(r *mailauth.AuditResult) { order = append(order, r.Customer.Tenant) })
		require.NoError(t, err)
		assert.Equal(t, 10*time.Second, time.Since(start), "Audit.Run duration")
		assert.Equal(t, len(customers), sum.Customers, "AuditSummary.Customers")
		assert.Equal(t, "hang", order[len(order)-1], "the hanging customer's result comes last")
		wantErrors := 1
		for _, k := range w.kinds {
			if k.want == mailauth.AuditDNSError {
				wantErrors++
			}
		}
		assert.Equal(t, wantErrors, sum.Counts[mailauth.AuditDNSError], "AuditSummary.Counts[dns-error]")

		results, _ := runAudit(t, mailauth.AuditConfig{Policy: pc, CustomerTimeout: time.Second}, []mailauth.AuditCustomer{hang})
		r := results["hang"]
		assert.Equal(t, mailauth.AuditDNSError, r.Status, "Audit.Run(hang).Status")
		assert.True(t, r.TimedOut, "Audit.Run(hang).TimedOut")
		assert.ErrorIs(t, r.Err, context.DeadlineExceeded, "Audit.Run(hang).Err")
		assert.Contains(t, r.Reason, "did not finish within 1s", "Audit.Run(hang).Reason")
	})
}

// TestAuditCancel checks that cancelling stops the run at once, although
// customers' lookups hang: no result after the cancellation, and Run
// returns with the context's error.
func TestAuditCancel(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		w := newAuditWorld(20, false)
		var customers []mailauth.AuditCustomer
		for _, h := range []string{"a", "b"} {
			customers = append(customers, mailauth.AuditCustomer{Tenant: "hang-" + h, App: mailauth.ScanNotifications,
				Customer: mailauth.Customer{From: "x@" + h + ".hang.example"}})
		}
		customers = append(customers, w.customers...)
		pc := auditPolicyConfig()
		pc.Resolver = hangingResolver{mailauthtest.NewResolver(w.zones), "hang.example"}
		a, err := mailauth.NewAudit(mailauth.AuditConfig{Policy: pc, Workers: 4, CustomerTimeout: time.Hour})
		require.NoError(t, err)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		start := time.Now()
		emitted := 0
		sum, err := a.Run(ctx, customers, func(*mailauth.AuditResult) {
			if emitted++; emitted == 5 {
				cancel()
			}
		})
		assert.ErrorIs(t, err, context.Canceled, "Audit.Run error after cancel")
		assert.Equal(t, time.Duration(0), time.Since(start), "Audit.Run duration")
		assert.Equal(t, 5, emitted, "results emitted")
		require.NotNil(t, sum, "AuditSummary")
		assert.Equal(t, 5, sum.Customers, "AuditSummary.Customers")
	})
}

// countingResolver counts the lookups of each name.
type countingResolver struct {
	mailauth.Resolver
	mu    sync.Mutex
	count map[string]int
}

func (c *countingResolver) LookupTXT(ctx context.Context, name string) ([]string, error) {
	c.mu.Lock()
	c.count[strings.ToLower(name)]++
	c.mu.Unlock()
	return c.Resolver.LookupTXT(ctx, name)
}

// TestAuditCache checks that with the cache each name is asked once per
// run, however many customers need it at once, and that without it the
// same audit asks many times more.
func TestAuditCache(t *testing.T) {
	t.Parallel()
	w := newAuditWorld(200, false)
	var queries [2]int64
	for i, noCache := range []bool{false, true} {
		res := &countingResolver{Resolver: mailauthtest.NewResolver(w.zones), count: make(map[string]int)}
		pc := auditPolicyConfig()
		pc.Resolver = res
		results, sum := runAudit(t, mailauth.AuditConfig{Policy: pc, NoCache: noCache, Workers: 64}, w.customers)
		for _, c := range w.customers {
			assert.Equalf(t, w.kinds[c.Tenant].want, results[c.Tenant].Status, "Audit.Run(%s, NoCache %v).Status", c.Tenant, noCache)
		}
		queries[i] = sum.Queries
		if !noCache {
			for name, n := range res.count {
				assert.Equalf(t, 1, n, "TXT lookups of %s with the cache", name)
			}
		} else {
			assert.Greaterf(t, res.count["_spf.platform.example"], 100, "TXT lookups of _spf.platform.example without the cache")
		}
	}
	assert.Greater(t, queries[1], 5*queries[0], "lookups without the cache (%d) against with it (%d)", queries[1], queries[0])
}

// TestAuditQueryRate checks that lookups are spaced by the query rate.
func TestAuditQueryRate(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		w := newAuditWorld(10, false)
		pc := auditPolicyConfig()
		pc.Resolver = mailauthtest.NewResolver(w.zones)
		a, err := mailauth.NewAudit(mailauth.AuditConfig{Policy: pc, QueryRate: 50})
		require.NoError(t, err)
		start := time.Now()
		sum, err := a.Run(context.Background(), w.customers, nil)
		require.NoError(t, err)
		want := time.Duration(sum.Queries-1) * 20 * time.Millisecond
		assert.Equal(t, want, time.Since(start), "Audit.Run duration for %d lookups at 50/s", sum.Queries)
	})
}

func TestNewAuditRejects(t *testing.T) {
	t.Parallel()
	valid := auditPolicyConfig()
	for _, tc := range []struct {
		name string
		cfg  mailauth.AuditConfig
		want string
	}{
		{"workers", mailauth.AuditConfig{Policy: valid, Workers: -1}, "mailauth: AuditConfig.Workers -1 is negative"},
		{"timeout", mailauth.AuditConfig{Policy: valid, CustomerTimeout: -time.Second}, "mailauth: AuditConfig.CustomerTimeout -1s is negative"},
		{"rate", mailauth.AuditConfig{Policy: valid, QueryRate: -1}, "mailauth: AuditConfig.QueryRate -1 is not a rate"},
		{"policy", mailauth.AuditConfig{}, `mailauth: PolicyConfig.CorporateDomain "": is empty`},
	} {
		_, err := mailauth.NewAudit(tc.cfg)
		assert.EqualErrorf(t, err, tc.want, "NewAudit(%s)", tc.name)
	}
	_, err := mailauth.NewAudit(mailauth.AuditConfig{Policy: mailauth.PolicyConfig{CorporateDomain: "corp.example", PlatformDomain: "corp.example"}})
	assert.ErrorIs(t, err, mailauth.ErrCorporateDomain, "NewAudit(platform = corporate)")
}

// TestNewAuditCopies checks that the audit keeps its own copy of the
// configuration.
func TestNewAuditCopies(t *testing.T) {
	t.Parallel()
	pc := auditPolicyConfig()
	pc.Resolver = mailauthtest.NewResolver(auditPlatformZones())
	a, err := mailauth.NewAudit(mailauth.AuditConfig{Policy: pc})
	require.NoError(t, err)
	pc.Applications[0].Migration.At = time.Time{}
	pc.Applications[0].ID = "changed"
	pc.SendingIPs[0] = netip.MustParsePrefix("203.0.113.0/24")
	var got []*mailauth.AuditResult
	_, err = a.Run(context.Background(), []mailauth.AuditCustomer{{Tenant: "t", App: mailauth.ScanNotifications}}, func(r *mailauth.AuditResult) { got = append(got, r) })
	require.NoError(t, err)
	require.Len(t, got, 1)
	assert.Equal(t, mailauth.AuditReady, got[0].Status, "Audit.Run after the caller changed its configuration")
}

func TestAuditStatuses(t *testing.T) {
	t.Parallel()
	var ready, change []mailauth.AuditStatus
	for _, s := range mailauth.AuditStatuses() {
		if s.Ready() {
			ready = append(ready, s)
		}
		if s.NeedsChange() {
			change = append(change, s)
		}
	}
	assert.Equal(t, []mailauth.AuditStatus{mailauth.AuditReady, mailauth.AuditPrivateCloud}, ready, "statuses Ready")
	assert.Equal(t, []mailauth.AuditStatus{mailauth.AuditNeedsAllowList, mailauth.AuditNeedsSPF, mailauth.AuditOverLookupLimit, mailauth.AuditReportTrap}, change, "statuses NeedsChange")
	sum := &mailauth.AuditSummary{Counts: map[mailauth.AuditStatus]int{mailauth.AuditReady: 3, mailauth.AuditPrivateCloud: 1, mailauth.AuditDNSError: 0}}
	assert.True(t, sum.Ready(), "AuditSummary(%v).Ready()", sum.Counts)
	sum.Counts[mailauth.AuditNeedsSPF] = 1
	assert.False(t, sum.Ready(), "AuditSummary(%v).Ready()", sum.Counts)
}

// slowResolver adds a delay to every lookup, as a distant DNS server would.
type slowResolver struct {
	mailauth.Resolver
	delay time.Duration
}

func (s slowResolver) sleep(ctx context.Context) error {
	t := time.NewTimer(s.delay)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s slowResolver) LookupTXT(ctx context.Context, name string) ([]string, error) {
	if err := s.sleep(ctx); err != nil {
		return nil, &net.DNSError{Err: err.Error(), Name: name, IsTimeout: true}
	}
	return s.Resolver.LookupTXT(ctx, name)
}

func (s slowResolver) LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error) {
	if err := s.sleep(ctx); err != nil {
		return nil, &net.DNSError{Err: err.Error(), Name: host, IsTimeout: true}
	}
	return s.Resolver.LookupNetIP(ctx, network, host)
}

func (s slowResolver) LookupMX(ctx context.Context, name string) ([]*net.MX, error) {
	if err := s.sleep(ctx); err != nil {
		return nil, &net.DNSError{Err: err.Error(), Name: name, IsTimeout: true}
	}
	return s.Resolver.LookupMX(ctx, name)
}

func (s slowResolver) LookupAddr(ctx context.Context, addr string) ([]string, error) {
	if err := s.sleep(ctx); err != nil {
		return nil, &net.DNSError{Err: err.Error(), Name: addr, IsTimeout: true}
	}
	return s.Resolver.LookupAddr(ctx, addr)
}

// BenchmarkAudit audits 10,000 generated customers (every kind but those
// whose lookups time out) against the loopback DNS server, each lookup 5 ms
// slower than the server answers, with and without the shared cache. One
// op is the whole audit; it reports customers/s and the DNS queries the
// server received per customer.
func BenchmarkAudit(b *testing.B) {
	w := newAuditWorld(10000, false)
	srv := mailauthtest.NewServer(b, w.zones)
	for _, bc := range []struct {
		name    string
		noCache bool
	}{{"cache", false}, {"nocache", true}} {
		b.Run(bc.name, func(b *testing.B) {
			pc := auditPolicyConfig()
			pc.Resolver = slowResolver{srv.Resolver(b), 5 * time.Millisecond}
			a, err := mailauth.NewAudit(mailauth.AuditConfig{Policy: pc, NoCache: bc.noCache})
			require.NoError(b, err)
			var customers, queries int
			var elapsed time.Duration
			for b.Loop() {
				q0, t0 := srv.Queries(), time.Now()
				sum, err := a.Run(context.Background(), w.customers, nil)
				require.NoError(b, err)
				elapsed += time.Since(t0)
				queries += srv.Queries() - q0
				customers += sum.Customers
				require.Equal(b, len(w.customers), sum.Customers)
				wantCounts := make(map[mailauth.AuditStatus]int)
				for _, k := range w.kinds {
					wantCounts[k.want]++
				}
				require.True(b, maps.Equal(wantCounts, sum.Counts), "AuditSummary.Counts = %v; want %v", sum.Counts, wantCounts)
			}
			b.ReportMetric(float64(customers)/elapsed.Seconds(), "customers/s")
			b.ReportMetric(float64(queries)/float64(customers), "queries/customer")
		})
	}
}
