package dkim

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"

	"github.com/emersion/go-msgauth/authres"
	msgdkim "github.com/emersion/go-msgauth/dkim"

	"github.com/alertmail/alertmail/mailauth/internal/header"
)

// A Resolver looks up DKIM key records. It is the subset of
// mailauth.Resolver this package needs, so *net.Resolver fits. A missing
// name must be reported as a *net.DNSError with IsNotFound set; other
// errors are temporary failures. Implementations must be safe for
// concurrent use.
type Resolver interface {
	LookupTXT(ctx context.Context, name string) ([]string, error)
}

// ResolverFunc adapts a function to a [Resolver]: its LookupTXT calls f.
type ResolverFunc func(ctx context.Context, name string) ([]string, error)

// LookupTXT returns f(ctx, name).
func (f ResolverFunc) LookupTXT(ctx context.Context, name string) ([]string, error) {
	return f(ctx, name)
}

// DefaultMaxSignatures is how many signatures a Verifier checks when
// VerifierConfig.MaxSignatures is zero.
const DefaultMaxSignatures = 8

// VerifierConfig configures a [Verifier]. Its zero value works.
type VerifierConfig struct {
	// Resolver looks up the keys. Nil means net.DefaultResolver.
	Resolver Resolver
	// MaxSignatures bounds the signatures checked per message, the first
	// ones in header order; the rest are reported with ErrTooManySignatures.
	// Zero means DefaultMaxSignatures; it must not be negative.
	MaxSignatures int
}

// A Verifier checks the DKIM signatures of messages. It is safe for
// concurrent use.
//
// Create one with NewVerifier; the zero value is not usable.
type Verifier struct {
	res Resolver
	max int
}

// NewVerifier returns a Verifier for cfg, or an error naming the invalid
// field.
func NewVerifier(cfg VerifierConfig) (*Verifier, error) {
	if cfg.MaxSignatures < 0 {
		return nil, fmt.Errorf("dkim: VerifierConfig.MaxSignatures: %d is negative", cfg.MaxSignatures)
	}
	v := &Verifier{res: cfg.Resolver, max: cfg.MaxSignatures}
	if v.res == nil {
		v.res = net.DefaultResolver
	}
	if v.max == 0 {
		v.max = DefaultMaxSignatures
	}
	return v, nil
}

// A Signature is the verification outcome of one DKIM-Signature header
// field.
//
// It is plain data, owned by the caller; the zero value is a signature with
// no result.
type Signature struct {
	// Domain is the signing domain (d=), Selector the selector (s=),
	// Identifier the agent or user identifier (i=), Algorithm the a= tag.
	Domain     string
	Selector   string
	Identifier string
	Algorithm  string
	// HeaderKeys lists the signed header fields (h=).
	HeaderKeys []string
	// B is the signature value (b=) without whitespace; its first
	// characters identify the signature in Authentication-Results (RFC
	// 6008).
	B string
	// Result is pass, fail, policy, temperror or permerror (RFC 8601
	// section 2.7.1).
	Result authres.ResultValue
	// Err says why the result is not pass: a *VerifyError.
	Err error
}

// String returns the outcome on one line: "d=example.com s=s1: pass", with
// the reason when it is not a pass.
func (s Signature) String() string {
	out := "d=" + s.Domain + " s=" + s.Selector + ": " + string(s.Result)
	if s.Err != nil {
		var ve *VerifyError
		if errors.As(s.Err, &ve) {
			out += " (" + ve.reason() + ")"
		} else {
			out += " (" + strings.TrimPrefix(s.Err.Error(), "dkim: ") + ")"
		}
	}
	return out
}

