package dnsclient_test

import (
	"errors"
	"net"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/alertmail/alertmail/mailauth/dnsclient"
)

// TestNotFoundNXDomain checks the method through which packages that do not
// import dnsclient (dmarc) tell NXDOMAIN from NODATA.
func TestNotFoundNXDomain(t *testing.T) {
	t.Parallel()
	type nxDomainError interface {
		error
		NXDomain() bool
	}
	for _, tt := range []struct {
		cause error
		want  bool
	}{
		{dnsclient.ErrNXDomain, true},
		{dnsclient.ErrNoData, false},
	} {
		err := error(&net.DNSError{Err: "not found", Name: "x.example", IsNotFound: true, UnwrapErr: tt.cause})
		e, ok := errors.AsType[nxDomainError](err)
		require.Truef(t, ok, "errors.As(%v, NXDomain() bool) = false; want true", err)
		assert.Equalf(t, tt.want, e.NXDomain(), "%v: NXDomain() = %v; want %v", tt.cause, e.NXDomain(), tt.want)
		assert.Equalf(t, tt.want, dnsclient.IsNXDomain(err), "IsNXDomain(%v) = %v; want %v", err, dnsclient.IsNXDomain(err), tt.want)
		assert.Equalf(t, !tt.want, dnsclient.IsNoData(err), "IsNoData(%v) = %v; want %v", err, dnsclient.IsNoData(err), !tt.want)
	}
	_, ok := errors.AsType[nxDomainError](dnsclient.ErrServerFailure)
	assert.Falsef(t, ok, "errors.As(ErrServerFailure, NXDomain() bool) = true; want false")
}
