package dmarc

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"

	"golang.org/x/net/publicsuffix"
)

// A Resolver answers the DNS queries of DMARC evaluation: TXT for policy
// records, and A, AAAA and MX to tell whether an author domain exists (for
// the "np" tag). It is the subset of mailauth.Resolver this package needs, so
// *net.Resolver and package dnsclient's resolver fit.
//
// A name that does not exist, or has no record of the asked type, must be
// reported as a *net.DNSError with IsNotFound set; any other error is a
// temporary failure. A resolver that tells the two apart says so through
// an error in the chain with a method NXDomain() bool, true when the name
// does not exist (package dnsclient's errors have it). Implementations
// must be safe for concurrent use.
type Resolver interface {
	LookupTXT(ctx context.Context, name string) ([]string, error)
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
	LookupMX(ctx context.Context, name string) ([]*net.MX, error)
}

// maxTreeWalk is the most DNS queries one tree walk makes (RFC 9989
// section 4.10).
const maxTreeWalk = 8

// A Query is one DNS lookup of DMARC records made during an evaluation.
//
// It is plain data, part of a Verdict.
type Query struct {
	// Domain is the domain whose record was asked for; the query name is
	// "_dmarc." + Domain.
	Domain string
	// Record is the single DMARC record found there, or nil.
	Record *Record
	// Found is the number of DMARC records among the TXT records; more than
	// one means they were all discarded (RFC 7489 section 6.6.3, RFC 9989
	// section 4.10 step 2).
	Found int
	// Err is the DNS error when the lookup failed other than with "not
	// found"; the evaluation result is then TempError.
	Err error
}

// String describes the lookup and its outcome on one line.
func (q *Query) String() string {
	name := "_dmarc." + q.Domain
	switch {
	case q.Err != nil:
		return fmt.Sprintf("%s: DNS error: %v", name, q.Err)
	case q.Record != nil:
		return fmt.Sprintf("%s: %q", name, q.Record.Text)
	case q.Found > 1:
		return fmt.Sprintf("%s: %d DMARC records, all discarded", name, q.Found)
	default:
		return name + ": no DMARC record"
	}
}

// session holds the DNS answers of one evaluation, so that no name is
// asked twice while the author domain and the authenticated identifiers are
// walked.
type session struct {
	ctx     context.Context
	res     Resolver
	gen     Generation
	queries []*Query
	byName  map[string]*Query
	orgs    map[string]string
}

func newSession(ctx context.Context, res Resolver, gen Generation) *session {
	return &session{ctx: ctx, res: res, gen: gen, byName: make(map[string]*Query, 4)}
}

// lookup asks for the DMARC records of domain once per session.
func (s *session) lookup(domain string) *Query {
	if q, ok := s.byName[domain]; ok {
		return q
	}
	q := &Query{Domain: domain}
	s.byName[domain] = q
	s.queries = append(s.queries, q)
	txts, err := s.res.LookupTXT(s.ctx, "_dmarc."+domain)
	if err != nil {
		if !isNotFound(err) {
			q.Err = err
		}
		return q
	}
	for _, txt := range txts {
		rec, err := Parse(txt)
		if err != nil {
			continue
		}
		q.Found++
		q.Record = rec
	}
	if q.Found > 1 {
		q.Record = nil
	}
	return q
}

// walk performs the DNS tree walk of RFC 9989 section 4.10 from start and
// returns the lookups that found a record, longest name first. It makes at
// most maxTreeWalk queries and stops at a record with psd=n, or with psd=y
// above start: at start itself only psd=n ends the walk (step 2), so a
// domain that declares itself a public suffix still finds its parents.
func (s *session) walk(start string) ([]*Query, error) {
	var found []*Query
	for _, d := range walkNames(start) {
		q := s.lookup(d)
		if q.Err != nil {
			return nil, &DNSError{Name: "_dmarc." + d, Err: q.Err}
		}
		if q.Record == nil {
			continue
		}
		found = append(found, q)
		if q.Record.PSD == PSDNo || q.Record.PSD == PSDYes && d != start {
			break
		}
	}
	return found, nil
}

