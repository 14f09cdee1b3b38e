package spf_test

import (
	"context"
	"encoding/json"
	"net/netip"
	"strings"
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

// TestExplanationData checks that an explanation is usable as data: it
// encodes to JSON with the error's reason and the offending term.
func TestExplanationData(t *testing.T) {
	t.Parallel()
	res := mailauthtest.NewResolver(mailauthtest.Zones{
		"top.example": {mailauthtest.TXT("v=spf1 include:bad.example -all")},
		"bad.example": {mailauthtest.TXT("v=spf1 ip4:192.0.2.300 -all")},
	})
	checker, err := spf.New(spf.Config{Resolver: res})
	if err != nil {
		t.Fatal(err)
	}
	got, x := checker.CheckHost(context.Background(), netip.MustParseAddr("192.0.2.1"), "top.example", "a@top.example", "h.example")
	if got != spf.PermError {
		t.Fatalf("CheckHost = %s; want permerror\n%s", got, x)
	}
	b, err := json.Marshal(x)
	if err != nil {
		t.Fatal(err)
	}
	var back struct {
		Result string
		Err    struct{ Result, Domain, Term, Reason string }
		Tree   struct {
			Domain string
			Steps  []struct {
				Term  struct{ Mechanism, Value string }
				Total int
				Child struct{ Domain, Record string }
			}
		}
	}
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back.Result != "permerror" || back.Err.Domain != "bad.example" || back.Err.Term != "ip4:192.0.2.300" ||
		!strings.Contains(back.Err.Reason, `invalid ip4 address "192.0.2.300"`) {
		t.Errorf("JSON error = %+v; want permerror in bad.example at ip4:192.0.2.300", back.Err)
	}
	if len(back.Tree.Steps) != 1 || back.Tree.Steps[0].Term.Mechanism != "include" ||
		back.Tree.Steps[0].Child.Record != "v=spf1 ip4:192.0.2.300 -all" || back.Tree.Steps[0].Total != 1 {
		t.Errorf("JSON tree = %+v", back.Tree)
	}
	wantLine := `permerror in bad.example at "ip4:192.0.2.300": syntax error at 7 in "ip4:192.0.2.300": invalid ip4 address "192.0.2.300" (ip 192.0.2.1, lookups 1, void 0)`
	if first, _, _ := strings.Cut(x.String(), "\n"); first != wantLine {
		t.Errorf("String() first line = %q; want %q", first, wantLine)
	}
}
