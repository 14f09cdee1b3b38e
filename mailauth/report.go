package mailauth

import (
	"fmt"
	"strings"
)

// A SenderChoice says which sender a [Decision] chose: the platform's or
// the customer's own.
//
// The zero value is no choice; Sender always sets one of the constants
// below.
type SenderChoice string

// The choices of [Policy.Sender].
const (
	// SenderDefault: the customer has no sender of its own; the
	// application's default sender is used, no check is needed.
	SenderDefault SenderChoice = "platform-default"
	// SenderCustomer: the customer's own From passed the SPF and DMARC
	// checks and is used.
	SenderCustomer SenderChoice = "customer-domain"
	// SenderFallback: the customer's own From would fail; the application's
	// default sender is used, the customer's address kept as Reply-To, and
	// the Decision's Fix says which DNS change would allow the customer's
	// From.
	SenderFallback SenderChoice = "fallback"
	// SenderPrivateCloud: a private-cloud customer sending through its own
	// SMTP gateway; its From is used as it is and no check is run.
	SenderPrivateCloud SenderChoice = "private-cloud"
)

// A Code names the kind of a [Finding], for programs that branch on it.
//
// The zero value is no code; every Finding has one of the constants below.
type Code string

// The codes of findings.
const (
	// CodePrivateCloud: own domain and own gateway, nothing to change.
	CodePrivateCloud Code = "private-cloud"
	// CodeNoCustomerSender: the customer set no sender of its own.
	CodeNoCustomerSender Code = "no-customer-sender"
	// CodeSPFNotAuthorised: the customer's SPF record does not give pass
	// for one or more platform IPs.
	CodeSPFNotAuthorised Code = "spf-not-authorised"
	// CodeSPFError: the SPF check ended in temperror or permerror.
	CodeSPFError Code = "spf-error"
	// CodeDMARCFails: the message would fail DMARC at the customer's
	// gateway (no aligned SPF or DKIM pass).
	CodeDMARCFails Code = "dmarc-fails"
	// CodeDMARCError: the DMARC check ended in temperror (a DNS failure) or
	// permerror (a malformed record) and gave no verdict; the platform's
	// sender is used until it can be read.
	CodeDMARCError Code = "dmarc-error"
	// CodeDKIMKeyMissing: the platform would sign with the customer's
	// domain but the customer has not published the key.
	CodeDKIMKeyMissing Code = "dkim-key-missing"
	// CodeScheduledReportTrap: a scheduled report configured with the
	// customer's own sender leaves through the platform and fails DMARC.
	CodeScheduledReportTrap Code = "scheduled-report-trap"
	// CodeCorporateSender: the customer's sender is in the platform's
	// corporate domain, which platform email never uses.
	CodeCorporateSender Code = "corporate-sender"
	// CodeMigration: the application's sender domain changes on a date.
	CodeMigration Code = "migration"
)

// A Finding is one observation behind a [Decision], in a sentence for
// people, with a Code for programs.
//
// It is plain data; the zero value is an empty finding.
type Finding struct {
	// Code names the kind of finding, for programs.
	Code Code
	// Text says it in a sentence, for people.
	Text string
}

// String returns f.Text.
func (f Finding) String() string { return f.Text }

// A Fix is the change that would let a customer's own From domain be used,
// or that keeps fallback mail out of quarantine. Each part is optional; the
// zero value proposes nothing.
//
// It is plain data, owned by the caller.
type Fix struct {
	// Domain is the customer's domain the fix is for.
	Domain string
	// SPF is the SPF record to publish; nil when SPF already passes.
	SPF *SPFMerge
	// AllowList holds the entries ("*@platform.example") a gateway with a
	// strict DMARC policy should allow, so that the platform's fallback
	// mail is not quarantined.
	AllowList []string
	// DKIM is the key record to publish so the platform can sign with the
	// customer's domain; nil when the policy has no customer key.
	DKIM *DKIMRecord
	// Sender is the sender address to configure instead of the customer's
	// own, set for the scheduled-report trap.
	Sender string
}

// String renders the fix as the short notice a customer reads.
func (f *Fix) String() string {
	var b strings.Builder
	f.write(&b)
	return b.String()
}

func (f *Fix) write(b *strings.Builder) {
	if f.Sender != "" {
		fmt.Fprintf(b, "Set the report's sender to %s.\n", f.Sender)
	}
	if s := f.SPF; s != nil {
		s.write(b)
	}
	if len(f.AllowList) > 0 {
		fmt.Fprintf(b, "If your gateway enforces a strict DMARC policy, allow %s.\n", strings.Join(f.AllowList, " and "))
	}
	if d := f.DKIM; d != nil {
		fmt.Fprintf(b, "To have mail signed with %s, publish this DKIM key:\n  %s\n", f.Domain, d)
	}
}

// String renders the decision as a short report for people: the sender
// chosen and why, then the fix, if any.
func (d *Decision) String() string {
	var b strings.Builder
	switch d.Choice {
	case SenderCustomer, SenderPrivateCloud, SenderDefault:
		fmt.Fprintf(&b, "%s: send from %s (%s)\n", d.App, d.From, d.Choice)
	case SenderFallback:
		fmt.Fprintf(&b, "%s: send from %s, Reply-To %s (%s)\n", d.App, d.From, d.ReplyTo, d.Choice)
	default:
		fmt.Fprintf(&b, "%s: send from %s\n", d.App, d.From)
	}
	for _, f := range d.Findings {
		fmt.Fprintf(&b, "- %s\n", f.Text)
	}
	if d.Fix != nil {
		d.Fix.write(&b)
	}
	return b.String()
}