// walkNames returns the domains a tree walk from start queries, in order:
// start, then (steps 3 and 4) its parent, or its last seven labels when it
// has eight or more, then one label less each time down to the top-level
// domain.
func walkNames(start string) []string {
	names := make([]string, 0, maxTreeWalk)
	names = append(names, start)
	n := labels(start)
	next := parent(start)
	if n >= maxTreeWalk {
		next = suffix(start, maxTreeWalk-1)
	}
	for d := next; d != ""; d = parent(d) {
		names = append(names, d)
	}
	return names
}

// orgDomain returns the organizational domain of d: from the public suffix
// list for RFC 7489 (section 3.2), from the tree walk for RFC 9989 (section
// 4.10.2).
func (s *session) orgDomain(d string) (string, error) {
	if org, ok := s.orgs[d]; ok {
		return org, nil
	}
	var org string
	if s.gen == RFC7489 {
		org = OrganizationalDomain(d)
	} else {
		found, err := s.walk(d)
		if err != nil {
			return "", err
		}
		org = selectOrgDomain(d, found)
	}
	if s.orgs == nil {
		s.orgs = make(map[string]string, 2)
	}
	s.orgs[d] = org
	return org, nil
}

// OrganizationalDomain returns the organizational domain of d as RFC 7489
// section 3.2 defines it: the registered domain under the public suffix list
// (golang.org/x/net/publicsuffix), or d itself when d is a public suffix or
// has none. d must be a lower-case A-label domain without a trailing dot.
// RFC 9989 receivers find the organizational domain with a DNS tree walk
// instead; [Evaluator.Evaluate] does that one.
func OrganizationalDomain(d string) string {
	org, err := publicsuffix.EffectiveTLDPlusOne(d)
	if err != nil {
		return d
	}
	return org
}

// selectOrgDomain applies RFC 9989 section 4.10.2 to the records a tree
// walk from start found, longest name first: a psd=n record names the
// organizational domain; a psd=y record other than start's puts it one label
// below; otherwise it is the record with the fewest labels, and with no
// record it is start itself.
func selectOrgDomain(start string, found []*Query) string {
	for _, q := range found {
		switch {
		case q.Record.PSD == PSDNo:
			return q.Domain
		case q.Record.PSD == PSDYes && q.Domain != start:
			return suffix(start, labels(q.Domain)+1)
		}
	}
	if len(found) > 0 {
		return found[len(found)-1].Domain
	}
	return start
}

// discovery is the outcome of policy discovery.
type discovery struct {
	record *Record
	domain string // the DMARC Policy Domain
	org    string // the organizational domain of the author domain
	psd    bool   // the record is a public suffix domain's
}

// discover finds the DMARC policy record that applies to author. A nil
// record with a nil error means DMARC does not apply.
func (s *session) discover(author string, steps *[]string) (discovery, error) {
	if s.gen == RFC7489 {
		return s.discover7489(author, steps)
	}
	return s.discover9989(author, steps)
}

// discover7489 follows RFC 7489 section 6.6.3: the author domain, then its
// organizational domain from the public suffix list.
func (s *session) discover7489(author string, steps *[]string) (discovery, error) {
	org := OrganizationalDomain(author)
	q := s.lookup(author)
	addStep(steps, "discovery: %v", q)
	if q.Err != nil {
		return discovery{}, &DNSError{Name: "_dmarc." + author, Err: q.Err}
	}
	if q.Record != nil {
		return discovery{record: q.Record, domain: author, org: org}, nil
	}
	if q.Found > 1 {
		addStep(steps, "discovery ends: more than one record at the author domain (RFC 7489 section 6.6.3 step 5)")
		return discovery{org: org}, nil
	}
	if org == author {
		addStep(steps, "discovery ends: %s is its own organizational domain (public suffix list)", author)
		return discovery{org: org}, nil
	}
	q = s.lookup(org)
	addStep(steps, "discovery at the organizational domain %s (public suffix list, RFC 7489 section 6.6.3 step 3): %v", org, q)
	if q.Err != nil {
		return discovery{}, &DNSError{Name: "_dmarc." + org, Err: q.Err}
	}
	return discovery{record: q.Record, domain: org, org: org}, nil
}

