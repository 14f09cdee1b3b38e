package mailauth

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/alertmail/alertmail/mailauth/dmarc"
	"github.com/alertmail/alertmail/mailauth/spf"
)

// Defaults of the [AuditConfig] fields.
const (
	// DefaultAuditWorkers is the default number of customers checked at
	// once: enough to hide DNS latency, few enough for a shared resolver.
	DefaultAuditWorkers = 32
	// DefaultCustomerTimeout is the default time allowed for the checks of
	// one customer.
	DefaultCustomerTimeout = 30 * time.Second
)

// AuditConfig configures an [Audit]. Policy must be a valid platform
// configuration, as [NewPolicy] requires; every other field has a working
// default.
//
// NewAudit copies it, so the caller may reuse it.
type AuditConfig struct {
	// Policy is the platform: its corporate and platform domains, sending
	// networks and SPF include, applications with their migrations, and
	// customer DKIM key. Its Resolver is the DNS the audit asks (default
	// net.DefaultResolver), through the audit's cache and rate limit. Its
	// Clock is not read: each customer is checked as its application will
	// send once migrated, at its Migration.At. Its MeterProvider,
	// TracerProvider and Logger are not used either: an audit is a batch
	// with a report of its own, and makes new policies at each run.
	Policy PolicyConfig
	// Workers is the number of customers checked at once; the default is
	// DefaultAuditWorkers.
	Workers int
	// QueryRate caps the lookups sent to Policy.Resolver, per second,
	// evenly spaced; answers from the cache are not counted. Zero means no
	// cap. A customer's wait for its turn counts against CustomerTimeout.
	QueryRate float64
	// CustomerTimeout bounds the checks of one customer: one whose lookups
	// take longer is reported AuditDNSError with TimedOut set, and the
	// others go on. The default is DefaultCustomerTimeout.
	CustomerTimeout time.Duration
	// NoCache turns the shared cache off, so that every lookup goes to
	// Policy.Resolver; it is there to measure what the cache saves. By
	// default each name is asked once per run, whatever it answers.
	NoCache bool
	// Contact says how customers reach the platform, as the last line of
	// each notice ("https://platform.example/support"); empty leaves the
	// line out.
	Contact string
}

// An Audit checks the sending domains of many customers at once before a
// sender-domain migration: for each customer, whether the platform can keep
// sending as the customer's own From after its application's cut-over,
// and if not, exactly what the customer must change ([AuditResult]), as a
// notice to send it ([Audit.Notice]).
//
// Each customer is decided by [Policy.Sender]; the audit runs them
// concurrently through one caching, rate-limited resolver, bounds each
// customer's time, and sums the statuses up ([AuditSummary]).
//
// Create one with [NewAudit]; the zero value is not usable. An Audit is
// immutable and safe for concurrent use; each [Audit.Run] has a cache of its
// own.
type Audit struct {
	cfg      AuditConfig
	upstream Resolver
	apps     []Application // with their defaults, in configuration order
	platform string
}

// NewAudit validates cfg and returns its Audit. A bad Policy is reported as
// NewPolicy reports it, a *PolicyError.
func NewAudit(cfg AuditConfig) (*Audit, error) {
	switch {
	case cfg.Workers < 0:
		return nil, fmt.Errorf("mailauth: AuditConfig.Workers %d is negative", cfg.Workers)
	case cfg.Workers == 0:
		cfg.Workers = DefaultAuditWorkers
	}
	switch {
	case cfg.CustomerTimeout < 0:
		return nil, fmt.Errorf("mailauth: AuditConfig.CustomerTimeout %v is negative", cfg.CustomerTimeout)
	case cfg.CustomerTimeout == 0:
		cfg.CustomerTimeout = DefaultCustomerTimeout
	}
	if cfg.QueryRate < 0 || cfg.QueryRate != cfg.QueryRate {
		return nil, fmt.Errorf("mailauth: AuditConfig.QueryRate %v is not a rate", cfg.QueryRate)
	}
	// The caller keeps its slices and pointers.
	pc := &cfg.Policy
	pc.SendingIPs = slices.Clone(pc.SendingIPs)
	pc.Applications = slices.Clone(pc.Applications)
	for i, a := range pc.Applications {
		if a.Migration != nil {
			m := *a.Migration
			pc.Applications[i].Migration = &m
		}
	}
	if pc.CustomerDKIM != nil {
		k := *pc.CustomerDKIM
		pc.CustomerDKIM = &k
	}
	pc.MeterProvider, pc.TracerProvider, pc.Logger = nil, nil, nil
	p, err := NewPolicy(*pc)
	if err != nil {
		return nil, err
	}
	a := &Audit{cfg: cfg, upstream: p.resolver, platform: p.platform}
	for _, id := range p.Applications() {
		app, _ := p.Application(id)
		a.apps = append(a.apps, app)
	}
	return a, nil
}

