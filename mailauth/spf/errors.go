package spf

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Sentinel errors, found with errors.Is in an [Error] or a [ParseError].
var (
	// ErrSyntax: a record, term or macro does not follow RFC 7208.
	ErrSyntax = errors.New("spf: syntax error")
	// ErrNotSPF: the text does not begin with "v=spf1".
	ErrNotSPF = errors.New("spf: not an SPF record")
	// ErrMultipleRecords: the domain publishes more than one SPF record.
	ErrMultipleRecords = errors.New("spf: more than one SPF record")
	// ErrNoRecord: the target of an include or redirect has no SPF record.
	ErrNoRecord = errors.New("spf: no SPF record")
	// ErrLookupLimit: more DNS lookups than the limit (10).
	ErrLookupLimit = errors.New("spf: too many DNS lookups")
	// ErrVoidLimit: more void lookups than the limit (2).
	ErrVoidLimit = errors.New("spf: too many void DNS lookups")
	// ErrMXLimit: an mx mechanism met more MX records than the limit (10).
	ErrMXLimit = errors.New("spf: too many MX records")
	// ErrDNS: a DNS query failed (timeout, server failure).
	ErrDNS = errors.New("spf: DNS failure")
	// ErrExpansion: a macro expanded to more than the allowed length.
	ErrExpansion = errors.New("spf: macro expansion too long")
)

// A SyntaxError is one syntax error in a record. It is plain data, made by
// [Parse]; errors.Is matches it against ErrSyntax.
type SyntaxError struct {
	Pos  int    // byte offset of Term (or of the error) in the record
	Term string // the offending term, as written
	Msg  string // what is wrong with it
}

// Error returns the error with its position, the term (cut if long) and
// what is wrong with it.
func (e *SyntaxError) Error() string {
	return fmt.Sprintf("spf: syntax error at %d in %s: %s", e.Pos, quote(e.Term), e.Msg)
}

// Unwrap returns ErrSyntax.
func (e *SyntaxError) Unwrap() error { return ErrSyntax }

// A ParseError lists every syntax error [Parse] found in a record. It is
// plain data; errors.Is matches it against ErrSyntax, and ErrNotSPF when
// the version is wrong.
type ParseError struct {
	Record string         // the record parsed
	Errs   []*SyntaxError // at least one, in record order
}

// Error returns the messages of the syntax errors, separated by "; ".
func (e *ParseError) Error() string {
	var sb strings.Builder
	for i, se := range e.Errs {
		if i > 0 {
			sb.WriteString("; ")
		}
		sb.WriteString(se.Error())
	}
	return sb.String()
}

// Unwrap returns the syntax errors, and ErrNotSPF when the version is wrong.
func (e *ParseError) Unwrap() []error {
	out := make([]error, 0, len(e.Errs)+1)
	for _, se := range e.Errs {
		out = append(out, se)
		if se.Msg == msgNotSPF {
			out = append(out, ErrNotSPF)
		}
	}
	return out
}

// An Error says why a check ended in permerror or temperror. Its Domain and
// Term are those of the innermost record that failed (an include's target,
// say); the Explanation's tree shows the path to it. It is plain data,
// made by a check.
type Error struct {
	Result Result // PermError or TempError
	Domain string // the domain whose record was being evaluated
	Term   string // the term being evaluated, as written; empty if none
	Err    error  // the cause: a sentinel of this package, a *ParseError, a DNS error
}

// Error returns "spf: ", the result, where and why.
func (e *Error) Error() string { return "spf: " + string(e.Result) + e.detail() }

// detail is the error after its result: where, and why.
func (e *Error) detail() string {
	var sb strings.Builder
	if e.Domain != "" {
		sb.WriteString(" in ")
		sb.WriteString(e.Domain)
	}
	if e.Term != "" {
		fmt.Fprintf(&sb, " at %s", quote(e.Term))
	}
	sb.WriteString(": ")
	sb.WriteString(e.Reason())
	return sb.String()
}

// Reason returns the cause in words, without the package prefix.
func (e *Error) Reason() string {
	if e.Err == nil {
		return "unknown error"
	}
	return strings.ReplaceAll(e.Err.Error(), "spf: ", "")
}

// MarshalJSON encodes the error as data: result, domain, term and reason.
func (e *Error) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Result Result `json:"result"`
		Domain string `json:"domain,omitempty"`
		Term   string `json:"term,omitempty"`
		Reason string `json:"reason"`
	}{e.Result, e.Domain, e.Term, e.Reason()})
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// maxQuoted is the most of a term or value an error message quotes: a 64
// KiB term makes a short message, not a 64 KiB one (the term itself is in
// the error's fields).
const maxQuoted = 80

// quote quotes s for an error message, cut to maxQuoted octets.
func quote(s string) string {
	if len(s) <= maxQuoted {
		return strconv.Quote(s)
	}
	return strconv.Quote(s[:maxQuoted]) + "..."
}
