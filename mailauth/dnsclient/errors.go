package dnsclient

import (
	"context"
	"errors"
	"net"
	"os"
)

// Sentinel errors, found with errors.Is in the *net.DNSError a lookup
// returns (they are its UnwrapErr).
var (
	// ErrNXDomain: the name does not exist (RCODE 3, Name Error). Its
	// NXDomain method returns true.
	ErrNXDomain error = &notFoundError{"dnsclient: no such domain", true}
	// ErrNoData: the name exists but has no record of the asked type
	// (RCODE 0 with an empty answer). Its NXDomain method returns false.
	ErrNoData error = &notFoundError{"dnsclient: no record of the asked type", false}
	// ErrServerFailure: every server answered with an error code other than
	// NXDOMAIN (SERVFAIL, REFUSED, ...) or with a malformed answer.
	ErrServerFailure = errors.New("dnsclient: server failure")
	// ErrInvalidName: the name cannot be sent in a query (an empty label, a
	// label over 63 octets, a name over 253 octets).
	ErrInvalidName = errors.New("dnsclient: invalid domain name")
)

// A notFoundError is the cause of a lookup that found nothing. Its
// NXDomain method lets packages that must tell the two causes apart (a
// DMARC tree walk) read them through the error, without importing this
// package.
type notFoundError struct {
	msg string
	nx  bool
}

func (e *notFoundError) Error() string { return e.msg }

// NXDomain reports whether the name does not exist, as opposed to having
// no record of the asked type.
func (e *notFoundError) NXDomain() bool { return e.nx }

// IsNXDomain reports whether err says that the name does not exist.
func IsNXDomain(err error) bool { return errors.Is(err, ErrNXDomain) }

// IsNoData reports whether err says that the name exists but has no record of
// the asked type.
func IsNoData(err error) bool { return errors.Is(err, ErrNoData) }

// notFound returns the error for an answer without records: NXDOMAIN when
// nx, no data otherwise.
func notFound(name, server string, nx bool) *net.DNSError {
	e := &net.DNSError{Name: name, Server: server, IsNotFound: true}
	if nx {
		e.Err, e.UnwrapErr = "no such host", ErrNXDomain
	} else {
		e.Err, e.UnwrapErr = "no records of the asked type", ErrNoData
	}
	return e
}

// lookupError wraps a transport or context error as a *net.DNSError.
func lookupError(name, server string, err error) *net.DNSError {
	var de *net.DNSError
	if errors.As(err, &de) {
		return de
	}
	e := &net.DNSError{Err: err.Error(), Name: name, Server: server, UnwrapErr: err}
	var ne net.Error
	switch {
	case errors.Is(err, context.Canceled):
		e.Err = "operation was canceled"
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded):
		e.Err, e.IsTimeout, e.IsTemporary = "i/o timeout", true, true
	case errors.As(err, &ne) && ne.Timeout():
		e.Err, e.IsTimeout, e.IsTemporary = "i/o timeout", true, true
	default:
		e.IsTemporary = true
	}
	return e
}
