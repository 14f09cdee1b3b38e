package spf

import (
	"net/netip"
	"strconv"
	"strings"
)

// A Mechanism names a mechanism of RFC 7208 section 5. The zero value ""
// is no mechanism: the Mechanism of a modifier [Term].
type Mechanism string

// Mechanisms.
const (
	All     Mechanism = "all"
	Include Mechanism = "include"
	A       Mechanism = "a"
	MX      Mechanism = "mx"
	PTR     Mechanism = "ptr"
	IP4     Mechanism = "ip4"
	IP6     Mechanism = "ip6"
	Exists  Mechanism = "exists"
)

// Modifier names of RFC 7208 section 6.
const (
	Redirect = "redirect"
	Exp      = "exp"
)

const msgNotSPF = `record does not begin with "v=spf1"`

// A Term is one mechanism or modifier of a record. Exactly one of Mechanism
// and Modifier is set. The zero value is not a valid term; build terms with
// [Parse] or the constructors ([IPTerm], [IncludeTerm]). A Term is a plain
// value, copied freely.
type Term struct {
	// Pos is the byte offset of the term in the record it was parsed from.
	Pos int
	// Qualifier of a mechanism; QualifierNone (written as nothing) means
	// "+".
	Qualifier Qualifier
	// Mechanism, for a mechanism.
	Mechanism Mechanism
	// Modifier is the lower-case name of a modifier ("redirect", "exp", or
	// an unknown one, which is kept and ignored).
	Modifier string
	// Value is the argument, without CIDR lengths: the domain-spec of
	// include, a, mx, ptr, exists, redirect and exp (macros unexpanded,
	// empty when an a, mx or ptr has none), the address of ip4 and ip6,
	// the macro-string of an unknown modifier.
	Value string
	// Prefix is the network of ip4 and ip6, its length the CIDR length
	// (32 or 128 when none is written).
	Prefix netip.Prefix
	// Len4 and Len6 are the CIDR lengths written after a, mx, ip4 (Len4)
	// or ip6 (Len6); -1 when none is written.
	Len4, Len6 int
}

// IPTerm returns an ip4 or ip6 mechanism for p (with a "+" qualifier written
// as nothing); an IPv4-mapped address is written as ip4.
func IPTerm(p netip.Prefix) Term {
	a, bits := p.Addr(), p.Bits()
	if a.Is4In6() {
		a, bits = a.Unmap(), max(bits-96, 0)
	}
	t := Term{Mechanism: IP4, Value: a.String(), Len4: -1, Len6: -1}
	full := 32
	if a.Is6() {
		t.Mechanism, full = IP6, 128
	}
	if bits >= 0 && bits < full {
		if t.Mechanism == IP4 {
			t.Len4 = bits
		} else {
			t.Len6 = bits
		}
	} else {
		bits = full
	}
	t.Prefix = netip.PrefixFrom(a, bits)
	return t
}

// IncludeTerm returns an include mechanism for domain.
func IncludeTerm(domain string) Term {
	return Term{Mechanism: Include, Value: domain, Len4: -1, Len6: -1}
}

// IsModifier reports whether t is a modifier.
func (t Term) IsModifier() bool { return t.Modifier != "" }

// Lookups returns the number of DNS lookups evaluating t counts against the
// limit of RFC 7208 section 4.6.4 (1 for include, a, mx, ptr, exists and
// redirect, 0 otherwise).
func (t Term) Lookups() int {
	switch {
	case t.Modifier == Redirect:
		return 1
	case t.Modifier != "":
		return 0
	}
	switch t.Mechanism {
	case Include, A, MX, PTR, Exists:
		return 1
	}
	return 0
}

// String returns the term as it is written in a record.
func (t Term) String() string {
	var sb strings.Builder
	t.appendTo(&sb)
	return sb.String()
}

func (t Term) appendTo(sb *strings.Builder) {
	if t.Modifier != "" {
		sb.WriteString(t.Modifier)
		sb.WriteByte('=')
		sb.WriteString(t.Value)
		return
	}
	sb.WriteString(string(t.Qualifier))
	sb.WriteString(string(t.Mechanism))
	if t.Value != "" {
		sb.WriteByte(':')
		sb.WriteString(t.Value)
	}
	if t.Len4 >= 0 {
		sb.WriteByte('/')
		sb.WriteString(strconv.Itoa(t.Len4))
	}
	if t.Len6 >= 0 {
		if t.Mechanism != IP6 {
			sb.WriteByte('/')
		}
		sb.WriteByte('/')
		sb.WriteString(strconv.Itoa(t.Len6))
	}
}

// A Record is a parsed SPF record: its terms in order. The zero value is
// the empty record "v=spf1". A Record is plain data; its methods only read
// it, so it may be shared once built.
type Record struct {
	// Terms are the mechanisms and modifiers, in the order written.
	Terms []Term
}