// Verify reads a message and checks each of its DKIM signatures, in header
// order. A message without signatures gives none. The error is non-nil only
// when the message cannot be read or parsed; a signature that does not
// verify is reported in its Signature.
func (v *Verifier) Verify(ctx context.Context, r io.Reader) ([]Signature, error) {
	msg, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("dkim: reading message: %w", err)
	}
	fields := signatureFields(msg)
	opts := &msgdkim.VerifyOptions{
		LookupTXT:        func(name string) ([]string, error) { return v.lookupTXT(ctx, name) },
		MaxVerifications: v.max,
	}
	verifs, err := msgdkim.VerifyWithOptions(bytes.NewReader(msg), opts)
	if err != nil && !errors.Is(err, msgdkim.ErrTooManySignatures) {
		return nil, fmt.Errorf("dkim: malformed message: %w", err)
	}
	sigs := make([]Signature, 0, len(fields))
	for i, f := range fields {
		s := Signature{
			Domain: f["d"], Selector: f["s"], Identifier: f["i"], Algorithm: f["a"], B: f["b"],
		}
		if i >= len(verifs) {
			s.Result = authres.ResultPermError
			s.Err = &VerifyError{Domain: s.Domain, Selector: s.Selector, Reason: ErrTooManySignatures}
			sigs = append(sigs, s)
			continue
		}
		vf := verifs[i]
		if vf.Domain != "" {
			s.Domain = vf.Domain
		}
		if vf.Identifier != "" {
			s.Identifier = vf.Identifier
		}
		s.HeaderKeys = vf.HeaderKeys
		s.Result, s.Err = classify(s.Domain, s.Selector, vf.Err)
		sigs = append(sigs, s)
	}
	return sigs, nil
}

// lookupTXT adapts the Resolver to go-msgauth, which tells a temporary
// failure from a missing key by a net.Error's Temporary method.
func (v *Verifier) lookupTXT(ctx context.Context, name string) ([]string, error) {
	txts, err := v.res.LookupTXT(ctx, name)
	if err == nil {
		return txts, nil
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		if !dnsErr.IsNotFound && !dnsErr.IsTimeout && !dnsErr.IsTemporary {
			// Any failure other than "not found" may clear up.
			e := *dnsErr
			e.IsTemporary = true
			return nil, &e
		}
		return nil, dnsErr
	}
	return nil, &net.DNSError{Err: err.Error(), Name: name, IsTemporary: true,
		IsTimeout: errors.Is(err, context.DeadlineExceeded)}
}

// classify turns a go-msgauth verification error into a result and a
// reason.
func classify(domain, selector string, err error) (authres.ResultValue, error) {
	if err == nil {
		return authres.ResultPass, nil
	}
	ve := &VerifyError{Domain: domain, Selector: selector, Err: err}
	msg := err.Error()
	switch {
	case msgdkim.IsTempFail(err):
		ve.Reason = ErrKeyUnavailable
		return authres.ResultTempError, ve
	case msgdkim.IsPermFail(err):
		if strings.Contains(msg, "no key for signature") {
			ve.Reason = ErrNoKey
		}
		return authres.ResultPermError, ve
	case strings.Contains(msg, "body hash did not verify"):
		ve.Reason = ErrBodyHash
	case strings.Contains(msg, "signature did not verify"):
		ve.Reason = ErrHeaderHash
	case strings.Contains(msg, "body length"):
		// RFC 8601 section 2.7.1: acceptable, refused by local policy.
		return authres.ResultPolicy, ve
	}
	return authres.ResultFail, ve
}

// signatureFields returns the tags of each DKIM-Signature header field of a
// message, in header order, as go-msgauth visits them. Tags are split on
// ";" and "=" with whitespace removed; malformed fields give what they
// have, since go-msgauth reports their errors.
func signatureFields(msg []byte) []map[string]string {
	var out []map[string]string
	for _, f := range header.Fields(msg) {
		name, value, ok := strings.Cut(f, ":")
		if !ok || !strings.EqualFold(strings.TrimSpace(name), "DKIM-Signature") {
			continue
		}
		tags := make(map[string]string, 12)
		for tv := range strings.SplitSeq(value, ";") {
			k, v, ok := strings.Cut(tv, "=")
			if !ok {
				continue
			}
			k = stripWS(k)
			if _, dup := tags[k]; !dup {
				tags[k] = stripWS(v)
			}
		}
		out = append(out, tags)
	}
	return out
}

func stripWS(s string) string {
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '\t' || r == '\r' || r == '\n' {
			return -1
		}
		return r
	}, s)
}
