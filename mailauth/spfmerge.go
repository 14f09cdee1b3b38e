package mailauth

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"

	"github.com/alertmail/alertmail/internal/domain"
	"github.com/alertmail/alertmail/mailauth/spf"
)

// SPFLookupLimit is the number of DNS-querying terms (include, a, mx, ptr,
// exists, redirect) one SPF check may evaluate (RFC 7208 section 4.6.4); a
// record needing more gives permerror for every sender.
const SPFLookupLimit = spf.DefaultLookupLimit

// An SPFMerge is the SPF record a customer publishes so that every platform
// sending address gets pass: the customer's record with the platform's
// terms merged in, or why no such record can be proposed.
//
// The platform's terms (its include, or ip4/ip6 terms for the addresses
// that do not pass yet) are placed before the record's "all" term, or after
// its last mechanism when it has none (a redirect then still applies to
// everyone else); terms already present are not repeated. When a term of
// the record itself rejects a platform address, the platform's terms go
// first. Lookups are counted by evaluating the proposed record through the
// resolver, includes and redirects followed.
//
// An SPFMerge is plain data, owned by the caller.
type SPFMerge struct {
	// Domain is the customer's domain.
	Domain string
	// Current is the SPF record published now; empty when there is none.
	Current string
	// CurrentLookups is the number of DNS lookups Current costs.
	CurrentLookups int
	// Record is the record to publish; empty when none can be proposed
	// (Notes say why).
	Record string
	// Added lists the terms added to Current, as written.
	Added []string
	// Lookups is the number of DNS lookups Record costs. It is at most
	// SPFLookupLimit for a proposed record; only when Record is Current,
	// unchanged because it already gives pass for every platform address,
	// can it be more, and Notes then say so.
	Lookups int
	// Notes explain the choice: an include replaced by ip4/ip6 terms to
	// stay within the limit, a term that rejects a platform address, or why
	// no record can be proposed.
	Notes []string
	// Costly lists the terms of Current that cost DNS lookups, costliest
	// first; set when no record within the limit could be proposed.
	Costly []LookupCost
}

// A LookupCost is the number of DNS lookups one term of a record costs, the
// lookups of the records an include or redirect leads to included.
//
// It is plain data.
type LookupCost struct {
	// Term is the term as written in the record, "include:_spf.example.com".
	Term string
	// Lookups is the number of DNS lookups it costs, those of the records
	// it leads to included.
	Lookups int
}

// String returns "term (lookups)", as "include:_spf.example.com (3)".
func (c LookupCost) String() string { return fmt.Sprintf("%s (%d)", c.Term, c.Lookups) }

// ZoneRecord returns Record in zone-file form, split into strings of at most
// 255 octets as a TXT record requires; empty when there is no Record.
func (m *SPFMerge) ZoneRecord() string {
	if m.Record == "" {
		return ""
	}
	return m.Domain + ". IN TXT " + quoteTXT(m.Record)
}

// String renders the merge as the short notice a customer reads.
func (m *SPFMerge) String() string {
	var b strings.Builder
	m.write(&b)
	return b.String()
}

func (m *SPFMerge) write(b *strings.Builder) {
	for _, n := range m.Notes {
		fmt.Fprintf(b, "%s\n", n)
	}
	if m.Record == "" {
		if len(m.Costly) > 0 {
			b.WriteString("The terms that cost most DNS lookups:")
			for _, c := range m.Costly {
				fmt.Fprintf(b, " %v", c)
			}
			b.WriteString(".\n")
		}
		return
	}
	if len(m.Added) == 0 {
		return
	}
	fmt.Fprintf(b, "Add these to your SPF record for %s: %s\n", m.Domain, strings.Join(m.Added, " "))
	fmt.Fprintf(b, "The record to publish (%d of %d DNS lookups):\n  %s\n", m.Lookups, SPFLookupLimit, m.ZoneRecord())
}

