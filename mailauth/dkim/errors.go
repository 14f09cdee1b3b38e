package dkim

import (
	"errors"
	"strings"
)

// Reasons a signature does not verify, found with errors.Is in
// Signature.Err.
var (
	// ErrBodyHash: the body hash (bh=) does not match: the body was changed
	// after signing.
	ErrBodyHash = errors.New("dkim: body hash did not verify: the body was changed after signing")
	// ErrHeaderHash: the signature (b=) does not verify over the signed
	// header fields: one of them was changed after signing, or the key does
	// not match.
	ErrHeaderHash = errors.New("dkim: signature did not verify: a signed header field was changed after signing, or the published key is not the signing key")
	// ErrNoKey: there is no key record at <selector>._domainkey.<domain>.
	ErrNoKey = errors.New("dkim: no key record published for the selector")
	// ErrKeyUnavailable: the key lookup failed temporarily.
	ErrKeyUnavailable = errors.New("dkim: key record unavailable (temporary DNS failure)")
	// ErrTooManySignatures: the signature was past VerifierConfig.MaxSignatures
	// and was not checked.
	ErrTooManySignatures = errors.New("dkim: not checked: too many signatures")
)

// A VerifyError says why one signature did not verify.
//
// It is plain data.
type VerifyError struct {
	Domain   string // d=
	Selector string // s=
	// Reason is one of the Err… reasons of this package, or nil.
	Reason error
	// Err is go-msgauth's error, or nil.
	Err error
}

// Error names the signature and says why it did not verify.
func (e *VerifyError) Error() string {
	return "dkim: signature d=" + e.Domain + " s=" + e.Selector + ": " + e.reason()
}

// reason says why the signature did not verify, without the signature.
func (e *VerifyError) reason() string {
	switch {
	case e.Reason != nil:
		return strings.TrimPrefix(e.Reason.Error(), "dkim: ")
	case e.Err != nil:
		return trimPrefix(e.Err).Error()
	}
	return "did not verify"
}

// Unwrap returns the reason and go-msgauth's error.
func (e *VerifyError) Unwrap() []error {
	var errs []error
	for _, err := range []error{e.Reason, e.Err} {
		if err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

// trimPrefix drops go-msgauth's "dkim: " so that messages do not repeat it.
func trimPrefix(err error) error {
	if s, ok := strings.CutPrefix(err.Error(), "dkim: "); ok {
		return errors.New(s)
	}
	return err
}
