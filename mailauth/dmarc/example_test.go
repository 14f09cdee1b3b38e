package dmarc_test

import (
	"context"
	"fmt"

	"github.com/emersion/go-msgauth/authres"

	"github.com/alertmail/alertmail/mailauth/dmarc"
	"github.com/alertmail/alertmail/mailauth/mailauthtest"
)

// The same message judged by the two generations of receivers: RFC 9989
// honours the public suffix operator's psd=y record, so the sibling
// domain's DKIM signature no longer aligns.
func ExampleEvaluator_Evaluate() {
	res := mailauthtest.NewResolver(mailauthtest.Zones{
		"_dmarc.bank.example":       {mailauthtest.TXT("v=DMARC1; p=reject; psd=y")},
		"_dmarc.giant.bank.example": {mailauthtest.TXT("v=DMARC1; p=quarantine")},
	})
	from, _ := dmarc.AuthorDomain(`"Giant Bank" <alerts@giant.bank.example>`)
	in := dmarc.Input{
		From: from,
		DKIM: []dmarc.DKIMResult{{Domain: "mail.mega.bank.example", Selector: "s1", Result: authres.ResultPass}},
	}
	for _, gen := range []dmarc.Generation{dmarc.RFC7489, dmarc.RFC9989} {
		e, err := dmarc.New(dmarc.Config{Resolver: res, Generation: gen})
		if err != nil {
			panic(err)
		}
		v, err := e.Evaluate(context.Background(), in)
		if err != nil {
			panic(err)
		}
		fmt.Printf("%v: %s, disposition %s\n", gen, v.Result, v.Disposition)
	}
	// Output:
	// RFC 7489: pass, disposition none
	// RFC 9989: fail, disposition quarantine
}

func ExampleParse() {
	r, err := dmarc.Parse("v=DMARC1; p=reject; sp=quarantin; np=reject; psd=n; future=1")
	if err != nil {
		panic(err)
	}
	fmt.Println(r.Policy, r.NonexistentPolicy, r.PSD)
	fmt.Println("ignored:", r.Ignored, "unknown:", r.Unknown)
	// Output:
	// reject reject n
	// ignored: [sp=quarantin] unknown: [future=1]
}

func ExampleAuthorDomain() {
	for _, from := range []string{`"Security Alerts" <Alerts@News.Example.COM>`, "a@example.com, b@example.net"} {
		d, err := dmarc.AuthorDomain(from)
		fmt.Printf("%q %v\n", d, err)
	}
	// Output:
	// "news.example.com" <nil>
	// "" dmarc: From header holds addresses of more than one domain: example.com and example.net
}