// discover9989 follows RFC 9989 section 4.10.1: the author domain, then the
// tree walk to its organizational domain or public suffix domain.
func (s *session) discover9989(author string, steps *[]string) (discovery, error) {
	q := s.lookup(author)
	if q.Err != nil {
		addStep(steps, "discovery: %v", q)
		return discovery{}, &DNSError{Name: "_dmarc." + author, Err: q.Err}
	}
	if q.Record != nil {
		// The author domain's own record applies; its organizational
		// domain is only walked to if alignment needs it.
		addStep(steps, "discovery: %v", q)
		return discovery{record: q.Record, domain: author}, nil
	}
	found, err := s.walk(author)
	for _, q := range s.queries {
		addStep(steps, "tree walk: %v", q)
	}
	if err != nil {
		return discovery{}, err
	}
	org := selectOrgDomain(author, found)
	s.orgs = map[string]string{author: org}
	if len(found) == 0 {
		return discovery{org: org}, nil
	}
	for _, q := range found {
		if q.Domain == org {
			addStep(steps, "policy domain: %s, the organizational domain (RFC 9989 section 4.10.1)", org)
			return discovery{record: q.Record, domain: org, org: org}, nil
		}
	}
	// The organizational domain published nothing: the public suffix
	// domain's record applies.
	psd := found[len(found)-1]
	addStep(steps, "policy domain: %s, the public suffix domain (psd=y) above organizational domain %s (RFC 9989 section 4.10.1)", psd.Domain, org)
	return discovery{record: psd.Record, domain: psd.Domain, org: org, psd: true}, nil
}

// exists tells whether domain exists: RFC 9989 section 3.2.13 calls a
// domain non-existent on NXDOMAIN. A resolver whose errors have the
// NXDomain method (see [Resolver]) says so; others, like *net.Resolver,
// report NXDOMAIN and "no records of this type" alike, so the domain then
// counts as non-existent when A, AAAA and MX all come back not found, the
// test of RFC 9091 section 2.1, which every NXDOMAIN name passes.
func (s *session) exists(domain string) (bool, error) {
	addrs, err := s.res.LookupNetIP(s.ctx, "ip", domain)
	nx, told := nxDomain(err)
	switch {
	case err == nil && len(addrs) > 0:
		return true, nil
	case told:
		return !nx, nil // without NXDOMAIN the name exists, with other records
	case err != nil && !isNotFound(err):
		return false, &DNSError{Name: domain, Err: err}
	}
	mx, err := s.res.LookupMX(s.ctx, domain)
	if err == nil && len(mx) > 0 {
		return true, nil
	}
	if err != nil && !isNotFound(err) {
		return false, &DNSError{Name: domain, Err: err}
	}
	return false, nil
}

// An nxDomainError is the error of a resolver that tells a name that does
// not exist (NXDomain true) from one without records of the asked type.
type nxDomainError interface {
	error
	NXDomain() bool
}

// nxDomain reports whether err says the name does not exist (nx) or has no
// record of the asked type (!nx), when its resolver tells the two apart
// (told): an error in its chain is an nxDomainError.
func nxDomain(err error) (nx, told bool) {
	e, ok := errors.AsType[nxDomainError](err)
	if !ok {
		return false, false
	}
	return e.NXDomain(), true
}

// isNotFound reports whether err says the name or the record does not
// exist, as opposed to a failure to find out.
func isNotFound(err error) bool {
	var dnsErr *net.DNSError
	return errors.As(err, &dnsErr) && dnsErr.IsNotFound
}

// A DNSError is a DNS failure that kept the evaluation from a result:
// the verdict is TempError, never a fail (RFC 9989 section 5.3.6).
//
// It is plain data.
type DNSError struct {
	Name string // the name being resolved
	Err  error  // the resolver's error
}

// Error says which name failed and how.
func (e *DNSError) Error() string {
	return "dmarc: temporary DNS failure for " + e.Name + ": " + e.Err.Error()
}

// Unwrap returns the resolver's error.
func (e *DNSError) Unwrap() error { return e.Err }

func addStep(steps *[]string, format string, args ...any) {
	if steps == nil {
		return
	}
	*steps = append(*steps, strings.TrimSpace(fmt.Sprintf(format, args...)))
}
