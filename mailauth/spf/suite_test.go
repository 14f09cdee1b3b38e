package spf_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"sort"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/alertmail/alertmail/mailauth/mailauthtest"
)

// suitePath is the RFC 7208 test suite, read where it lies beside the
// repository (never copied into it).
const suitePath = "../../../shared/testdata/spf/rfc7208-tests.yml"

// A scenario is one document of the suite: zone data and the tests run
// against it.
type scenario struct {
	Description string
	Tests       map[string]suiteCase
	Zones       mailauthtest.Zones
}

type suiteCase struct {
	Name        string
	Helo        string
	Host        string
	MailFrom    string
	Results     []string // any of them passes
	Explanation string   // expected exp text; empty if not checked
}

// loadSuite reads the suite, failing under CI=true and skipping otherwise
// when the file is missing.
func loadSuite(t testing.TB) []scenario {
	t.Helper()
	data, err := os.ReadFile(suitePath)
	if errors.Is(err, os.ErrNotExist) {
		if os.Getenv("CI") == "true" {
			t.Fatalf("RFC 7208 suite missing at %s (CI=true)", suitePath)
		}
		t.Skipf("RFC 7208 suite missing at %s; clone shared/ beside the repository", suitePath)
	}
	if err != nil {
		t.Fatal(err)
	}
	scs, err := parseSuite(data)
	if err != nil {
		t.Fatalf("parsing %s: %v", suitePath, err)
	}
	return scs
}

func parseSuite(data []byte) ([]scenario, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var out []scenario
	for {
		var doc struct {
			Description string
			Tests       map[string]map[string]any
			Zonedata    map[string][]any
		}
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		sc := scenario{Description: doc.Description, Tests: map[string]suiteCase{}, Zones: mailauthtest.Zones{}}
		for name, tc := range doc.Tests {
			c := suiteCase{
				Name:     name,
				Helo:     str(tc["helo"]),
				Host:     str(tc["host"]),
				MailFrom: str(tc["mailfrom"]),
			}
			switch r := tc["result"].(type) {
			case []any:
				for _, x := range r {
					c.Results = append(c.Results, str(x))
				}
			default:
				c.Results = []string{str(r)}
			}
			if e, ok := tc["explanation"]; ok {
				c.Explanation = str(e)
			}
			sc.Tests[name] = c
		}
		for name, entries := range doc.Zonedata {
			recs, err := zoneRecords(entries)
			if err != nil {
				return nil, fmt.Errorf("zone %q of %q: %w", name, doc.Description, err)
			}
			sc.Zones[name] = recs
		}
		out = append(out, sc)
	}
}

func str(v any) string {
	if v == nil {
		return ""
	}
	return fmt.Sprint(v)
}

// zoneRecords converts the entries of one name as the suite's reference
// driver reads them.
func zoneRecords(entries []any) ([]mailauthtest.Record, error) {
	var out []mailauthtest.Record
	for _, e := range entries {
		if s, ok := e.(string); ok {
			if s != "TIMEOUT" {
				return nil, fmt.Errorf("unknown entry %q", s)
			}
			out = append(out, mailauthtest.Timeout())
			continue
		}
		m, ok := e.(map[string]any)
		if !ok || len(m) != 1 {
			return nil, fmt.Errorf("entry %v is not a one-key map", e)
		}
		for k, v := range m {
			t := mailauthtest.Type(k)
			if s, ok := v.(string); ok && (s == "TIMEOUT" || s == "NONE") {
				if s == "TIMEOUT" {
					out = append(out, mailauthtest.TimeoutOf(t))
				} else {
					out = append(out, mailauthtest.NoneOf(t))
				}
				continue
			}
			switch t {
			case mailauthtest.TypeTXT, mailauthtest.TypeSPF:
				var text []string
				if l, ok := v.([]any); ok {
					for _, x := range l {
						text = append(text, str(x))
					}
				} else {
					text = []string{str(v)}
				}
				out = append(out, mailauthtest.Record{Type: t, Text: text})
			case mailauthtest.TypeA, mailauthtest.TypeAAAA:
				a, err := netip.ParseAddr(str(v))
				if err != nil {
					return nil, err
				}
				out = append(out, mailauthtest.Record{Type: t, Addr: a})
			case mailauthtest.TypeMX:
				l, ok := v.([]any)
				if !ok || len(l) != 2 {
					return nil, fmt.Errorf("MX %v is not [pref, host]", v)
				}
				pref, _ := l[0].(int)
				out = append(out, mailauthtest.MX(uint16(pref), str(l[1])))
			case mailauthtest.TypePTR, mailauthtest.TypeCNAME:
				out = append(out, mailauthtest.Record{Type: t, Host: str(v)})
			default:
				return nil, fmt.Errorf("unknown record type %q", k)
			}
		}
	}
	return out, nil
}

func sortedNames(m map[string]suiteCase) []string {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func joinResults(rs []string) string { return strings.Join(rs, " or ") }
