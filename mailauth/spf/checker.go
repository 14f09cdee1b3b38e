package spf

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"time"

	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	domainname "github.com/alertmail/alertmail/internal/domain"
)

// A Resolver answers the DNS queries of SPF checks. Its method set is a
// subset of *net.Resolver's (and of mailauth.Resolver), so the standard
// resolver fits; dnsclient.Resolver is the intended one, as it sends any
// legal label octet that macro expansion can produce.
//
// A lookup that finds nothing (NXDOMAIN or no records of the type) must
// return a *net.DNSError with IsNotFound set: that is a void lookup (RFC
// 7208 section 4.6.4). Any other error is a DNS failure (temperror).
// Implementations must be safe for concurrent use: a Checker shares its
// Resolver among the checks it runs at once.
type Resolver interface {
	LookupTXT(ctx context.Context, name string) ([]string, error)
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
	LookupMX(ctx context.Context, name string) ([]*net.MX, error)
	LookupAddr(ctx context.Context, addr string) ([]string, error)
}

// A Clock tells the time, for the %{t} macro; any type with this method
// fits. Implementations must be safe for concurrent use.
type Clock interface {
	Now() time.Time
}

// ClockFunc adapts a function to a [Clock]; ClockFunc(time.Now) is the
// system clock.
type ClockFunc func() time.Time

// Now returns f().
func (f ClockFunc) Now() time.Time { return f() }

// Defaults of the Config fields (RFC 7208 section 4.6.4).
const (
	DefaultLookupLimit = 10
	DefaultVoidLimit   = 2
	DefaultMXLimit     = 10
	DefaultPTRLimit    = 10
	// DefaultExplanation is the explanation of a fail whose record has no
	// usable exp= modifier; it is a macro-string.
	DefaultExplanation = "%{c} is not one of %{d}'s designated mail servers."
	DefaultReceiver    = "unknown"
)

// Config configures a [Checker]. Its zero value is ready to use: the
// system's resolver and the limits of RFC 7208. [New] validates it.
type Config struct {
	// Resolver answers DNS queries. Default: a zero net.Resolver (the
	// system's), which cannot send some names macros can produce; prefer
	// dnsclient.Resolver.
	Resolver Resolver
	// LookupLimit is the number of DNS-querying terms (include, a, mx,
	// ptr, exists, redirect) allowed in one check. Default: 10.
	LookupLimit int
	// VoidLimit is the number of lookups allowed to find nothing. Default: 2.
	VoidLimit int
	// MXLimit is the number of MX records an mx mechanism may meet before
	// it is a permerror. Default: 10.
	MXLimit int
	// PTRLimit is the number of PTR names ptr and %{p} look at. Default: 10.
	PTRLimit int
	// DefaultExplanation is the explanation (a macro-string) of a fail
	// whose record has none. Default: DefaultExplanation.
	DefaultExplanation string
	// Receiver is the domain of the receiving host, the %{r} macro.
	// Default: "unknown".
	Receiver string
	// Clock gives %{t}. Default: the system clock.
	Clock Clock
	// MeterProvider gives the checks' metric (alertmail.spf.checks, by
	// result). Default: none, the no-op provider; never the global one.
	MeterProvider metric.MeterProvider
	// TracerProvider gives each check a span (alertmail.spf.check, with
	// the result and the lookup count) when the context carries a
	// recording span. Default: none, the no-op provider; never the global
	// one.
	TracerProvider trace.TracerProvider
	// Logger receives a Debug record of each check (domain, IP, result,
	// lookups). Default: none, quiet.
	Logger *slog.Logger
	// ParseCache is the number of parsed records kept, by their text, so
	// that a record met again is not parsed again (records are immutable
	// text; DNS freshness is the resolver's business). Records over 4 KiB
	// are parsed every time. Zero means DefaultParseCache; -1 disables the
	// cache.
	ParseCache int
}

// DefaultParseCache is the default of Config.ParseCache.
const DefaultParseCache = 1024