// An AuditCustomer is one customer of an audit: a [Customer] of
// [Policy.Sender] with its tenant, its application and the sender of its
// scheduled reports. It is plain data; the audit only reads it.
type AuditCustomer struct {
	// Tenant identifies the customer in reports and notices.
	Tenant string
	// App is the application the customer's From is configured for.
	App App
	// Customer is the customer's sender configuration: its own From
	// (empty for the application's default), its deployment, its own
	// gateway, whether the platform signs with its domain.
	Customer
	// ReportSender is the sender address configured for the customer's
	// scheduled reports; empty when it has none of its own. It is checked
	// as the ScheduledReports application's sender, for the trap.
	ReportSender string
	// Line is the line of the customer file the customer was read from
	// (see [ReadAuditCustomers]); zero when it came from elsewhere.
	Line int
}

// An AuditStatus says what a customer must do before the cut-over.
//
// The zero value is no status; every [AuditResult] has one of the
// constants below.
type AuditStatus string

// The statuses of an audit, from the best to the worst: a customer with
// several problems gets the worst.
const (
	// AuditReady: nothing to change. The customer sends from the
	// application's default sender, or its own From passes SPF for every
	// platform address and DMARC at its gateway.
	AuditReady AuditStatus = "ready"
	// AuditPrivateCloud: a private-cloud customer with its own SMTP
	// gateway; no change, and nothing was checked.
	AuditPrivateCloud AuditStatus = "private-cloud"
	// AuditNeedsAllowList: the customer's own From cannot be used and no
	// SPF record would change that (its SPF already passes, but DMARC
	// fails or its record is malformed, or the sender is in the corporate
	// domain): its mail comes from the platform domain, which a gateway
	// enforcing strict DMARC must allow-list (AuditResult.Fix.AllowList).
	AuditNeedsAllowList AuditStatus = "needs-allow-list"
	// AuditNeedsSPF: the customer's SPF record does not authorise every
	// platform address; Fix.SPF is the record to publish, the platform
	// merged into the current one, with its lookup count.
	AuditNeedsSPF AuditStatus = "needs-spf-change"
	// AuditOverLookupLimit: no record within the 10-lookup limit can add
	// the platform; the customer must flatten or remove includes first
	// (Fix.SPF.Costly lists the costliest).
	AuditOverLookupLimit AuditStatus = "over-lookup-limit"
	// AuditReportTrap: the scheduled-report sender is in the customer's
	// own domain but the reports leave through the platform and would
	// fail DMARC; Fix.Sender is the platform sender to configure.
	AuditReportTrap AuditStatus = "scheduled-report-trap"
	// AuditDNSError: a lookup failed or timed out (TimedOut), so the
	// verdict cannot be trusted: retry later.
	AuditDNSError AuditStatus = "dns-error"
	// AuditInvalid: the customer's configuration cannot be checked (an
	// unknown application, a malformed sender); Err says why.
	AuditInvalid AuditStatus = "invalid"
)

// auditStatuses are the statuses from the best to the worst.
var auditStatuses = [...]AuditStatus{AuditReady, AuditPrivateCloud, AuditNeedsAllowList, AuditNeedsSPF,
	AuditOverLookupLimit, AuditReportTrap, AuditDNSError, AuditInvalid}

// AuditStatuses returns every status, from the best to the worst: the rows
// of a summary.
func AuditStatuses() []AuditStatus { return slices.Clone(auditStatuses[:]) }

// rank orders statuses from the best (0) to the worst.
func (s AuditStatus) rank() int { return slices.Index(auditStatuses[:], s) }

