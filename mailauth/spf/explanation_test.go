package spf_test

import (
	"context"
	"net/netip"
	"testing"

	"github.com/alertmail/alertmail/mailauth/mailauthtest"
	"github.com/alertmail/alertmail/mailauth/spf"
)

// TestExplanationTree checks the tree of a check that goes through an
// include and a redirect: each step's own lookups and the running total.
func TestExplanationTree(t *testing.T) {
	t.Parallel()
	res := mailauthtest.NewResolver(mailauthtest.Zones{
		"top.example":          {mailauthtest.TXT("v=spf1 ip4:10.0.0.1 include:inc.example a:none.example redirect=red.example")},
		"inc.example":          {mailauthtest.TXT("v=spf1 mx ~all"), mailauthtest.MX(1, "mx.inc.example")},
		"red.example":          {mailauthtest.TXT("v=spf1 exists:%{i}.ok.example -all")},
		"192.0.2.9.ok.example": {mailauthtest.A("127.0.0.2")},
	})
	checker, err := spf.New(spf.Config{Resolver: res})
	if err != nil {
		t.Fatal(err)
	}
	got, x := checker.CheckHost(context.Background(), netip.MustParseAddr("192.0.2.9"), "top.example", "a@top.example", "h.example")
	if got != spf.Pass {
		t.Fatalf("CheckHost = %s; want pass\n%s", got, x)
	}
	want := `pass: exists:%{i}.ok.example matched in red.example (ip 192.0.2.9, lookups 5, void 2)
top.example "v=spf1 ip4:10.0.0.1 include:inc.example a:none.example redirect=red.example" -> pass
  include:inc.example lookups +1 (total 1)
    inc.example "v=spf1 mx ~all" -> softfail
      mx lookups +1 (total 2) void +1
      ~all matched
  a:none.example lookups +1 (total 3) void +1
  redirect=red.example lookups +1 (total 4)
    red.example "v=spf1 exists:%{i}.ok.example -all" -> pass
      exists:%{i}.ok.example lookups +1 (total 5) matched
`
	// mx.inc.example has no address: a void lookup, as every query that
	// finds nothing is (pyspf counts the same way); a:none.example is the
	// other.
	if s := x.String(); s != want {
		t.Errorf("Explanation.String() =\n%s\nwant\n%s", s, want)
	}
	if x.Tree.Steps[2].Child.Steps[0].Total != 5 || !x.Tree.Steps[2].Child.Steps[0].Matched {
		t.Errorf("redirect child step = %+v; want total 5, matched", x.Tree.Steps[2].Child.Steps[0])
	}
}