// A Checker evaluates SPF. Create one with [New]; the zero value is not
// usable. A Checker is safe for concurrent use: each check keeps its state
// apart.
type Checker struct {
	res                    Resolver
	lookupLimit, voidLimit int
	mxLimit, ptrLimit      int
	defaultExp, receiver   string
	clock                  Clock
	parsed                 *parseCache // nil: disabled
	tel                    *telemetry  // nil: none
}

// New validates cfg and returns a Checker.
func New(cfg Config) (*Checker, error) {
	c := &Checker{
		res:         cfg.Resolver,
		lookupLimit: cfg.LookupLimit,
		voidLimit:   cfg.VoidLimit,
		mxLimit:     cfg.MXLimit,
		ptrLimit:    cfg.PTRLimit,
		defaultExp:  cfg.DefaultExplanation,
		receiver:    cfg.Receiver,
		clock:       cfg.Clock,
	}
	for _, f := range []struct {
		name string
		v    *int
		def  int
	}{
		{"LookupLimit", &c.lookupLimit, DefaultLookupLimit},
		{"VoidLimit", &c.voidLimit, DefaultVoidLimit},
		{"MXLimit", &c.mxLimit, DefaultMXLimit},
		{"PTRLimit", &c.ptrLimit, DefaultPTRLimit},
	} {
		switch {
		case *f.v < 0:
			return nil, fmt.Errorf("spf: Config.%s %d is negative", f.name, *f.v)
		case *f.v == 0:
			*f.v = f.def
		}
	}
	if c.defaultExp == "" {
		c.defaultExp = DefaultExplanation
	} else if msg := checkMacroString(c.defaultExp, true); msg != "" {
		return nil, fmt.Errorf("spf: Config.DefaultExplanation %q: %s", c.defaultExp, msg)
	}
	if c.receiver == "" {
		c.receiver = DefaultReceiver
	}
	switch {
	case cfg.ParseCache < -1:
		return nil, fmt.Errorf("spf: Config.ParseCache %d is below -1", cfg.ParseCache)
	case cfg.ParseCache == 0:
		c.parsed = &parseCache{max: DefaultParseCache}
	case cfg.ParseCache > 0:
		c.parsed = &parseCache{max: int64(cfg.ParseCache)}
	}
	if c.res == nil {
		c.res = &net.Resolver{}
	}
	if c.clock == nil {
		c.clock = ClockFunc(time.Now)
	}
	var err error
	if c.tel, err = newTelemetry(&cfg); err != nil {
		return nil, err
	}
	return c, nil
}

// CheckMailFrom checks the MAIL FROM identity (RFC 7208 section 2.4): the
// domain of mailFrom, or, for an empty reverse-path, the HELO identity as
// "postmaster@helo". A mailFrom without local-part gets "postmaster".
func (c *Checker) CheckMailFrom(ctx context.Context, ip netip.Addr, mailFrom, helo string) (Result, *Explanation) {
	mailFrom = strings.TrimSuffix(strings.TrimPrefix(mailFrom, "<"), ">")
	if mailFrom == "" {
		return c.CheckHELO(ctx, ip, helo)
	}
	domain := mailFrom
	if at := strings.LastIndexByte(mailFrom, '@'); at >= 0 {
		domain = mailFrom[at+1:]
		if at == 0 {
			mailFrom = "postmaster" + mailFrom
		}
	} else {
		mailFrom = "postmaster@" + mailFrom
	}
	return c.CheckHost(ctx, ip, domain, mailFrom, helo)
}

// CheckHELO checks the HELO identity (RFC 7208 section 2.3), with
// "postmaster@helo" as sender.
func (c *Checker) CheckHELO(ctx context.Context, ip netip.Addr, helo string) (Result, *Explanation) {
	return c.CheckHost(ctx, ip, helo, "postmaster@"+helo, helo)
}

// CheckHost is check_host() of RFC 7208 section 4: may ip send mail for
// domain, for sender (local-part@domain, giving the %{s}, %{l} and %{o}
// macros) introduced with helo (%{h})? An IPv4-mapped IPv6 address is
// checked as the IPv4 address it maps. The Explanation beside the result
// is never nil.
func (c *Checker) CheckHost(ctx context.Context, ip netip.Addr, domain, sender, helo string) (Result, *Explanation) {
	ctx, span := c.tel.start(ctx, domain)
	r, x := c.checkHost(ctx, ip, domain, sender, helo)
	c.tel.checked(ctx, span, x)
	return r, x
}

