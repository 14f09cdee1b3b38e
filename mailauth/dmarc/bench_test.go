package dmarc_test

import (
	"context"
	"testing"

	"github.com/emersion/go-msgauth/authres"

	"github.com/alertmail/alertmail/mailauth/dmarc"
	"github.com/alertmail/alertmail/mailauth/mailauthtest"
)

// BenchmarkEvaluate measures one evaluation over an in-memory resolver: a
// subdomain author, relaxed alignment of SPF and one DKIM signature.
func BenchmarkEvaluate(b *testing.B) {
	res := mailauthtest.NewResolver(zones)
	in := dmarc.Input{
		From:     "news.example.com",
		MailFrom: "bounce.example.com",
		SPF:      authres.ResultPass,
		DKIM:     []dmarc.DKIMResult{{Domain: "example.com", Selector: "s1", Result: authres.ResultPass}},
	}
	for _, gen := range []dmarc.Generation{dmarc.RFC7489, dmarc.RFC9989} {
		b.Run(gen.String(), func(b *testing.B) {
			e, err := dmarc.New(dmarc.Config{Resolver: res, Generation: gen})
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				v, err := e.Evaluate(context.Background(), in)
				if err != nil || v.Result != dmarc.Pass {
					b.Fatalf("Evaluate = %v, %v; want pass", v, err)
				}
			}
		})
	}
}
