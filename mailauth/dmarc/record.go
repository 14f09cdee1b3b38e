package dmarc

import (
	"net/url"
	"strings"

	msgdmarc "github.com/emersion/go-msgauth/dmarc"
)

// A Policy is a Domain Owner Assessment Policy ("p", "sp" and "np" tags), and
// also the disposition an evaluation arrives at.
//
// The zero value is no policy: a tag that is absent or malformed.
type Policy string

// The policies of RFC 7489 section 6.3 and RFC 9989 section 4.7.
const (
	PolicyNone       Policy = "none"
	PolicyQuarantine Policy = "quarantine"
	PolicyReject     Policy = "reject"
)

// below returns the policy one level below p: what "pct" sampling (RFC 7489
// section 6.6.4) and "t=y" (RFC 9989 section 4.7) apply instead of p.
func (p Policy) below() Policy {
	switch p {
	case PolicyReject:
		return PolicyQuarantine
	default:
		return PolicyNone
	}
}

// An Alignment is an identifier alignment mode ("adkim" and "aspf" tags).
//
// The zero value reads as relaxed, the default of the "adkim" and "aspf"
// tags.
type Alignment string

// The alignment modes of RFC 7489 section 3.1 and RFC 9989 section 4.4.
const (
	AlignmentRelaxed Alignment = "r"
	AlignmentStrict  Alignment = "s"
)

// String returns "relaxed" or "strict".
func (a Alignment) String() string {
	if a == AlignmentStrict {
		return "strict"
	}
	return "relaxed"
}

// PSD is the value of the "psd" tag of RFC 9989 section 4.7: whether the
// record is published by a public suffix operator.
//
// The zero value, like an absent tag, is read as PSDUnknown.
type PSD string

// The values of the "psd" tag.
const (
	PSDYes     PSD = "y" // the domain is a public suffix domain
	PSDNo      PSD = "n" // the domain is an organizational domain
	PSDUnknown PSD = "u" // the default: the tree walk decides
)

// A Tag is one tag=value pair of a record.
//
// It is plain data.
type Tag struct {
	Name  string // lower-cased for known tags
	Value string // without surrounding white space
}

// String returns "name=value".
func (t Tag) String() string { return t.Name + "=" + t.Value }

// A Record is a parsed DMARC policy record. Tags that are absent hold their
// default value, except the policies, which are empty when absent or
// malformed: how an empty "p" is read depends on the generation (see
// [Evaluator]).
//
// A Record is not modified after Parse returns it, so it is safe for
// concurrent reads.
//
// The zero value is an empty record: no policy, relaxed alignment.
type Record struct {
	// Policy is the "p" tag; empty when absent or malformed.
	Policy Policy
	// SubdomainPolicy is the "sp" tag; empty when absent or malformed.
	SubdomainPolicy Policy
	// NonexistentPolicy is the "np" tag (RFC 9989 section 4.7; RFC 9091
	// before it); empty when absent or malformed.
	NonexistentPolicy Policy
	// DKIMAlignment and SPFAlignment are the "adkim" and "aspf" tags;
	// relaxed by default.
	DKIMAlignment Alignment
	SPFAlignment  Alignment
	// Percent is the "pct" tag of RFC 7489 section 6.3, 100 by default. RFC
	// 9989 removed it (appendix A.6) and ignores it.
	Percent int
	// Testing is true for "t=y" (RFC 9989 section 4.7).
	Testing bool
	// PSD is the "psd" tag (RFC 9989 section 4.7), PSDUnknown by default.
	PSD PSD
	// FailureOptions is the "fo" tag as published, "0" by default.
	FailureOptions string
	// ReportURIAggregate and ReportURIFailure are the "rua" and "ruf" tags.
	ReportURIAggregate []string
	ReportURIFailure   []string
	// Ignored lists the tags whose value was malformed or that repeated an
	// earlier tag; each was ignored in favour of the default (RFC 9989
	// section 4.8).
	Ignored []Tag
	// Unknown lists the tags that are not DMARC tags; they are ignored (RFC
	// 7489 section 6.3, RFC 9989 section 4.7).
	Unknown []Tag
	// Text is the record as published.
	Text string
}

// String returns the record as published.
func (r *Record) String() string { return r.Text }

// ignored reports whether tag name was present with a malformed value.
func (r *Record) ignored(name string) bool {
	for _, t := range r.Ignored {
		if t.Name == name {
			return true
		}
	}
	return false
}

// hasValidRUA reports whether "rua" holds at least one syntactically valid
// URI, which decides what a malformed policy means (RFC 7489 section 6.6.3
// step 6, RFC 9989 section 4.10.1).
func (r *Record) hasValidRUA() bool {
	for _, u := range r.ReportURIAggregate {
		// The obsolete "!size" suffix (RFC 9989 section 4.8) is not part
		// of the URI.
		u, _, _ = strings.Cut(u, "!")
		if p, err := url.Parse(u); err == nil && p.Scheme != "" && p.Opaque+p.Host+p.Path != "" {
			return true
		}
	}
	return false
}

// tags go-msgauth's parser knows; np, psd and t are parsed here.
var msgauthTags = map[string]bool{
	"p": true, "sp": true, "adkim": true, "aspf": true, "fo": true,
	"pct": true, "rf": true, "ri": true, "rua": true, "ruf": true,
}