// checkHost is CheckHost without telemetry.
func (c *Checker) checkHost(ctx context.Context, ip netip.Addr, domain, sender, helo string) (Result, *Explanation) {
	e := &evaluation{
		Explanation: Explanation{Domain: domain, IP: ip.Unmap(), Sender: sender},
		c:           c,
		ctx:         ctx,
		helo:        helo,
	}
	e.ip = e.IP
	e.local, e.senderDomain = splitSender(sender, domain)
	e.root.Domain = domain
	e.root.Steps = e.rootSteps[:0:len(e.rootSteps)]
	e.Tree = &e.root
	if !validDomain(domain) {
		e.Tree.Result = None
		e.Tree.Note = "not a valid multi-label domain name"
		e.Result = None
		return None, &e.Explanation
	}
	r, err := e.checkHost(domain, e.Tree)
	e.Result = r
	if err != nil {
		e.Err, e.Match = err, nil
	}
	if r == Fail {
		e.Exp = e.explain()
	}
	return r, &e.Explanation
}

// splitSender returns the local-part and domain of sender, "postmaster" and
// domain when it has none.
func splitSender(sender, domain string) (string, string) {
	at := strings.LastIndexByte(sender, '@')
	if at < 0 {
		return "postmaster", domain
	}
	local := sender[:at]
	if local == "" {
		local = "postmaster"
	}
	return local, sender[at+1:]
}

// validDomain reports whether d is a multi-label domain name whose labels
// are 1 to 63 octets, at most 253 octets in all, ending in a top label as
// RFC 7208 section 7.1 writes it (not all digits: an address such as
// "192.0.2.1" or a literal such as "[192.0.2.1]" is no domain), as section
// 4.3 requires of the domain checked.
func validDomain(d string) bool {
	d = strings.TrimSuffix(d, ".")
	dot := strings.LastIndexByte(d, '.')
	return dot >= 0 && validTopLabel(d[dot+1:]) && domainname.CheckLength(d) == nil
}

// evaluation is the state of one check_host() call and its recursion.
type evaluation struct {
	Explanation
	c            *Checker
	ctx          context.Context
	ip           netip.Addr
	helo         string
	local        string
	senderDomain string
	root         Node     // Explanation.Tree points here
	rootSteps    [1]Step  // the first step of root, without an allocation
	match        Match    // Explanation.Match points here
	curDomain    string   // %{d}
	ptrNames     []string // the validated names of %{p}, looked up once
	failDomain   string   // the record whose mechanism gave the last fail
	failExp      string   // its exp= domain-spec; empty if none
	// Small fields last, together: the whole is one allocation per check.
	term       int32 // the term being evaluated: 0 none, -1 the explanation
	terms      int32 // terms evaluated so far, numbering them
	voidTerm   int32 // the last term counted as void
	ptrDone    bool
	hasFailExp bool
}

// checkHost evaluates the record of domain into node.
func (e *evaluation) checkHost(domain string, node *Node) (Result, *Error) {
	node.Domain = domain
	r, err := e.evalRecord(domain, node)
	node.Result = r
	return r, err
}

// evalRecord evaluates the SPF record of domain (RFC 7208 section 4.6):
// its mechanisms in order until one matches, then its redirect, else
// neutral.
func (e *evaluation) evalRecord(domain string, node *Node) (Result, *Error) {
	txt, r, err := e.lookupRecord(domain, node)
	if txt == "" {
		return r, err
	}
	node.Record = txt
	rec, perr := e.c.parsed.parse(txt)
	if perr != nil {
		return PermError, &Error{Result: PermError, Domain: domain, Term: firstBadTerm(perr), Err: perr}
	}
	for i := range rec.Terms {
		t := &rec.Terms[i]
		if t.Modifier != "" {
			continue
		}
		matched, err := e.evalTerm(domain, txt, t, node)
		if err != nil {
			return err.Result, err
		}
		if matched {
			return e.matched(domain, rec, t), nil
		}
	}
	if red, ok := rec.Modifier(Redirect); ok {
		return e.redirect(domain, txt, &red, node)
	}
	return Neutral, nil
}

