package spf

import (
	"fmt"
	"net/netip"
	"strings"
)

// An Explanation says how a check reached its result. It is plain data
// (printed for humans by String, encoded by encoding/json), owned by the
// caller: nothing in it is shared with the Checker or with another check,
// so it may be kept, changed or read from several goroutines like any
// value. The zero value is an empty explanation.
type Explanation struct {
	// Result is the result of the check.
	Result Result
	// Domain, IP and Sender are what was checked (IP unmapped when it was
	// an IPv4-mapped IPv6 address).
	Domain string     // the domain checked
	IP     netip.Addr // the client's address
	Sender string     // the sender, local-part@domain
	// Match is the term that decided the result, nil when none did (no
	// record, an error, or no term matched: neutral by default).
	Match *Match
	// Tree is the evaluation of Domain's record, with the records reached
	// through include and redirect below it.
	Tree *Node
	// Lookups and VoidLookups are the totals counted against the limits.
	Lookups, VoidLookups int
	// Exp is the explanation of a fail: the expanded text of the exp=
	// modifier of the record that failed, or the default explanation.
	Exp string
	// Err says why the result is permerror or temperror: its Domain, its
	// Term as written, and a cause that errors.Is matches against this
	// package's sentinels. Nil for the other results.
	Err *Error
}

// A Match is the term that decided a result and the domain whose record
// holds it. It is plain data, part of an [Explanation].
type Match struct {
	Domain string // the domain whose record holds Term
	Term   Term   // the mechanism that matched
}

// A Node is the evaluation of one domain's record: the domain checked, or
// the target of an include or a redirect. It is plain data, part of an
// [Explanation].
type Node struct {
	// Domain is the domain whose record was evaluated.
	Domain string
	// Record is the SPF record found, empty if none.
	Record string
	// Result of check_host() for this domain.
	Result Result
	// Note says why a node has no record ("no SPF record", ...).
	Note string
	// Steps are the terms evaluated that mattered: those that made DNS
	// lookups, matched, or failed; plain ip4/ip6/all terms that did not
	// match are left out.
	Steps []Step
}

// A Step is the evaluation of one term of a record. It is plain data, part
// of a [Node].
type Step struct {
	// Term is the term evaluated.
	Term Term
	// Lookups is the number of DNS lookups this term counted against the
	// limit (0 or 1; the lookups of an included record are counted in its
	// own steps), Total the running total after it.
	Lookups, Total int
	// Void is the number of void lookups the term caused.
	Void int
	// Matched reports whether the mechanism matched.
	Matched bool
	// Child is the record evaluated for an include or a redirect.
	Child *Node
}

// String prints the explanation for humans: the result and what decided
// it, the totals against the limits, the exp text or the error, then the
// tree of records.
func (x *Explanation) String() string {
	var sb strings.Builder
	sb.WriteString(string(x.Result))
	switch {
	case x.Match != nil:
		fmt.Fprintf(&sb, ": %s matched in %s", x.Match.Term, x.Match.Domain)
	case x.Err != nil:
		sb.WriteString(x.Err.detail())
	case x.Result == Neutral:
		sb.WriteString(": no term matched")
	case x.Result == None && x.Tree != nil && x.Tree.Note != "":
		fmt.Fprintf(&sb, ": %s", x.Tree.Note)
	}
	fmt.Fprintf(&sb, " (ip %s, lookups %d, void %d)\n", x.IP, x.Lookups, x.VoidLookups)
	if x.Exp != "" {
		fmt.Fprintf(&sb, "explanation: %s\n", x.Exp)
	}
	if x.Tree != nil {
		x.Tree.write(&sb, 0)
	}
	return sb.String()
}

func (n *Node) write(sb *strings.Builder, depth int) {
	indent := strings.Repeat("  ", depth)
	if n.Record != "" {
		fmt.Fprintf(sb, "%s%s %q -> %s\n", indent, n.Domain, n.Record, n.Result)
	} else {
		fmt.Fprintf(sb, "%s%s (%s) -> %s\n", indent, n.Domain, n.Note, n.Result)
	}
	for _, s := range n.Steps {
		fmt.Fprintf(sb, "%s  %s", indent, s.Term)
		if s.Lookups > 0 {
			fmt.Fprintf(sb, " lookups +%d (total %d)", s.Lookups, s.Total)
		}
		if s.Void > 0 {
			fmt.Fprintf(sb, " void +%d", s.Void)
		}
		if s.Matched {
			sb.WriteString(" matched")
		}
		sb.WriteByte('\n')
		if s.Child != nil {
			s.Child.write(sb, depth+2)
		}
	}
}
