package dmarc_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/alertmail/alertmail/mailauth/dmarc"
)

func TestParse(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in   string
		want string // fields of interest, see describe
	}{
		{"v=DMARC1; p=reject", "p=reject sp= np= adkim=r aspf=r pct=100 t=false psd=u rua=[] ignored=[] unknown=[]"},
		{"v=DMARC1;p=quarantine;sp=none;np=reject;adkim=s;aspf=s;pct=25;t=y;psd=y;rua=mailto:a@example.com, mailto:b@example.com;fo=1",
			"p=quarantine sp=none np=reject adkim=s aspf=s pct=25 t=true psd=y rua=[mailto:a@example.com mailto:b@example.com] ignored=[] unknown=[]"},
		{"V = DMARC1 ; P = Reject ; ", "p=reject sp= np= adkim=r aspf=r pct=100 t=false psd=u rua=[] ignored=[] unknown=[]"},
		// RFC 9989 section 4.8: malformed values are ignored, not fatal.
		{"v=DMARC1; p=reject; sp=quarantin; pct=200; adkim=x; t=maybe; psd=q; np=0",
			"p=reject sp= np= adkim=r aspf=r pct=100 t=false psd=u rua=[] ignored=[t=maybe psd=q np=0 sp=quarantin pct=200 adkim=x] unknown=[]"},
		{"v=DMARC1; p=none; p=reject", "p=none sp= np= adkim=r aspf=r pct=100 t=false psd=u rua=[] ignored=[p=reject] unknown=[]"},
		{"v=DMARC1; rua=mailto:d@example.com", "p= sp= np= adkim=r aspf=r pct=100 t=false psd=u rua=[mailto:d@example.com] ignored=[] unknown=[]"},
		{"v=DMARC1; p=reject; future=1; x-y=2", "p=reject sp= np= adkim=r aspf=r pct=100 t=false psd=u rua=[] ignored=[x-y=2] unknown=[future=1]"},
		{"v=DMARC1; p=reject; garbage", "p=reject sp= np= adkim=r aspf=r pct=100 t=false psd=u rua=[] ignored=[garbage=] unknown=[]"},
		{"v=DMARC1; p=reject; rf=xml; ri=0", "p=reject sp= np= adkim=r aspf=r pct=100 t=false psd=u rua=[] ignored=[rf=xml ri=0] unknown=[]"},
	}
	for _, c := range cases {
		t.Run(c.in, func(t *testing.T) {
			t.Parallel()
			r, err := dmarc.Parse(c.in)
			if err != nil {
				t.Fatalf("Parse(%q) error: %v", c.in, err)
			}
			if got := describe(r); got != c.want {
				t.Errorf("Parse(%q) = %s; want %s", c.in, got, c.want)
			}
			if r.String() != c.in {
				t.Errorf("Parse(%q).String() = %q; want the record as published", c.in, r.String())
			}
		})
	}
}

func describe(r *dmarc.Record) string {
	return fmt.Sprintf("p=%s sp=%s np=%s adkim=%s aspf=%s pct=%d t=%v psd=%s rua=%v ignored=%v unknown=%v",
		r.Policy, r.SubdomainPolicy, r.NonexistentPolicy, string(r.DKIMAlignment), string(r.SPFAlignment),
		r.Percent, r.Testing, r.PSD, r.ReportURIAggregate, r.Ignored, r.Unknown)
}

func TestParseNotRecord(t *testing.T) {
	t.Parallel()
	for _, in := range []string{"", "v=spf1 -all", "p=reject; v=DMARC1", "v=DMARC2; p=reject", "v=dmarc1; p=reject", "v=DMARC1 p=reject", "DMARC1"} {
		if r, err := dmarc.Parse(in); !errors.Is(err, dmarc.ErrNotRecord) {
			t.Errorf("Parse(%q) = %v, %v; want ErrNotRecord", in, r, err)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"v=DMARC1; p=reject", "v=DMARC1; p=none; sp=quarantine; np=reject; psd=y; t=y; pct=50",
		"v=DMARC1; rua=mailto:a@b!10m, https://x", "v=DMARC1;;;=;p", "v=DMARC1; fo=0:1:d:s; rf=afrf; ri=86400",
		"v=DMARC1; p=\x00", "v=DMARC1; pct=-1; pct=101",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		r, err := dmarc.Parse(in)
		if err != nil {
			if !errors.Is(err, dmarc.ErrNotRecord) {
				t.Fatalf("Parse(%q) error %v; want ErrNotRecord or nil", in, err)
			}
			return
		}
		if r.Percent < 0 || r.Percent > 100 {
			t.Errorf("Parse(%q).Percent = %d; want 0..100", in, r.Percent)
		}
		switch r.Policy {
		case "", dmarc.PolicyNone, dmarc.PolicyQuarantine, dmarc.PolicyReject:
		default:
			t.Errorf("Parse(%q).Policy = %q; want a known policy or empty", in, r.Policy)
		}
		if r.String() != in || !strings.HasPrefix(strings.TrimLeft(in, " \t\r\n"), "v") && !strings.HasPrefix(strings.TrimLeft(in, " \t\r\n"), "V") {
			t.Errorf("Parse(%q) accepted a record not starting with v", in)
		}
	})
}