// MergeSPF returns the SPF record customerDomain should publish so that
// every platform sending address gets pass, built from the record it
// publishes now (see [SPFMerge]). When the record already gives pass for every
// address, Record is Current and Added is empty.
//
// The error is non-nil only when the answer cannot be trusted: a DNS
// failure fetching the records, or a cancelled ctx.
func (p *Policy) MergeSPF(ctx context.Context, customerDomain string) (*SPFMerge, error) {
	d, err := normalizeDomain(customerDomain, domain.Host)
	if err != nil {
		return nil, fmt.Errorf("mailauth: MergeSPF domain %q %v", customerDomain, err)
	}
	probes, err := p.probes(ctx)
	if err != nil {
		return nil, err
	}
	return p.mergeSPF(ctx, d, probes)
}

// A probe is an address that stands for a platform network in checks.
type probe struct {
	net  netip.Prefix
	addr netip.Addr
}

// probes returns the first and last address of each platform network; for a
// policy with only an SPF include, of the networks its record lists.
func (p *Policy) probes(ctx context.Context) ([]probe, error) {
	nets := p.ips
	if len(nets) == 0 {
		var err error
		if nets, err = p.includeNets(ctx); err != nil {
			return nil, err
		}
	}
	var out []probe
	for _, n := range nets {
		out = append(out, probe{n, n.Addr()})
		if last := lastAddr(n); last != n.Addr() {
			out = append(out, probe{n, last})
		}
	}
	return out, nil
}

// maxProbes bounds the addresses checked for one platform network.
const maxProbes = 64

// probesFor adds to base, for each platform network of more than one
// address, the addresses where the SPF records of domain (its own and those
// its includes and redirect lead to, as r serves them) start or stop
// treating part of the network differently: the first address of each
// ip4/ip6 term inside the network and the address after its end. Checked
// with the first and last addresses, they make the verdict exact for
// records built of ip4/ip6 terms; a, mx, ptr, exists and macros can still
// single out addresses nobody can enumerate. Lookup failures only mean
// fewer probes: the verifier reports them.
func (p *Policy) probesFor(ctx context.Context, r Resolver, domain string, base []probe) []probe {
	if !slices.ContainsFunc(base, func(pr probe) bool { return pr.net.Bits() < pr.addr.BitLen() }) {
		return base
	}
	var terms []netip.Prefix
	walkSPF(ctx, r, domain, SPFLookupLimit+1, func(_ string, recs []string, err error) (*spf.Record, error) {
		if err != nil || len(recs) != 1 {
			return nil, nil
		}
		rec, err := spf.Parse(recs[0])
		if err != nil {
			return nil, nil
		}
		for _, t := range rec.Terms {
			if t.Mechanism == spf.IP4 || t.Mechanism == spf.IP6 {
				terms = append(terms, t.Prefix.Masked())
			}
		}
		return rec, nil
	})
	return boundaryProbes(base, terms)
}

// boundaryProbes returns base with, for each network of base wider than
// an address, the first address of each of terms inside it and the address
// after each one's end, at most maxProbes for a network.
func boundaryProbes(base []probe, terms []netip.Prefix) []probe {
	out := slices.Clone(base)
	count := map[netip.Prefix]int{}
	for _, pr := range base {
		count[pr.net]++
	}
	add := func(n netip.Prefix, a netip.Addr) {
		if !a.IsValid() || !n.Contains(a) || count[n] >= maxProbes ||
			slices.ContainsFunc(out, func(q probe) bool { return q.addr == a }) {
			return
		}
		count[n]++
		out = append(out, probe{n, a})
	}
	for _, pr := range base {
		if pr.net.Bits() == pr.addr.BitLen() || pr.addr != pr.net.Addr() {
			continue // a single address, or the network's last probe
		}
		for _, t := range terms {
			if !t.Overlaps(pr.net) {
				continue
			}
			add(pr.net, t.Addr())
			add(pr.net, lastAddr(t).Next())
		}
	}
	return out
}