// String returns the record as it is published: "v=spf1" and its terms,
// separated by single spaces.
func (r *Record) String() string {
	var sb strings.Builder
	sb.WriteString("v=spf1")
	for _, t := range r.Terms {
		sb.WriteByte(' ')
		t.appendTo(&sb)
	}
	return sb.String()
}

// Lookups returns the number of DNS lookups the record's own terms count
// against the limit when all are evaluated (includes and redirects count
// 1 each here; the records they lead to count on their own).
func (r *Record) Lookups() int {
	n := 0
	for _, t := range r.Terms {
		n += t.Lookups()
	}
	return n
}

// Modifier returns the first modifier named name (lower case), if any.
func (r *Record) Modifier(name string) (Term, bool) {
	for _, t := range r.Terms {
		if t.Modifier == name {
			return t, true
		}
	}
	return Term{}, false
}

// IsRecord reports whether txt is an SPF version 1 record: it begins with
// "v=spf1" (any case) followed by a space or nothing (RFC 7208 section 4.5).
func IsRecord(txt string) bool {
	return len(txt) >= 6 && strings.EqualFold(txt[:6], "v=spf1") && (len(txt) == 6 || txt[6] == ' ')
}

// Parse parses an SPF record (RFC 7208 sections 4.5, 4.6 and 12). Terms
// are separated by spaces only. On error it returns a *[ParseError] listing
// every syntax error with its position, and the record of the terms that
// were valid, which must not be evaluated but helps to show or repair it.
func Parse(txt string) (*Record, error) {
	r, err := parse(txt)
	if r.Terms == nil && err != nil {
		return nil, err
	}
	return &r, err
}

// parse is Parse returning the Record by value: a check parses every record
// it meets, and this saves an allocation each time.
func parse(txt string) (Record, error) {
	if !IsRecord(txt) {
		end := strings.IndexByte(txt, ' ')
		if end < 0 {
			end = len(txt)
		}
		return Record{}, &ParseError{Record: txt, Errs: []*SyntaxError{{Pos: 0, Term: txt[:end], Msg: msgNotSPF}}}
	}
	// One allocation for all the terms, sized by counting them: not by
	// counting spaces, which would let a 64 KiB record of spaces cost
	// megabytes of empty terms.
	r := Record{Terms: make([]Term, 0, countTerms(txt[6:]))}
	var errs []*SyntaxError
	seen := 0 // bit 1: redirect seen, bit 2: exp seen
	for i := 6; i < len(txt); {
		if txt[i] == ' ' {
			i++
			continue
		}
		end := strings.IndexByte(txt[i:], ' ')
		if end < 0 {
			end = len(txt)
		} else {
			end += i
		}
		t, msg := parseTerm(txt[i:end])
		t.Pos = i
		if msg == "" && t.Modifier != "" {
			bit := 0
			switch t.Modifier {
			case Redirect:
				bit = 1
			case Exp:
				bit = 2
			}
			if seen&bit != 0 {
				msg = "duplicate " + t.Modifier + " modifier"
			}
			seen |= bit
		}
		if msg != "" {
			errs = append(errs, &SyntaxError{Pos: i, Term: txt[i:end], Msg: msg})
		} else {
			r.Terms = append(r.Terms, t)
		}
		i = end
	}
	if errs != nil {
		return r, &ParseError{Record: txt, Errs: errs}
	}
	return r, nil
}

// countTerms returns the number of space-separated fields of s.
func countTerms(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] != ' ' && (i == 0 || s[i-1] == ' ') {
			n++
		}
	}
	return n
}

// parseTerm parses one term; a non-empty msg says what is wrong with it.
func parseTerm(s string) (t Term, msg string) {
	t.Len4, t.Len6 = -1, -1
	name := s
	sep := -1
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == ':' || c == '/' || c == '=' {
			sep, name = i, s[:i]
			break
		}
	}
	if sep >= 0 && s[sep] == '=' {
		if !validModifierName(name) {
			return t, "invalid modifier name"
		}
		t.Modifier = strings.ToLower(name)
		t.Value = s[sep+1:]
		switch t.Modifier {
		case Redirect, Exp:
			if msg := checkDomainSpec(t.Value); msg != "" {
				return t, msg
			}
		default:
			if msg := checkMacroString(t.Value, false); msg != "" {
				return t, msg
			}
		}
		return t, ""
	}
	if name != "" {
		switch name[0] {
		case '+', '-', '~', '?':
			t.Qualifier = Qualifier(name[:1])
			name = name[1:]
		}
	}
	rest := ""
	if sep >= 0 {
		rest = s[sep:]
	}
	switch t.Mechanism = mechanismNamed(name); t.Mechanism {
	case All:
		if rest != "" {
			return t, "all takes no argument"
		}
	case Include, Exists:
		if rest == "" || rest[0] != ':' {
			return t, string(t.Mechanism) + " needs a domain-spec"
		}
		t.Value = rest[1:]
		if msg := checkDomainSpec(t.Value); msg != "" {
			return t, msg
		}
	case A, MX, PTR:
		if t.Mechanism != PTR {
			var msg string
			if rest, msg = t.dualCIDR(rest); msg != "" {
				return t, msg
			}
		}
		if rest != "" {
			if rest[0] != ':' {
				return t, "unexpected " + strconv.Quote(rest)
			}
			t.Value = rest[1:]
			if msg := checkDomainSpec(t.Value); msg != "" {
				return t, msg
			}
		}
	case IP4, IP6:
		if rest == "" || rest[0] != ':' {
			return t, string(t.Mechanism) + " needs an address"
		}
		return t, t.network(rest[1:])
	default:
		if name == "" {
			return t, "missing mechanism"
		}
		return t, "unknown mechanism " + strconv.Quote(name)
	}
	return t, ""
}