// Ready reports whether the customer has nothing to do: AuditReady or
// AuditPrivateCloud.
func (s AuditStatus) Ready() bool { return s == AuditReady || s == AuditPrivateCloud }

// NeedsChange reports whether the customer must change something, the
// statuses that get a notice: AuditNeedsAllowList, AuditNeedsSPF,
// AuditOverLookupLimit and AuditReportTrap.
func (s AuditStatus) NeedsChange() bool {
	switch s {
	case AuditNeedsAllowList, AuditNeedsSPF, AuditOverLookupLimit, AuditReportTrap:
		return true
	}
	return false
}

// An AuditResult is the audit's verdict on one customer. It is plain data,
// owned by the caller.
type AuditResult struct {
	// Customer is the customer as given.
	Customer AuditCustomer
	// Status says what the customer must do; Reason says why, in a
	// sentence.
	Status AuditStatus
	Reason string
	// TimedOut reports that the customer's checks did not finish within
	// AuditConfig.CustomerTimeout (Status is then AuditDNSError).
	TimedOut bool
	// Sender is the From the platform will send the customer's mail with
	// after the cut-over: the customer's own or the application's default.
	// Empty when the customer could not be checked.
	Sender string
	// Fix is what the customer must change: the merged SPF record with its
	// lookup count, the allow-list entry, the DKIM key record, the
	// scheduled-report sender. Nil when nothing is to change.
	Fix *Fix
	// Decision is Policy.Sender's decision for Customer.App and
	// Customer.From; Report its decision for Customer.ReportSender as the
	// ScheduledReports sender, nil without one. Status, Reason and Fix
	// come from the worse of the two. Both are nil when the customer could
	// not be checked.
	Decision, Report *Decision
	// Err is the error behind AuditInvalid, or the failure behind a timed-out
	// AuditDNSError; nil otherwise.
	Err error

	decisive *Decision // Decision or Report, whichever set Status
}

// DMARC returns the DMARC verdicts of the customer's gateway on mail with
// the customer's own From, for RFC 7489 and RFC 9989 receivers, from the
// decision that set Status; nil when none ran (no own sender, a private
// cloud, an invalid customer).
func (r *AuditResult) DMARC() (rfc7489, rfc9989 *dmarc.Verdict) {
	if d := r.decisive; d != nil && d.DMARC != nil && d.DMARC.Report != nil {
		return d.DMARC.Report.RFC7489, d.DMARC.Report.RFC9989
	}
	return nil, nil
}

// An AuditSummary counts the results of an audit run.
//
// It is plain data, owned by the caller.
type AuditSummary struct {
	// Customers is the number of customers with a result.
	Customers int
	// Counts holds the number of customers of each status.
	Counts map[AuditStatus]int
	// Queries is the number of lookups sent to the resolver, those the
	// cache answered not included.
	Queries int64
}

// Ready reports whether every customer counted is ready: AuditReady or
// AuditPrivateCloud.
func (s *AuditSummary) Ready() bool {
	for st, n := range s.Counts {
		if n > 0 && !st.Ready() {
			return false
		}
	}
	return true
}

// Run checks customers, at most AuditConfig.Workers at a time, and calls
// emit (when not nil) with each result as it comes, in the order checks
// finish, one call at a time from Run's goroutine. It returns when every
// customer has a result, with their summary.
//
// A customer whose checks take longer than AuditConfig.CustomerTimeout is
// reported as AuditDNSError with TimedOut set, and does not hold up the
// others. When ctx is cancelled Run stops starting checks, drops those in
// flight, and returns the summary of the results emitted with ctx.Err().
// Any other error is a customer's result, not Run's.
func (a *Audit) Run(ctx context.Context, customers []AuditCustomer, emit func(*AuditResult)) (*AuditSummary, error) {
	run, stop := context.WithCancel(ctx)
	defer stop()
	res := newAuditResolver(run, a.upstream, a.cfg.QueryRate, !a.cfg.NoCache)
	policies, err := a.policies(res)
	if err != nil {
		return nil, err
	}
	sum := &AuditSummary{Counts: make(map[AuditStatus]int)}

	jobs := make(chan int)
	results := make(chan *AuditResult)
	var wg sync.WaitGroup
	for range min(a.cfg.Workers, len(customers)) {
		wg.Go(func() {
			for i := range jobs {
				r := a.check(run, policies, customers[i])
				if r == nil {
					return // cancelled
				}
				select {
				case results <- r:
				case <-run.Done():
					return
				}
			}
		})
	}
	go func() {
		defer close(jobs)
		for i := range customers {
			select {
			case jobs <- i:
			case <-run.Done():
				return
			}
		}
	}()
	go func() {
		wg.Wait()
		close(results)
	}()
	for r := range results {
		if ctx.Err() != nil {
			continue // drain: the workers are stopping
		}
		sum.Customers++
		sum.Counts[r.Status]++
		if emit != nil {
			emit(r)
		}
	}
	sum.Queries = res.Queries()
	return sum, ctx.Err()
}

