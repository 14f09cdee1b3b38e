package mailauthtest_test

import (
	"net/netip"
	"testing"

	"github.com/alertmail/alertmail/mailauth/mailauthtest"
)

// TestPyspf checks the pyspf runner against a loopback server: a pass, a
// fail with its exp= text, the HELO identity for an empty MAIL FROM, and a
// DNS timeout.
func TestPyspf(t *testing.T) {
	t.Parallel()
	srv := mailauthtest.NewServer(t, mailauthtest.Zones{
		"example.com":     {mailauthtest.TXT("v=spf1 ip4:192.0.2.0/24 -all exp=why.example.com")},
		"why.example.com": {mailauthtest.TXT("%{i} is not %{d}'s (asked by %{r})")},
		"helo.example":    {mailauthtest.TXT("v=spf1 a -all"), mailauthtest.A("198.51.100.1")},
		"slow.example":    {mailauthtest.Timeout()},
	})
	py := mailauthtest.StartPyspf(t, srv)
	tests := []struct {
		ip, mailFrom, helo string
		want               mailauthtest.PyspfResult
	}{
		{"192.0.2.1", "a@example.com", "helo.example", mailauthtest.PyspfResult{Result: "pass", Explanation: "sender SPF authorized"}},
		{"198.51.100.1", "a@example.com", "helo.example", mailauthtest.PyspfResult{Result: "fail",
			Explanation: "198.51.100.1 is not example.com's (asked by " + mailauthtest.PyspfReceiver + ")"}},
		{"198.51.100.1", "", "helo.example", mailauthtest.PyspfResult{Result: "pass", Explanation: "sender SPF authorized"}},
		{"192.0.2.1", "a@slow.example", "helo.example", mailauthtest.PyspfResult{Result: "temperror"}},
	}
	for _, tt := range tests {
		got := py.Check(t, netip.MustParseAddr(tt.ip), tt.mailFrom, tt.helo)
		if got.Result != tt.want.Result || (tt.want.Explanation != "" && got.Explanation != tt.want.Explanation) {
			t.Errorf("Pyspf.Check(%s, %q, %q) = %+v; want %+v", tt.ip, tt.mailFrom, tt.helo, got, tt.want)
		}
	}
}