// lookupRecord returns the one SPF record among the TXT records of domain
// (RFC 7208 section 4.5). Without one it returns "" and the result that
// ends the check: none when there is no record (a void lookup when an
// include or redirect led here), temperror on a DNS failure, permerror for
// several records.
func (e *evaluation) lookupRecord(domain string, node *Node) (string, Result, *Error) {
	txts, err := e.c.res.LookupTXT(e.ctx, domain)
	if err != nil {
		if !isNotFound(err) {
			return "", TempError, &Error{Result: TempError, Domain: domain, Err: fmt.Errorf("%w: %w", ErrDNS, err)}
		}
		node.Note = "no SPF record"
		if verr := e.void(); verr != nil {
			verr.Domain = domain
			return "", PermError, verr
		}
		return "", None, nil
	}
	var txt string
	n := 0
	for _, t := range txts {
		if IsRecord(t) {
			txt = t
			n++
		}
	}
	switch n {
	case 0:
		node.Note = "no SPF record"
		return "", None, nil
	case 1:
		return txt, "", nil
	}
	return "", PermError, &Error{Result: PermError, Domain: domain, Err: ErrMultipleRecords}
}

// firstBadTerm returns the first term a parse error names, or "".
func firstBadTerm(err error) string {
	var pe *ParseError
	if errors.As(err, &pe) {
		return pe.Errs[0].Term
	}
	return ""
}

// evalTerm evaluates the mechanism t of domain's record txt and records
// it as a step of node when it matched, cost lookups or failed.
func (e *evaluation) evalTerm(domain, txt string, t *Term, node *Node) (bool, *Error) {
	e.nextTerm()
	voidBefore := e.VoidLookups
	step := Step{Term: *t}
	matched, err := e.mechanism(domain, t, &step)
	if t.Mechanism != Include {
		step.Void = e.VoidLookups - voidBefore
	}
	step.Matched = matched
	if err != nil {
		if err.Domain == "" {
			err.Domain, err.Term = domain, termText(txt, t)
		}
		node.Steps = append(node.Steps, step)
		return false, err
	}
	if matched || step.Lookups > 0 || step.Void > 0 {
		node.Steps = append(node.Steps, step)
	}
	return matched, nil
}

// matched notes that the mechanism t of domain's record rec matched and
// returns its qualifier's result; for a fail, it keeps the record's exp=
// for the explanation.
func (e *evaluation) matched(domain string, rec *Record, t *Term) Result {
	r := t.Qualifier.Result()
	e.match = Match{Domain: domain, Term: *t}
	e.Match = &e.match
	if r == Fail {
		e.failDomain = domain
		exp, ok := rec.Modifier(Exp)
		e.failExp, e.hasFailExp = exp.Value, ok
	}
	return r
}

// redirect evaluates the redirect modifier red of domain's record txt
// (RFC 7208 section 6.1): the target's result, permerror when the target
// has no record.
func (e *evaluation) redirect(domain, txt string, red *Term, node *Node) (Result, *Error) {
	e.nextTerm()
	step := Step{Term: *red}
	defer func() { node.Steps = append(node.Steps, step) }()
	if err := e.count(); err != nil {
		step.Total = e.Lookups
		err.Domain, err.Term = domain, termText(txt, red)
		return PermError, err
	}
	step.Lookups, step.Total = 1, e.Lookups
	target, err := e.target(red.Value, domain)
	if err != nil {
		err.Domain, err.Term = domain, termText(txt, red)
		return PermError, err
	}
	step.Child = &Node{}
	if !validDomain(target) {
		step.Child.Domain, step.Child.Result = target, None
		step.Child.Note = "not a valid domain name"
		return PermError, &Error{Result: PermError, Domain: domain, Term: termText(txt, red), Err: ErrNoRecord}
	}
	r, cerr := e.checkHost(target, step.Child)
	if r == None {
		return PermError, &Error{Result: PermError, Domain: domain, Term: termText(txt, red), Err: ErrNoRecord}
	}
	return r, cerr
}