// mechanismNamed returns the mechanism called name in any case, or "".
func mechanismNamed(name string) Mechanism {
	var m Mechanism
	switch len(name) {
	case 1:
		m = A
	case 2:
		m = MX
	case 3:
		switch name[0] | 0x20 {
		case 'a':
			m = All
		case 'p':
			m = PTR
		case 'i':
			m = IP4
			if name[2] == '6' {
				m = IP6
			}
		}
	case 6:
		m = Exists
	case 7:
		m = Include
	}
	if m == "" || !strings.EqualFold(name, string(m)) {
		return ""
	}
	return m
}

// network parses the address and CIDR length of ip4 and ip6.
func (t *Term) network(s string) string {
	v4 := t.Mechanism == IP4
	full, bits := 128, -1
	if v4 {
		full = 32
	}
	if i := strings.IndexByte(s, '/'); i >= 0 {
		n, ok := cidrLen(s[i+1:], full)
		if !ok {
			return "invalid CIDR length " + quote(s[i:])
		}
		bits, s = n, s[:i]
	}
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" || a.Is4() != v4 {
		return "invalid " + string(t.Mechanism) + " address " + quote(s)
	}
	t.Value = s
	if v4 {
		t.Len4 = bits
	} else {
		t.Len6 = bits
	}
	if bits < 0 {
		bits = full
	}
	t.Prefix = netip.PrefixFrom(a, bits)
	return ""
}

// dualCIDR takes the dual-cidr-length from the end of rest (the part of an
// a or mx term after its name) and returns what precedes it.
func (t *Term) dualCIDR(rest string) (string, string) {
	if i := strings.LastIndex(rest, "//"); i >= 0 && allDigits(rest[i+2:]) {
		n, ok := cidrLen(rest[i+2:], 128)
		if !ok {
			return rest, "invalid IPv6 CIDR length " + strconv.Quote(rest[i+1:])
		}
		t.Len6, rest = n, rest[:i]
	}
	if i := strings.LastIndexByte(rest, '/'); i >= 0 && allDigits(rest[i+1:]) {
		n, ok := cidrLen(rest[i+1:], 32)
		if !ok {
			return rest, "invalid IPv4 CIDR length " + strconv.Quote(rest[i:])
		}
		t.Len4, rest = n, rest[:i]
	}
	if rest != "" && rest[0] == '/' {
		return rest, "invalid CIDR length " + strconv.Quote(rest)
	}
	return rest, ""
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// cidrLen parses a CIDR length: digits without a leading zero, at most max.
func cidrLen(s string, max int) (int, bool) {
	if !allDigits(s) || len(s) > 3 || (len(s) > 1 && s[0] == '0') {
		return 0, false
	}
	n, _ := strconv.Atoi(s)
	return n, n <= max
}

// validModifierName: name = ALPHA *( ALPHA / DIGIT / "-" / "_" / "." ).
func validModifierName(s string) bool {
	if s == "" || !isAlpha(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !isAlpha(c) && !isDigit(c) && c != '-' && c != '_' && c != '.' {
			return false
		}
	}
	return true
}

func isAlpha(c byte) bool { return ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') }
func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// checkDomainSpec validates domain-spec = macro-string domain-end, where
// domain-end = ( "." toplabel [ "." ] ) / macro-expand.
func checkDomainSpec(s string) string {
	if s == "" {
		return "empty domain-spec"
	}
	if msg := checkMacroString(s, false); msg != "" {
		return msg
	}
	if endsWithMacro(s) {
		return ""
	}
	d := strings.TrimSuffix(s, ".")
	i := strings.LastIndexByte(d, '.')
	if i < 0 {
		return "domain-spec " + quote(s) + " is a single label"
	}
	if !validTopLabel(d[i+1:]) {
		return "invalid top label " + strconv.Quote(d[i+1:])
	}
	return ""
}

// validTopLabel: toplabel = ( *alphanum ALPHA *alphanum ) /
// ( 1*alphanum "-" *( alphanum / "-" ) alphanum ).
func validTopLabel(s string) bool {
	if s == "" {
		return false
	}
	alpha, dash := false, false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case isAlpha(c):
			alpha = true
		case isDigit(c):
		case c == '-':
			dash = true
		default:
			return false
		}
	}
	if s[0] == '-' || s[len(s)-1] == '-' {
		return false
	}
	return alpha || dash
}
