// Package dmarc evaluates DMARC, in both generations that receivers run:
// RFC 7489 (organizational domain from the public suffix list, "pct"
// sampling) and RFC 9989, DMARCbis (the DNS tree walk with public suffix
// operator records, "np" for non-existent subdomains, "t" in place of
// "pct").
//
// It is used by package mailauth's preflight and by anything that receives
// mail and wants a DMARC verdict. Records are parsed with
// github.com/emersion/go-msgauth/dmarc, extended here for the tags that
// package does not know (np, psd, t) and for the error handling RFC 9989
// asks for (malformed tag values ignored, a missing "p" read as "none").
//
// An [Evaluator] discovers the DMARC policy record of the author domain,
// checks the identifier alignment of the SPF and DKIM results it is given,
// and returns a [Verdict]: the DMARC result, the disposition the domain owner
// asks for, and the reason for each step. DNS failures give the result
// [TempError], never a reject, and only when the failure could hide a
// pass: an identifier outside the author's organizational domain, or one
// that did not pass, never makes DMARC temperror. Internationalized
// domains are converted to A-labels (RFC 9989 section 5.3.1).
//
// Section numbers of RFC 9989 cited in this package follow
// draft-ietf-dmarc-dmarcbis-41, the text the RFC was published from.
package dmarc
