package mailauthtest

import (
	"fmt"
	"net/netip"
	"strings"
)

// Type is the type of a [Record]. The zero value "" is the type of a bare
// timeout entry only.
type Type string

// Record types.
const (
	TypeA     Type = "A"
	TypeAAAA  Type = "AAAA"
	TypeMX    Type = "MX"
	TypeTXT   Type = "TXT"
	TypeSPF   Type = "SPF" // RFC 4408 type 99, also served as TXT (see Zones)
	TypePTR   Type = "PTR"
	TypeCNAME Type = "CNAME"
)

// DefaultTTL is the TTL of a Record whose TTL is zero.
const DefaultTTL = 300

// A Record is one entry of a name in [Zones]. Build records with the
// constructors ([A], [TXT], [MX], [Timeout], ...) rather than by hand; the
// zero value is an entry that answers no query.
type Record struct {
	// Type of the record; empty only in a bare timeout entry.
	Type Type
	// Text holds the strings of a TXT or SPF record; a resolver joins them.
	Text []string
	// Addr is the address of an A or AAAA record.
	Addr netip.Addr
	// Host is the target of an MX, PTR or CNAME record.
	Host string
	// Pref is the preference of an MX record.
	Pref uint16
	// TTL in seconds; zero means DefaultTTL.
	TTL uint32
	// Timeout makes queries of Type at this name go unanswered; with an
	// empty Type, queries of every type that no earlier entry of the name
	// answers.
	Timeout bool
	// None declares that the name has no record of Type; a None TXT entry
	// stops SPF records from being served as TXT.
	None bool
}

// Zones maps a domain name (any case, trailing dot optional) to its
// records, in order. A nil Zones serves nothing: every name is NXDOMAIN.
// NewServer and NewResolver copy it; later changes go through Set.
type Zones map[string][]Record

// A returns an A record; it panics if addr is not an IPv4 address.
func A(addr string) Record { return Record{Type: TypeA, Addr: mustAddr(addr, true)} }

// AAAA returns an AAAA record; it panics if addr is not an IPv6 address.
func AAAA(addr string) Record { return Record{Type: TypeAAAA, Addr: mustAddr(addr, false)} }

// MX returns an MX record.
func MX(pref uint16, host string) Record { return Record{Type: TypeMX, Pref: pref, Host: host} }

// TXT returns one TXT record made of the given strings (none, one or
// several; a resolver joins them without separator).
func TXT(text ...string) Record { return Record{Type: TypeTXT, Text: text} }

// SPF returns one SPF (type 99) record, also served as TXT unless the name
// has TXT entries of its own.
func SPF(text ...string) Record { return Record{Type: TypeSPF, Text: text} }

// PTR returns a PTR record.
func PTR(host string) Record { return Record{Type: TypePTR, Host: host} }

// CNAME returns a CNAME record.
func CNAME(host string) Record { return Record{Type: TypeCNAME, Host: host} }

// Timeout returns a bare timeout entry: queries of the name time out unless
// an earlier entry answers their type.
func Timeout() Record { return Record{Timeout: true} }

// TimeoutOf returns an entry that makes queries of type t time out.
func TimeoutOf(t Type) Record { return Record{Type: t, Timeout: true} }

// NoneOf returns an entry saying that the name has no record of type t.
func NoneOf(t Type) Record { return Record{Type: t, None: true} }

// String returns the record in a zone-file-like form.
func (r Record) String() string {
	switch {
	case r.Timeout && r.Type == "":
		return "TIMEOUT"
	case r.Timeout:
		return string(r.Type) + " TIMEOUT"
	case r.None:
		return string(r.Type) + " NONE"
	}
	switch r.Type {
	case TypeA, TypeAAAA:
		return string(r.Type) + " " + r.Addr.String()
	case TypeMX:
		return fmt.Sprintf("MX %d %s", r.Pref, r.Host)
	case TypeTXT, TypeSPF:
		q := make([]string, len(r.Text))
		for i, s := range r.Text {
			q[i] = fmt.Sprintf("%q", s)
		}
		return string(r.Type) + " " + strings.Join(q, " ")
	}
	return string(r.Type) + " " + r.Host
}

func mustAddr(s string, v4 bool) netip.Addr {
	a, err := netip.ParseAddr(s)
	if err != nil || a.Is4() != v4 {
		panic(fmt.Sprintf("mailauthtest: bad address %q", s))
	}
	return a
}

// canon is the key of a name in a zone index.
func canon(name string) string { return strings.ToLower(strings.TrimSuffix(name, ".")) }

// index is Zones keyed by canonical name.
type index map[string][]Record

func newIndex(z Zones) index {
	ix := make(index, len(z))
	for name, recs := range z {
		ix[canon(name)] = append(ix[canon(name)], recs...)
	}
	return ix
}

// rcode of an answer.
type rcode int

const (
	rcodeSuccess rcode = iota
	rcodeNXDomain
	rcodeServFail
	rcodeTimeout
)

// step is one CNAME of a chain: owner (as asked or as found) to target.
type step struct {
	owner, target string
	ttl           uint32
}

// answer is what a recursive resolver would return for (name, t).
type answer struct {
	code    rcode
	chain   []step
	owner   string   // the name that holds recs
	records []Record // of the asked type (SPF entries when TXT is asked)
}

// maxChain bounds CNAME chains; longer is treated as a loop.
const maxChain = 8

// resolve answers a query of type t for name.
func (ix index) resolve(name string, t Type) answer {
	var a answer
	var seen map[string]bool // allocated only when a CNAME is followed
	cur := name
	for {
		key := canon(cur)
		recs, ok := ix[key]
		if !ok {
			a.code = rcodeNXDomain
			return a
		}
		a.owner = cur
		hasTXT := false
		for _, r := range recs {
			if r.Type == TypeTXT {
				hasTXT = true
			}
		}
		var cname *Record
		for i, r := range recs {
			match := r.Type == t || (t == TypeTXT && r.Type == TypeSPF && !hasTXT)
			switch {
			case r.Timeout && r.Type == "" && len(a.records) == 0:
				a.code = rcodeTimeout
				return a
			case r.Timeout && match:
				a.code = rcodeTimeout
				return a
			case r.None || r.Timeout:
			case match:
				a.records = append(a.records, r)
			case r.Type == TypeCNAME && cname == nil:
				cname = &recs[i]
			}
		}
		if len(a.records) > 0 || cname == nil || t == TypeCNAME {
			return a
		}
		if seen == nil {
			seen = make(map[string]bool)
		}
		seen[key] = true
		if seen[canon(cname.Host)] || len(a.chain) >= maxChain {
			a.code = rcodeServFail
			a.records = nil
			return a
		}
		a.chain = append(a.chain, step{owner: cur, target: cname.Host, ttl: ttlOf(*cname)})
		cur = cname.Host
	}
}

func ttlOf(r Record) uint32 {
	if r.TTL == 0 {
		return DefaultTTL
	}
	return r.TTL
}
