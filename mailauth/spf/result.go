package spf

// A Result is the outcome of an SPF check (RFC 7208 section 2.6). The zero
// value "" is no result; a check returns one of the constants.
type Result string

// The results of RFC 7208 section 2.6.
const (
	// None: no syntactically valid domain, or no SPF record for it.
	None Result = "none"
	// Neutral: the domain owner states nothing about the IP address.
	Neutral Result = "neutral"
	// Pass: the host is authorised to send for the domain.
	Pass Result = "pass"
	// Fail: the host is not authorised to send for the domain.
	Fail Result = "fail"
	// SoftFail: the host is probably not authorised; a weak fail.
	SoftFail Result = "softfail"
	// TempError: a transient (DNS) error; a later check may succeed.
	TempError Result = "temperror"
	// PermError: the domain's records cannot be interpreted.
	PermError Result = "permerror"
)

// String returns the result as RFC 7208 spells it.
func (r Result) String() string { return string(r) }

// A Qualifier prefixes a mechanism and gives the result when it matches
// (RFC 7208 section 4.6.2).
type Qualifier string

// Qualifiers. The zero value, written as nothing, means "+".
const (
	QualifierNone     Qualifier = ""
	QualifierPass     Qualifier = "+"
	QualifierFail     Qualifier = "-"
	QualifierSoftFail Qualifier = "~"
	QualifierNeutral  Qualifier = "?"
)

// Result returns the result a mechanism with this qualifier gives when it
// matches.
func (q Qualifier) Result() Result {
	switch q {
	case QualifierFail:
		return Fail
	case QualifierSoftFail:
		return SoftFail
	case QualifierNeutral:
		return Neutral
	}
	return Pass
}
