package pyspf_test

import (
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/alertmail/alertmail/mailauth/internal/pyspf"
	"github.com/alertmail/alertmail/mailauth/mailauthtest"
)

// TestCheck checks the pyspf runner against a loopback server: a pass, a
// fail with its exp= text, the HELO identity for an empty MAIL FROM, and a
// DNS timeout.
func TestCheck(t *testing.T) {
	t.Parallel()
	srv := mailauthtest.NewServer(t, mailauthtest.Zones{
		"example.com":     {mailauthtest.TXT("v=spf1 ip4:192.0.2.0/24 -all exp=why.example.com")},
		"why.example.com": {mailauthtest.TXT("%{i} is not %{d}'s (asked by %{r})")},
		"helo.example":    {mailauthtest.TXT("v=spf1 a -all"), mailauthtest.A("198.51.100.1")},
		"slow.example":    {mailauthtest.Timeout()},
	})
	py := pyspf.Start(t, srv.Addr())
	tests := []struct {
		ip, mailFrom, helo string
		want               pyspf.Result
	}{
		{"192.0.2.1", "a@example.com", "helo.example", pyspf.Result{Result: "pass", Explanation: "sender SPF authorized"}},
		{"198.51.100.1", "a@example.com", "helo.example", pyspf.Result{Result: "fail",
			Explanation: "198.51.100.1 is not example.com's (asked by " + pyspf.Receiver + ")"}},
		{"198.51.100.1", "", "helo.example", pyspf.Result{Result: "pass", Explanation: "sender SPF authorized"}},
		{"192.0.2.1", "a@slow.example", "helo.example", pyspf.Result{Result: "temperror"}},
	}
	for _, tt := range tests {
		got := py.Check(t, netip.MustParseAddr(tt.ip), tt.mailFrom, tt.helo)
		if tt.want.Explanation == "" {
			got.Explanation = "" // what pyspf says of a temperror is its own
		}
		assert.Equalf(t, tt.want, got, "Check(%s, %q, %q) = %+v; want %+v", tt.ip, tt.mailFrom, tt.helo, got, tt.want)
	}
}
