package spf_test

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"slices"
	"sync/atomic"
	"testing"

	"github.com/alertmail/alertmail/mailauth/mailauthtest"
	"github.com/alertmail/alertmail/mailauth/spf"
)

// conformanceSummary is printed by TestMain once every test has run, so
// that it ends the package's output.
var conformanceSummary string

func TestMain(m *testing.M) {
	code := m.Run()
	if conformanceSummary != "" {
		fmt.Println(conformanceSummary)
	}
	os.Exit(code)
}

// TestConformance runs every case of the RFC 7208 suite against its zone
// data served by a real DNS server on loopback, through the default
// resolver (dnsclient), and prints "rfc7208 conformance: P/T passed".
func TestConformance(t *testing.T) {
	scenarios := loadSuite(t)
	var passed, total atomic.Int64
	t.Run("suite", func(t *testing.T) {
		for _, sc := range scenarios {
			t.Run(sc.Description, func(t *testing.T) {
				t.Parallel()
				srv := mailauthtest.NewServer(t, sc.Zones)
				checker, err := spf.New(spf.Config{
					Resolver:           srv.Resolver(t),
					DefaultExplanation: "DEFAULT",
				})
				if err != nil {
					t.Fatal(err)
				}
				for _, name := range sortedNames(sc.Tests) {
					tc := sc.Tests[name]
					total.Add(1)
					t.Run(name, func(t *testing.T) {
						ip, err := netip.ParseAddr(tc.Host)
						if err != nil {
							t.Fatalf("bad host %q: %v", tc.Host, err)
						}
						got, x := checker.CheckMailFrom(context.Background(), ip, tc.MailFrom, tc.Helo)
						ok := slices.Contains(tc.Results, string(got))
						if !ok {
							t.Errorf("CheckMailFrom(%s, %q, %q) = %s; want %s\n%s",
								ip, tc.MailFrom, tc.Helo, got, joinResults(tc.Results), x)
						}
						if tc.Explanation != "" && got == spf.Fail && x.Exp != tc.Explanation {
							ok = false
							t.Errorf("CheckMailFrom(%s, %q, %q) explanation = %q; want %q\n%s",
								ip, tc.MailFrom, tc.Helo, x.Exp, tc.Explanation, x)
						}
						if ok {
							passed.Add(1)
						}
					})
				}
			})
		}
	})
	conformanceSummary = fmt.Sprintf("rfc7208 conformance: %d/%d passed", passed.Load(), total.Load())
	if passed.Load() != total.Load() {
		t.Errorf("rfc7208 conformance: %d of %d cases failed", total.Load()-passed.Load(), total.Load())
	}
}

// TestSuiteInMemory runs the suite again through mailauthtest's in-memory
// resolver: unit tests and benchmarks that use it see the same DNS as the
// loopback server gives.
func TestSuiteInMemory(t *testing.T) {
	t.Parallel()
	for _, sc := range loadSuite(t) {
		checker, err := spf.New(spf.Config{
			Resolver:           mailauthtest.NewResolver(sc.Zones),
			DefaultExplanation: "DEFAULT",
			ParseCache:         -1, // the loopback run covers the cached path
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range sortedNames(sc.Tests) {
			tc := sc.Tests[name]
			got, x := checker.CheckMailFrom(context.Background(), netip.MustParseAddr(tc.Host), tc.MailFrom, tc.Helo)
			if !slices.Contains(tc.Results, string(got)) {
				t.Errorf("%s: CheckMailFrom(%s, %q, %q) = %s; want %s\n%s",
					name, tc.Host, tc.MailFrom, tc.Helo, got, joinResults(tc.Results), x)
			} else if tc.Explanation != "" && got == spf.Fail && x.Exp != tc.Explanation {
				t.Errorf("%s: explanation = %q; want %q", name, x.Exp, tc.Explanation)
			}
		}
	}
}