// termText returns the term as written in the record.
func termText(txt string, t *Term) string {
	end := strings.IndexByte(txt[t.Pos:], ' ')
	if end < 0 {
		return txt[t.Pos:]
	}
	return txt[t.Pos : t.Pos+end]
}

// count counts one DNS-querying term against the lookup limit.
func (e *evaluation) count() *Error {
	e.Lookups++
	if e.Lookups > e.c.lookupLimit {
		return &Error{Result: PermError, Err: ErrLookupLimit}
	}
	return nil
}

// nextTerm starts the evaluation of a term of a record.
func (e *evaluation) nextTerm() {
	e.terms++
	e.term = e.terms
}

// void counts a lookup that found nothing against the void limit. RFC 7208
// section 4.6.4 limits the terms whose queries find nothing, so a term counts
// once however many of its queries do (an mx whose hosts have no address of
// the client's family, a ptr whose names do not resolve): an IPv6-only MX
// set must not be a permerror for an IPv4 client. The lookup of the checked
// domain's own record is no term; the explanation's are not limited.
func (e *evaluation) void() *Error {
	if e.term <= 0 || e.voidTerm == e.term {
		return nil
	}
	e.voidTerm = e.term
	e.VoidLookups++
	if e.VoidLookups > e.c.voidLimit {
		return &Error{Result: PermError, Err: ErrVoidLimit}
	}
	return nil
}

// target expands a domain-spec into a target name (RFC 7208 section 4.8),
// the current domain when spec is empty.
func (e *evaluation) target(spec, domain string) (string, *Error) {
	if spec == "" {
		return domain, nil
	}
	e.curDomain = domain
	name, err := expand(spec, e, false)
	if err != nil {
		var de *Error
		if errors.As(err, &de) {
			return "", de
		}
		return "", &Error{Result: PermError, Err: err}
	}
	name = strings.TrimSuffix(name, ".")
	// Over 253 octets: drop labels from the left until it fits.
	for len(name) > 253 {
		i := strings.IndexByte(name, '.')
		if i < 0 {
			break
		}
		name = name[i+1:]
	}
	return name, nil
}

// dnsError classifies a failed lookup: void (nil error, counted) or
// temperror.
func (e *evaluation) dnsError(err error) *Error {
	if isNotFound(err) {
		return e.void()
	}
	return &Error{Result: TempError, Err: fmt.Errorf("%w: %w", ErrDNS, err)}
}

func isNotFound(err error) bool {
	var de *net.DNSError
	return errors.As(err, &de) && de.IsNotFound
}

func (e *evaluation) network() string {
	if e.ip.Is4() {
		return "ip4"
	}
	return "ip6"
}

// mechanism evaluates one mechanism; it reports whether it matched.
func (e *evaluation) mechanism(domain string, t *Term, step *Step) (bool, *Error) {
	switch t.Mechanism {
	case All:
		return true, nil
	case IP4, IP6:
		return t.Prefix.Contains(e.ip), nil
	}
	err := e.count()
	step.Lookups, step.Total = 1, e.Lookups
	if err != nil {
		return false, err
	}
	target, err := e.target(t.Value, domain)
	if err != nil {
		return false, err
	}
	switch t.Mechanism {
	case Include:
		return e.matchInclude(target, step)
	case A:
		if domainname.CheckLength(target) != nil {
			return false, e.void()
		}
		return e.matchAddrs(target, t)
	case MX:
		return e.matchMX(target, t)
	case PTR:
		return e.matchPTR(target)
	case Exists:
		return e.matchExists(target)
	}
	return false, &Error{Result: PermError, Err: fmt.Errorf("%w: unknown mechanism %q", ErrSyntax, t.Mechanism)}
}

