package dmarc_test

import (
	"context"
	"net"
	"net/netip"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/alertmail/alertmail/mailauth/dmarc"
)

// rcodeError is the cause a resolver that tells NXDOMAIN from NODATA puts
// in its errors; the evaluator reads it through its NXDomain method alone.
type rcodeError struct{ nx bool }

func (e rcodeError) Error() string  { return "rcode" }
func (e rcodeError) NXDomain() bool { return e.nx }

// existsResolver serves the policy record of policy.example, fails every
// address lookup with addrErr, and answers MX queries with mx (not found
// when empty), counting them.
type existsResolver struct {
	addrErr error
	mx      []*net.MX
	mxAsked atomic.Int32
}

func notFound(name string) error {
	return &net.DNSError{Err: "no such host", Name: name, IsNotFound: true}
}

func (r *existsResolver) LookupTXT(_ context.Context, name string) ([]string, error) {
	if name == "_dmarc.policy.example" {
		return []string{"v=DMARC1; p=none; sp=quarantine; np=reject"}, nil
	}
	return nil, notFound(name)
}

func (r *existsResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	return nil, r.addrErr
}

func (r *existsResolver) LookupMX(_ context.Context, name string) ([]*net.MX, error) {
	r.mxAsked.Add(1)
	if len(r.mx) == 0 {
		return nil, notFound(name)
	}
	return r.mx, nil
}

// TestSubdomainExistence checks that a subdomain's existence, which picks
// np or sp, is read through the resolver's error: an error whose chain has
// NXDomain() bool settles it from the address lookup alone; a plain
// not-found error leaves it to the MX lookup (RFC 9091 section 2.1).
func TestSubdomainExistence(t *testing.T) {
	t.Parallel()
	const author = "sub.policy.example"
	wrap := func(nx bool) error {
		return &net.DNSError{Err: "not found", Name: author, IsNotFound: true, UnwrapErr: rcodeError{nx}}
	}
	tests := []struct {
		name    string
		addrErr error
		mx      []*net.MX
		wantTag string
		wantMX  bool // whether the MX lookup was made
	}{
		{name: "NXDOMAIN told", addrErr: wrap(true), wantTag: "np"},
		{name: "NODATA told", addrErr: wrap(false), wantTag: "sp"},
		{name: "not found, no MX", addrErr: notFound(author), wantTag: "np", wantMX: true},
		{name: "not found, MX", addrErr: notFound(author), mx: []*net.MX{{Host: "mail.policy.example.", Pref: 10}}, wantTag: "sp", wantMX: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res := &existsResolver{addrErr: tt.addrErr, mx: tt.mx}
			e, err := dmarc.New(dmarc.Config{Resolver: res})
			require.NoError(t, err)
			v, err := e.Evaluate(context.Background(), dmarc.Input{From: author})
			require.NoError(t, err)
			assert.Equalf(t, dmarc.Fail, v.Result, "Evaluate(%q).Result = %v; want %v\n%v", author, v.Result, dmarc.Fail, v)
			assert.Equalf(t, tt.wantTag, v.PolicyTag, "Evaluate(%q).PolicyTag = %q; want %q\n%v", author, v.PolicyTag, tt.wantTag, v)
			assert.Equalf(t, tt.wantMX, res.mxAsked.Load() > 0, "Evaluate(%q) asked MX = %v; want %v", author, res.mxAsked.Load() > 0, tt.wantMX)
		})
	}
}