// keyword tags whose values are compared without regard to case, since ABNF
// strings are case-insensitive (RFC 5234 section 2.3).
var keywordTags = map[string]bool{
	"p": true, "sp": true, "np": true, "adkim": true, "aspf": true, "psd": true, "t": true,
}

// Parse parses a DMARC policy record, the strings of its TXT record joined.
// It returns [ErrNotRecord] when the record does not start with "v=DMARC1".
// Any other defect is not an error: malformed tag values are ignored and
// listed in Record.Ignored, unknown tags in Record.Unknown, as RFC 9989
// section 4.8 asks.
//
// The values of the tags github.com/emersion/go-msgauth/dmarc knows are
// validated by it; np, psd and t are validated here.
func Parse(txt string) (*Record, error) {
	first, rest, _ := strings.Cut(txt, ";")
	name, value, ok := strings.Cut(first, "=")
	// RFC 7489 section 6.3, RFC 9989 section 4.7: "v" first, value
	// "DMARC1" case-sensitively, or the whole record is ignored.
	if !ok || !strings.EqualFold(trimWSP(name), "v") || trimWSP(value) != "DMARC1" {
		return nil, ErrNotRecord
	}
	r := &Record{
		DKIMAlignment:  AlignmentRelaxed,
		SPFAlignment:   AlignmentRelaxed,
		Percent:        100,
		PSD:            PSDUnknown,
		FailureOptions: "0",
		Text:           txt,
	}
	var known []Tag // in record order, first occurrence only
	seen := make(map[string]bool, 8)
	for field := range strings.SplitSeq(rest, ";") {
		field = trimWSP(field)
		if field == "" {
			continue
		}
		name, value, ok := strings.Cut(field, "=")
		t := Tag{Name: strings.ToLower(trimWSP(name)), Value: trimWSP(value)}
		if !ok || !isTagName(t.Name) || t.Value == "" {
			t = Tag{Name: trimWSP(name), Value: trimWSP(value)}
			r.Ignored = append(r.Ignored, t)
			continue
		}
		if keywordTags[t.Name] {
			t.Value = strings.ToLower(t.Value)
		}
		switch {
		case seen[t.Name]:
			r.Ignored = append(r.Ignored, t)
		case msgauthTags[t.Name]:
			seen[t.Name] = true
			known = append(known, t)
		case t.Name == "np":
			seen[t.Name] = true
			if p, ok := parsePolicy(t.Value); ok {
				r.NonexistentPolicy = p
			} else {
				r.Ignored = append(r.Ignored, t)
			}
		case t.Name == "psd":
			seen[t.Name] = true
			switch PSD(t.Value) {
			case PSDYes, PSDNo, PSDUnknown:
				r.PSD = PSD(t.Value)
			default:
				r.Ignored = append(r.Ignored, t)
			}
		case t.Name == "t":
			seen[t.Name] = true
			switch t.Value {
			case "y", "n":
				r.Testing = t.Value == "y"
			default:
				r.Ignored = append(r.Ignored, t)
			}
		default:
			r.Unknown = append(r.Unknown, t)
		}
	}
	r.applyKnown(known)
	return r, nil
}

// applyKnown validates the tags go-msgauth knows with its parser. The
// common case, a record it accepts whole, costs one call; otherwise each tag
// is checked on its own so that one bad value does not discard the others.
func (r *Record) applyKnown(known []Tag) {
	if len(known) == 0 {
		return
	}
	var b strings.Builder
	b.WriteString("v=DMARC1")
	hasP := false
	for _, t := range known {
		hasP = hasP || t.Name == "p"
		b.WriteString("; ")
		b.WriteString(t.String())
	}
	if hasP {
		if rec, err := msgdmarc.Parse(b.String()); err == nil {
			r.copyFrom(rec, known)
			return
		}
	}
	for _, t := range known {
		probe := "v=DMARC1; p=none; " + t.String()
		if t.Name == "p" {
			probe = "v=DMARC1; " + t.String()
		}
		rec, err := msgdmarc.Parse(probe)
		if err != nil {
			r.Ignored = append(r.Ignored, t)
			continue
		}
		r.copyFrom(rec, []Tag{t})
	}
}

// copyFrom takes the values of tags from a record parsed by go-msgauth.
func (r *Record) copyFrom(rec *msgdmarc.Record, tags []Tag) {
	for _, t := range tags {
		switch t.Name {
		case "p":
			r.Policy = Policy(rec.Policy)
		case "sp":
			r.SubdomainPolicy = Policy(rec.SubdomainPolicy)
		case "adkim":
			r.DKIMAlignment = Alignment(rec.DKIMAlignment)
		case "aspf":
			r.SPFAlignment = Alignment(rec.SPFAlignment)
		case "pct":
			if rec.Percent != nil {
				r.Percent = *rec.Percent
			}
		case "fo":
			r.FailureOptions = t.Value
		case "rua":
			r.ReportURIAggregate = rec.ReportURIAggregate
		case "ruf":
			r.ReportURIFailure = rec.ReportURIFailure
		}
		// rf and ri moved to the reporting documents; validated, not kept.
	}
}

func parsePolicy(s string) (Policy, bool) {
	switch p := Policy(s); p {
	case PolicyNone, PolicyQuarantine, PolicyReject:
		return p, true
	}
	return "", false
}

// isTagName reports whether s is 1*ALPHA (RFC 9989 section 4.8).
func isTagName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i] | 0x20; c < 'a' || c > 'z' {
			return false
		}
	}
	return true
}

func trimWSP(s string) string { return strings.Trim(s, " \t\r\n") }