// matchInclude evaluates include:target (RFC 7208 section 5.2) into
// step.Child: it matches when the target's record gives pass.
func (e *evaluation) matchInclude(target string, step *Step) (bool, *Error) {
	step.Child = &Node{}
	// check_host() of a name that is not a multi-label domain is none
	// (RFC 7208 section 4.3), which an include makes permerror.
	if !validDomain(target) {
		step.Child.Domain, step.Child.Result = target, None
		step.Child.Note = "not a valid domain name"
		return false, &Error{Result: PermError, Err: ErrNoRecord}
	}
	r, err := e.checkHost(target, step.Child)
	// A match inside the include decides nothing outside it. (No match can
	// precede an include: a match ends its record.)
	e.Match = nil
	switch r {
	case Pass:
		return true, nil
	case Fail, SoftFail, Neutral:
		return false, nil
	case None:
		return false, &Error{Result: PermError, Err: ErrNoRecord}
	}
	return false, err // the innermost error says where it happened
}

// matchMX evaluates mx:target (RFC 7208 section 5.4): it matches when an
// address of one of the target's mail exchangers does.
func (e *evaluation) matchMX(target string, t *Term) (bool, *Error) {
	if domainname.CheckLength(target) != nil {
		return false, e.void()
	}
	mxs, err := e.c.res.LookupMX(e.ctx, target)
	if err != nil {
		return false, e.dnsError(err)
	}
	if len(mxs) > e.c.mxLimit {
		return false, &Error{Result: PermError, Err: ErrMXLimit}
	}
	for _, mx := range mxs {
		host := strings.TrimSuffix(mx.Host, ".")
		if host == "" {
			continue // null MX (RFC 7505)
		}
		if ok, err := e.matchAddrs(host, t); ok || err != nil {
			return ok, err
		}
	}
	return false, nil
}

// matchPTR evaluates ptr:target (RFC 7208 section 5.5): it matches when a
// validated name of the client is target or a subdomain of it. A DNS
// error is no match.
func (e *evaluation) matchPTR(target string) (bool, *Error) {
	if domainname.CheckLength(target) != nil {
		return false, nil
	}
	names, err := e.c.res.LookupAddr(e.ctx, e.ip.String())
	if err != nil {
		if isNotFound(err) {
			return false, e.void()
		}
		return false, nil
	}
	valid, verr := e.validated(names)
	if verr != nil {
		return false, verr
	}
	for _, n := range valid {
		if hasSuffixFold(n, target) {
			return true, nil
		}
	}
	return false, nil
}

// matchExists evaluates exists:target (RFC 7208 section 5.7): it matches
// when target has an A record, whatever the client's family.
func (e *evaluation) matchExists(target string) (bool, *Error) {
	if domainname.CheckLength(target) != nil {
		return false, e.void()
	}
	addrs, err := e.c.res.LookupNetIP(e.ctx, "ip4", target)
	if err != nil {
		return false, e.dnsError(err)
	}
	return len(addrs) > 0, nil
}

// matchAddrs tells whether the A or AAAA records of host (for a, or one
// host of mx), within the CIDR lengths of t, contain the client's address.
// Finding none is a void lookup, counted once for the term however many of
// its queries find nothing (see void).
func (e *evaluation) matchAddrs(host string, t *Term) (bool, *Error) {
	addrs, err := e.c.res.LookupNetIP(e.ctx, e.network(), host)
	if err != nil {
		return false, e.dnsError(err)
	}
	bits := t.Len4
	if e.ip.Is6() {
		bits = t.Len6
	}
	for _, a := range addrs {
		a = a.Unmap()
		if a.Is4() != e.ip.Is4() {
			continue
		}
		if bits < 0 {
			if a == e.ip {
				return true, nil
			}
			continue
		}
		p, err := a.Prefix(bits)
		if err == nil && p.Contains(e.ip) {
			return true, nil
		}
	}
	return false, nil
}

// validated returns the names among the first PTRLimit of names whose
// addresses include the client's (RFC 7208 section 5.5), without trailing
// dots. DNS errors skip a name; finding no address is a void lookup.
func (e *evaluation) validated(names []string) ([]string, *Error) {
	if len(names) > e.c.ptrLimit {
		names = names[:e.c.ptrLimit]
	}
	var out []string
	for _, n := range names {
		n = strings.TrimSuffix(n, ".")
		addrs, err := e.c.res.LookupNetIP(e.ctx, e.network(), n)
		if err != nil {
			if isNotFound(err) {
				if verr := e.void(); verr != nil {
					return nil, verr
				}
			}
			continue
		}
		for _, a := range addrs {
			if a.Unmap() == e.ip {
				out = append(out, n)
				break
			}
		}
	}
	return out, nil
}