// auditClock is the fixed instant a policy of the audit decides at.
type auditClock time.Time

func (c auditClock) Now() time.Time { return time.Time(c) }

// policies returns the policy each application is checked with: one that
// asks res and reads the clock at the application's migration instant, so
// that the decision is the one after its cut-over.
func (a *Audit) policies(res Resolver) (map[App]*Policy, error) {
	byInstant := make(map[time.Time]*Policy)
	out := make(map[App]*Policy, len(a.apps))
	for _, app := range a.apps {
		var at time.Time
		if app.Migration != nil {
			at = app.Migration.At
		}
		p := byInstant[at]
		if p == nil {
			cfg := a.cfg.Policy
			cfg.Resolver, cfg.Clock = res, auditClock(at)
			var err error
			if p, err = NewPolicy(cfg); err != nil {
				return nil, err
			}
			byInstant[at] = p
		}
		out[app.ID] = p
	}
	return out, nil
}

// check decides one customer under its own deadline; nil when ctx (the
// run) was cancelled meanwhile.
func (a *Audit) check(ctx context.Context, policies map[App]*Policy, c AuditCustomer) *AuditResult {
	cctx, cancel := context.WithTimeout(ctx, a.cfg.CustomerTimeout)
	defer cancel()
	r := &AuditResult{Customer: c}
	var err error
	what := "" // which sender err is about
	if p := policies[c.App]; p == nil {
		err = fmt.Errorf("%w %q", ErrUnknownApp, c.App)
	} else {
		r.Decision, err = p.Sender(cctx, c.App, c.Customer)
	}
	if err == nil && c.ReportSender != "" {
		what = "Scheduled reports: "
		if p := policies[ScheduledReports]; p == nil {
			err = fmt.Errorf("%w %q: the platform has no such application for the report sender", ErrUnknownApp, ScheduledReports)
		} else {
			rc := c.Customer
			rc.From = c.ReportSender
			r.Report, err = p.Sender(cctx, ScheduledReports, rc)
		}
	}
	switch {
	case ctx.Err() != nil:
		return nil
	case cctx.Err() != nil:
		r.Decision, r.Report = nil, nil
		r.Status, r.TimedOut, r.Err = AuditDNSError, true, cctx.Err()
		r.Reason = fmt.Sprintf("The DNS lookups for this customer did not finish within %v: retry.", a.cfg.CustomerTimeout)
		return r
	case err != nil:
		r.Decision, r.Report = nil, nil
		r.Status, r.Err = AuditInvalid, err
		if _, ok := errors.AsType[*net.DNSError](err); ok {
			r.Status = AuditDNSError
		}
		r.Reason = what + strings.TrimPrefix(err.Error(), "mailauth: ")
		return r
	}
	r.judge(a.platform)
	return r
}

// judge sets Status, Reason, Sender and Fix from the worse of the two
// decisions.
func (r *AuditResult) judge(platform string) {
	r.decisive = r.Decision
	st, why := decisionStatus(r.Decision)
	if r.Report != nil {
		if rs, rwhy := decisionStatus(r.Report); rs.rank() > st.rank() {
			st, why, r.decisive = rs, rwhy, r.Report
			if rs != AuditReportTrap {
				why = "Scheduled reports: " + why
			}
		}
	}
	d := r.decisive
	r.Status, r.Reason, r.Sender, r.Fix = st, why, d.From, d.Fix
	if r.Fix == nil && st == AuditNeedsAllowList {
		// A sender in the corporate domain gets no Fix from Sender:
		// nothing in the customer's DNS is at fault.
		r.Fix = &Fix{Domain: addressDomain(d.ReplyTo), AllowList: []string{"*@" + platform}}
		if dom := addressDomain(d.From); dom != platform {
			r.Fix.AllowList = append(r.Fix.AllowList, "*@"+dom)
		}
	}
}

