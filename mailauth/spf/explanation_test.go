package spf_test

import (
	"context"
	"encoding/json"
	"net/netip"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

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
	require.NoError(t, err)
	got, x := checker.CheckHost(context.Background(), netip.MustParseAddr("192.0.2.9"), "top.example", "a@top.example", "h.example")
	require.Equalf(t, spf.Pass, got, "CheckHost = %s; want pass\n%s", got, x)
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
	// mx.inc.example has no address: the mx term's void lookup (one per
	// term, however many of its queries find nothing); a:none.example is
	// the other.
	s := x.String()
	assert.Equalf(t, want, s, "Explanation.String() =\n%s\nwant\n%s", s, want)
	step := x.Tree.Steps[2].Child.Steps[0]
	assert.Truef(t, step.Total == 5 && step.Matched, "redirect child step = %+v; want total 5, matched", step)
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
	require.NoError(t, err)
	got, x := checker.CheckHost(context.Background(), netip.MustParseAddr("192.0.2.1"), "top.example", "a@top.example", "h.example")
	require.Equalf(t, spf.PermError, got, "CheckHost = %s; want permerror\n%s", got, x)
	b, err := json.Marshal(x)
	require.NoError(t, err)
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
	require.NoError(t, json.Unmarshal(b, &back))
	assert.Equalf(t, "permerror", back.Result, "JSON result = %q; want permerror", back.Result)
	gotErr := [3]string{back.Err.Result, back.Err.Domain, back.Err.Term}
	wantErr := [3]string{"permerror", "bad.example", "ip4:192.0.2.300"}
	assert.Equalf(t, wantErr, gotErr, "JSON error = %+v; want permerror in bad.example at ip4:192.0.2.300", back.Err)
	assert.Containsf(t, back.Err.Reason, `invalid ip4 address "192.0.2.300"`, "JSON error reason = %q; want the invalid address named", back.Err.Reason)
	if assert.Lenf(t, back.Tree.Steps, 1, "JSON tree = %+v; want one step", back.Tree) {
		st := back.Tree.Steps[0]
		assert.Truef(t, st.Term.Mechanism == "include" && st.Child.Record == "v=spf1 ip4:192.0.2.300 -all" && st.Total == 1,
			"JSON tree step = %+v; want the include of bad.example's record, 1 lookup", st)
	}
	wantLine := `permerror in bad.example at "ip4:192.0.2.300": syntax error at 7 in "ip4:192.0.2.300": invalid ip4 address "192.0.2.300" (ip 192.0.2.1, lookups 1, void 0)`
	first, _, _ := strings.Cut(x.String(), "\n")
	assert.Equalf(t, wantLine, first, "String() first line = %q; want %q", first, wantLine)
}