// hasSuffixFold reports whether name is domain or a subdomain of it, ignoring
// case.
func hasSuffixFold(name, domain string) bool {
	domain = strings.TrimSuffix(domain, ".")
	if len(name) < len(domain) || !strings.EqualFold(name[len(name)-len(domain):], domain) {
		return false
	}
	return len(name) == len(domain) || name[len(name)-len(domain)-1] == '.'
}

// macroValue gives the macro letters their values (RFC 7208 section 7.2).
func (e *evaluation) macroValue(letter byte) (string, error) {
	switch letter {
	case 's':
		return e.local + "@" + e.senderDomain, nil
	case 'l':
		return e.local, nil
	case 'o':
		return e.senderDomain, nil
	case 'd':
		return e.curDomain, nil
	case 'i':
		return dotted(e.ip), nil
	case 'p':
		return e.validatedName()
	case 'v':
		if e.ip.Is4() {
			return "in-addr", nil
		}
		return "ip6", nil
	case 'h':
		return e.helo, nil
	case 'c':
		return e.ip.String(), nil
	case 'r':
		return e.c.receiver, nil
	case 't':
		return fmt.Sprint(e.c.clock.Now().Unix()), nil
	}
	return "", fmt.Errorf("%w: macro letter %q", ErrSyntax, letter)
}

// dotted returns ip as %{i} writes it: dotted quad, or 32 dotted nibbles
// (upper-case hex digits, as the RFC 7208 suite expects; DNS ignores case).
func dotted(ip netip.Addr) string {
	if ip.Is4() {
		return ip.String()
	}
	const hex = "0123456789ABCDEF"
	b := ip.As16()
	out := make([]byte, 0, 63)
	for i, x := range b {
		if i > 0 {
			out = append(out, '.')
		}
		out = append(out, hex[x>>4], '.', hex[x&15])
	}
	return string(out)
}

// validatedName is %{p} (RFC 7208 section 7.3): a validated name of the
// client, preferring the current domain, then one of its subdomains, then
// any; "unknown" if none or if the PTR lookup fails. The names are looked
// up once per check; the choice among them follows the current domain.
func (e *evaluation) validatedName() (string, error) {
	if !e.ptrDone {
		e.ptrDone = true
		names, err := e.c.res.LookupAddr(e.ctx, e.ip.String())
		if err == nil {
			valid, verr := e.validated(names)
			if verr != nil {
				return "", verr
			}
			e.ptrNames = valid
		}
	}
	if len(e.ptrNames) == 0 {
		return "unknown", nil
	}
	for _, n := range e.ptrNames {
		if strings.EqualFold(n, e.curDomain) {
			return n, nil
		}
	}
	for _, n := range e.ptrNames {
		if hasSuffixFold(n, e.curDomain) {
			return n, nil
		}
	}
	return e.ptrNames[0], nil
}

// explain computes the explanation of a fail (RFC 7208 section 6.2): the
// exp= of the record that failed, or the default.
func (e *evaluation) explain() string {
	e.term = -1
	if e.hasFailExp {
		if s, ok := e.expText(); ok {
			return s
		}
	}
	e.curDomain = e.failDomain
	s, err := expand(e.c.defaultExp, e, true)
	if err != nil {
		return e.c.defaultExp
	}
	return s
}

func (e *evaluation) expText() (string, bool) {
	e.curDomain = e.failDomain
	name, err := e.target(e.failExp, e.failDomain)
	if err != nil || !validDomain(name) {
		return "", false
	}
	txts, lerr := e.c.res.LookupTXT(e.ctx, name)
	if lerr != nil || len(txts) != 1 {
		return "", false
	}
	for i := 0; i < len(txts[0]); i++ {
		if c := txts[0][i]; c < 0x20 || c > 0x7e {
			return "", false
		}
	}
	e.curDomain = e.failDomain
	s, xerr := expand(txts[0], e, true)
	if xerr != nil {
		return "", false
	}
	return s, true
}