// addressDomain returns the domain of an address, or "" without one. The
// address may have a display name: a Decision's From does.
func addressDomain(addr string) string {
	addr = strings.TrimSuffix(addr, ">")
	if i := strings.LastIndexByte(addr, '@'); i >= 0 {
		return addr[i+1:]
	}
	return ""
}

// fellBack reports whether d replaced the customer's own From with the
// platform's sender.
func fellBack(d *Decision) bool { return d.Choice == SenderFallback }

// decisionStatus maps a decision of Policy.Sender to the customer's
// status, with the sentence that says why.
func decisionStatus(d *Decision) (AuditStatus, string) {
	if !fellBack(d) {
		if f, ok := finding(d, CodePrivateCloud); ok {
			return AuditPrivateCloud, f
		}
		if d.ReplyTo == "" && len(d.SPF) > 0 {
			return AuditReady, fmt.Sprintf("The customer's own sender %s passes SPF for every platform address and DMARC at its gateway.", d.From)
		}
		if f, ok := finding(d, CodeNoCustomerSender); ok {
			return AuditReady, f
		}
		return AuditReady, ""
	}
	if dnsFailed(d) {
		for _, f := range d.Findings {
			if f.Code == CodeSPFError || f.Code == CodeDMARCError {
				return AuditDNSError, f.Text
			}
		}
		return AuditDNSError, firstFinding(d)
	}
	if f, ok := finding(d, CodeScheduledReportTrap); ok {
		return AuditReportTrap, f
	}
	if fix := d.Fix; fix != nil && fix.SPF != nil {
		s := fix.SPF
		switch {
		case s.Record != "" && len(s.Added) > 0:
			return AuditNeedsSPF, firstFinding(d)
		case s.CurrentLookups > SPFLookupLimit || s.Lookups > SPFLookupLimit || len(s.Costly) > 0:
			return AuditOverLookupLimit, overLimitReason(d, s)
		}
		// An invalid record, or several: the notes say what to correct.
		return AuditNeedsSPF, firstFinding(d)
	}
	return AuditNeedsAllowList, firstFinding(d)
}

// dnsFailed reports whether a lookup behind d failed, so that its verdict
// cannot be trusted: a temperror of SPF or DMARC, the platform's own
// addresses unreadable, or the SPF merge unable to read the records.
func dnsFailed(d *Decision) bool {
	spfOK := true
	for _, c := range d.SPF {
		if c.Result == spf.TempError {
			return true
		}
		spfOK = spfOK && c.Result == spf.Pass
	}
	if d.DMARC != nil && d.DMARC.Report != nil {
		for _, v := range []*dmarc.Verdict{d.DMARC.Report.RFC7489, d.DMARC.Report.RFC9989} {
			if v != nil && v.Result == dmarc.TempError {
				return true
			}
		}
	}
	if _, ok := finding(d, CodeSPFError); ok && len(d.SPF) == 0 {
		return true
	}
	return !spfOK && (d.Fix == nil || d.Fix.SPF == nil)
}

// overLimitReason says how far over the limit the customer's record is.
func overLimitReason(d *Decision, s *SPFMerge) string {
	if s.CurrentLookups > SPFLookupLimit {
		return fmt.Sprintf("The SPF record of %s needs %d DNS lookups, over the limit of %d, so no record can add the platform.", s.Domain, s.CurrentLookups, SPFLookupLimit)
	}
	return firstFinding(d)
}

// finding returns the text of d's first finding with code c.
func finding(d *Decision, c Code) (string, bool) {
	for _, f := range d.Findings {
		if f.Code == c {
			return f.Text, true
		}
	}
	return "", false
}

// firstFinding returns the text of d's first finding other than the
// migration notice, or "".
func firstFinding(d *Decision) string {
	for _, f := range d.Findings {
		if f.Code != CodeMigration {
			return f.Text
		}
	}
	return ""
}