// walkSPF visits domain and the names its SPF records lead to through
// include and redirect (those without macros), breadth first, each name
// once and at most max names. visit gets the SPF records of a name (see
// spfRecords) and returns the record whose includes and redirect to
// follow, or nil; an error from visit ends the walk. The result reports
// whether names were left unvisited past max.
func walkSPF(ctx context.Context, r Resolver, domain string, max int, visit func(name string, recs []string, err error) (*spf.Record, error)) (bool, error) {
	seen := map[string]bool{}
	queue := []string{domain}
	for len(queue) > 0 {
		name := queue[0]
		queue = queue[1:]
		if seen[name] {
			continue
		}
		if len(seen) == max {
			return true, nil
		}
		seen[name] = true
		recs, err := spfRecords(ctx, r, name)
		rec, err := visit(name, recs, err)
		if err != nil {
			return false, err
		}
		if rec == nil {
			continue
		}
		for _, t := range rec.Terms {
			if (t.Mechanism == spf.Include || t.Modifier == spf.Redirect) && !strings.Contains(t.Value, "%") {
				queue = append(queue, strings.ToLower(strings.TrimSuffix(t.Value, ".")))
			}
		}
	}
	return false, nil
}

// lastAddr returns the highest address of n.
func lastAddr(n netip.Prefix) netip.Addr {
	b := n.Masked().Addr().AsSlice()
	for i := n.Bits(); i < len(b)*8; i++ {
		b[i/8] |= 0x80 >> (i % 8)
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}

// includeNets reads the networks the platform's SPF include authorises:
// the "+" ip4 and ip6 terms of its record and of the records its includes
// and redirect lead to, within the lookup limit.
func (p *Policy) includeNets(ctx context.Context) ([]netip.Prefix, error) {
	var nets []netip.Prefix
	more, err := walkSPF(ctx, p.resolver, p.include, SPFLookupLimit, func(name string, recs []string, err error) (*spf.Record, error) {
		if err != nil {
			return nil, err
		}
		if len(recs) != 1 {
			return nil, fmt.Errorf("mailauth: the platform's SPF include %s: %s publishes %d SPF records, not one", p.include, name, len(recs))
		}
		rec, err := spf.Parse(recs[0])
		if err != nil {
			return nil, fmt.Errorf("mailauth: the platform's SPF include %s: %w", p.include, err)
		}
		for _, t := range rec.Terms {
			if (t.Mechanism == spf.IP4 || t.Mechanism == spf.IP6) && t.Qualifier.Result() == spf.Pass {
				if n := t.Prefix.Masked(); !slices.Contains(nets, n) {
					nets = append(nets, n)
				}
			}
		}
		return rec, nil
	})
	switch {
	case err != nil:
		return nil, err
	case more:
		return nil, fmt.Errorf("mailauth: the platform's SPF include %s leads to more than %d records", p.include, SPFLookupLimit)
	case len(nets) == 0:
		return nil, fmt.Errorf("mailauth: the platform's SPF include %s lists no ip4 or ip6 network", p.include)
	}
	return nets, nil
}

// spfRecords returns the SPF records among the TXT records of name; none
// when the name or its TXT records do not exist.
func spfRecords(ctx context.Context, r Resolver, name string) ([]string, error) {
	txts, err := r.LookupTXT(ctx, name)
	if err != nil {
		if dnsErr, ok := errors.AsType[*net.DNSError](err); ok && dnsErr.IsNotFound {
			return nil, nil
		}
		return nil, fmt.Errorf("mailauth: looking up the SPF record of %s: %w", name, err)
	}
	var recs []string
	for _, t := range txts {
		if spf.IsRecord(t) {
			recs = append(recs, t)
		}
	}
	return recs, nil
}

// overlay answers TXT queries for one name with a proposed record and
// passes everything else to the resolver: it evaluates a record before it
// is published.
type overlay struct {
	Resolver
	name, record string
}

func (o overlay) LookupTXT(ctx context.Context, name string) ([]string, error) {
	if strings.EqualFold(strings.TrimSuffix(name, "."), o.name) {
		return []string{o.record}, nil
	}
	return o.Resolver.LookupTXT(ctx, name)
}

// Addresses that no record authorises short of "all" or a /0 network: the
// worst case, which evaluates every term, for counting lookups.
var countProbes = [...]netip.Addr{netip.AddrFrom4([4]byte{0, 0, 0, 1}), netip.MustParseAddr("100::1")}

// spfLookups evaluates domain's record through r as an address it does not
// authorise, without a lookup limit, and returns the lookups it costs and
// the cost of each term that queries DNS, costliest first.
func (p *Policy) spfLookups(ctx context.Context, r Resolver, domain string) (int, []LookupCost, error) {
	counter, err := spf.New(spf.Config{Resolver: r, LookupLimit: 1 << 20, VoidLimit: 1 << 20, MXLimit: 1 << 20, PTRLimit: 1 << 20})
	if err != nil {
		return 0, nil, err
	}
	var worst *spf.Explanation
	for _, ip := range countProbes {
		_, x := counter.CheckHost(ctx, ip, domain, "postmaster@"+domain, p.platform)
		if x.Err != nil && x.Result == spf.TempError {
			return 0, nil, fmt.Errorf("mailauth: counting the SPF lookups of %s: %w", domain, x.Err)
		}
		if worst == nil || x.Lookups > worst.Lookups {
			worst = x
		}
	}
	var costs []LookupCost
	if worst.Tree != nil {
		for _, s := range worst.Tree.Steps {
			if n := stepLookups(s); n > 0 {
				costs = append(costs, LookupCost{Term: s.Term.String(), Lookups: n})
			}
		}
	}
	slices.SortStableFunc(costs, func(a, b LookupCost) int { return cmp.Compare(b.Lookups, a.Lookups) })
	return worst.Lookups, costs, nil
}

// stepLookups returns the lookups of a step and of the records below it.
func stepLookups(s spf.Step) int {
	n := s.Lookups
	if s.Child != nil {
		for _, c := range s.Child.Steps {
			n += stepLookups(c)
		}
	}
	return n
}

// verdicts checks each probe against domain's record with c.
func (p *Policy) verdicts(ctx context.Context, c *spf.Checker, domain, sender string, probes []probe) ([]SPFCheck, error) {
	out := make([]SPFCheck, 0, len(probes))
	for _, pr := range probes {
		res, x := c.CheckHost(ctx, pr.addr, domain, sender, p.platform)
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		out = append(out, SPFCheck{IP: pr.addr, Network: pr.net, Result: res, Explanation: x})
	}
	return out, nil
}

// mergeSPF is MergeSPF for a normalised domain and the platform's probes.
func (p *Policy) mergeSPF(ctx context.Context, domain string, probes []probe) (*SPFMerge, error) {
	m := &SPFMerge{Domain: domain}
	cur, err := p.currentRecord(ctx, m)
	switch {
	case err != nil:
		return nil, err
	case cur == nil:
		return m, nil
	}
	probes = p.probesFor(ctx, p.resolver, domain, probes)
	before, err := p.verdicts(ctx, p.spf, domain, "postmaster@"+domain, probes)
	if err != nil {
		return nil, err
	}
	var failing []probe
	for i, v := range before {
		if v.Result != spf.Pass {
			failing = append(failing, probes[i])
		}
	}
	if len(failing) == 0 && m.Current != "" {
		keepCurrent(m)
		return m, nil
	}
	for _, add := range p.candidates(cur, failing) {
		ok, notes, err := p.tryMerge(ctx, m, cur, add, probes)
		if err != nil {
			return nil, err
		}
		m.Notes = append(m.Notes, notes...)
		if ok {
			m.Costly = nil
			return m, nil
		}
	}
	if m.CurrentLookups > SPFLookupLimit {
		m.Notes = append(m.Notes, fmt.Sprintf("Your SPF record for %s already needs %d DNS lookups, over the limit of %d: it gives permerror for every sender. Flatten or remove includes before adding the platform.", domain, m.CurrentLookups, SPFLookupLimit))
	} else if len(m.Costly) > 0 {
		m.Notes = append(m.Notes, fmt.Sprintf("Adding the platform's terms would take your SPF record for %s over the limit of %d DNS lookups. Flatten or remove includes first.", domain, SPFLookupLimit))
	}
	return m, nil
}

// currentRecord returns the record m.Domain publishes, parsed, with
// m.Current and its lookups filled in; without a record, one that changes
// nothing ("?all"). A nil record with a nil error means none can be merged
// into, and m.Notes say why.
func (p *Policy) currentRecord(ctx context.Context, m *SPFMerge) (*spf.Record, error) {
	recs, err := spfRecords(ctx, p.resolver, m.Domain)
	if err != nil {
		return nil, err
	}
	switch len(recs) {
	case 0:
		// No record: every sender gets none. "?all" keeps that meaning
		// for everyone but the platform (neutral and none are alike to
		// DMARC and to receivers).
		m.Notes = append(m.Notes, fmt.Sprintf("%s publishes no SPF record; this one ends in ?all, which changes nothing for your other senders: list them and end it in ~all or -all when you can.", m.Domain))
		return &spf.Record{Terms: []spf.Term{{Qualifier: spf.QualifierNeutral, Mechanism: spf.All, Len4: -1, Len6: -1}}}, nil
	case 1:
	default:
		m.Notes = append(m.Notes, fmt.Sprintf("%s publishes %d SPF records, a permerror for every sender; merge them into one first.", m.Domain, len(recs)))
		return nil, nil
	}
	m.Current = recs[0]
	cur, err := spf.Parse(recs[0])
	if err != nil {
		m.Notes = append(m.Notes, fmt.Sprintf("Your SPF record for %s is invalid, a permerror for every sender (%v); correct it first.", m.Domain, err))
		return nil, nil
	}
	if m.CurrentLookups, m.Costly, err = p.spfLookups(ctx, p.resolver, m.Domain); err != nil {
		return nil, err
	}
	return cur, nil
}

// keepCurrent proposes the current record, which already gives pass for
// every platform address; a note says when it is over the lookup limit.
func keepCurrent(m *SPFMerge) {
	m.Record, m.Lookups = m.Current, m.CurrentLookups
	if m.Lookups <= SPFLookupLimit {
		m.Costly = nil
		return
	}
	// The platform's terms come before the limit is reached, but the
	// record is still broken for the senders it lists after it: the
	// customer must hear that, with the costliest terms (Costly).
	m.Notes = append(m.Notes, fmt.Sprintf("Your SPF record for %s gives pass for every platform address, but it needs %d DNS lookups, over the limit of %d: receivers give permerror for the senders listed after the limit is reached. Flatten or remove includes.", m.Domain, m.Lookups, SPFLookupLimit))
}

// candidates returns the sets of terms to try adding to cur, in order: the
// platform's include, unless cur has it, then an ip4 or ip6 term for the
// network of each failing probe.
func (p *Policy) candidates(cur *spf.Record, failing []probe) [][]spf.Term {
	var out [][]spf.Term
	if p.include != "" && !hasInclude(cur, p.include) {
		out = append(out, []spf.Term{spf.IncludeTerm(p.include)})
	}
	var ips []spf.Term
	for _, pr := range failing {
		t := spf.IPTerm(pr.net)
		if !slices.ContainsFunc(ips, func(u spf.Term) bool { return u.Prefix == t.Prefix }) {
			ips = append(ips, t)
		}
	}
	return append(out, ips)
}

// tryMerge merges add into cur, before its all term or, if a term of cur
// rejects a platform address there, in front. When the result gives pass
// for every probe within the lookup limit it fills m and returns true;
// either way it returns the notes that explain the outcome.
func (p *Policy) tryMerge(ctx context.Context, m *SPFMerge, cur *spf.Record, add []spf.Term, probes []probe) (bool, []string, error) {
	include := add[0].Mechanism == spf.Include
	var notes []string
	for _, front := range []bool{false, true} {
		terms := add
		if !front {
			// A term the record already has is not repeated; if it is
			// there and the address still fails, an earlier term rejects
			// it, and the front placement below deals with that.
			terms = slices.DeleteFunc(slices.Clone(add), func(t spf.Term) bool { return hasTerm(cur, t) })
			if len(terms) == 0 {
				continue
			}
		}
		text := insertTerms(cur, terms, front).String()
		r := overlay{p.resolver, m.Domain, text}
		n, _, err := p.spfLookups(ctx, r, m.Domain)
		if err != nil {
			return false, nil, err
		}
		if n > SPFLookupLimit {
			if include {
				note := fmt.Sprintf("Adding %s would make %d DNS lookups, over the limit of %d.", terms[0], n, SPFLookupLimit)
				if len(p.ips) > 0 {
					note += " The platform's addresses are listed as ip4/ip6 terms instead, which cost none."
				}
				return false, []string{note}, nil
			}
			return false, nil, nil
		}
		// A checker of the record proposed, not of a customer's: no
		// telemetry.
		sim, err := spf.New(spf.Config{Resolver: r})
		if err != nil {
			return false, nil, err
		}
		after, err := p.verdicts(ctx, sim, m.Domain, "postmaster@"+m.Domain, probes)
		if err != nil {
			return false, nil, err
		}
		i := slices.IndexFunc(after, func(c SPFCheck) bool { return c.Result != spf.Pass })
		if i < 0 {
			m.Record, m.Lookups, m.Added = text, n, nil
			for _, t := range terms {
				m.Added = append(m.Added, t.String())
			}
			return true, notes, nil
		}
		blocked := after[i]
		if front {
			if include {
				return false, []string{fmt.Sprintf("The platform's include %s does not give pass for %s, so the platform's addresses are listed instead.", p.include, blocked.IP)}, nil
			}
			return false, append(notes, fmt.Sprintf("Even with the platform's terms first, %s gets %s from your SPF record for %s.", blocked.IP, blocked.Result, m.Domain)), nil
		}
		switch x := blocked.Explanation; {
		case x == nil:
		case x.Match != nil && x.Match.Domain == m.Domain && x.Match.Term.Mechanism != spf.All:
			notes = append(notes, fmt.Sprintf("The term %s of %s gives %s for the platform address %s, so the platform's terms go first.", x.Match.Term, x.Match.Domain, blocked.Result, blocked.IP))
		case x.Err != nil:
			notes = append(notes, fmt.Sprintf("Your SPF record gives %s for the platform address %s before reaching the platform's terms (%v), so they go first.", blocked.Result, blocked.IP, x.Err))
		}
	}
	return false, notes, nil
}

// insertTerms returns cur with add inserted: in front, or before the first
// all mechanism, or after the last mechanism (modifiers such as redirect
// apply after every mechanism wherever they are written). A fresh term
// has no position.
func insertTerms(cur *spf.Record, add []spf.Term, front bool) *spf.Record {
	terms := slices.Clone(cur.Terms)
	at := 0
	if !front {
		for i, t := range terms {
			if t.Mechanism == spf.All {
				at = i
				break
			}
			if !t.IsModifier() {
				at = i + 1
			}
		}
	}
	return &spf.Record{Terms: slices.Insert(terms, at, add...)}
}

// hasTerm reports whether rec has t already, with a pass qualifier: the
// same include domain, or the same ip4/ip6 network.
func hasTerm(rec *spf.Record, t spf.Term) bool {
	if t.Mechanism == spf.Include {
		return hasInclude(rec, t.Value)
	}
	return slices.ContainsFunc(rec.Terms, func(u spf.Term) bool {
		return u.Mechanism == t.Mechanism && u.Qualifier.Result() == spf.Pass && u.Prefix.Masked() == t.Prefix.Masked()
	})
}

// hasInclude reports whether rec includes domain already.
func hasInclude(rec *spf.Record, domain string) bool {
	return slices.ContainsFunc(rec.Terms, func(t spf.Term) bool {
		return t.Mechanism == spf.Include && t.Qualifier.Result() == spf.Pass && strings.EqualFold(strings.TrimSuffix(t.Value, "."), domain)
	})
}
