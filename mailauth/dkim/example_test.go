package dkim_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"fmt"
	"strings"

	"github.com/alertmail/alertmail/mailauth/dkim"
	"github.com/alertmail/alertmail/mailauth/mailauthtest"
)

// Sign outgoing mail with the platform domain's key, publish the record
// DNSRecord gives, and the receiver's verification passes, until someone
// edits the body.
func ExampleSigner_Sign() {
	key := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{42}, 32)) // load yours from a secret store
	signer, err := dkim.NewSigner(dkim.SignerConfig{Domain: "example.com", Selector: "alerts2026", Key: key})
	if err != nil {
		panic(err)
	}
	name, text := signer.DNSRecord()
	fmt.Println(name)

	var signed bytes.Buffer
	msg := "From: alerts@example.com\r\nTo: admin@customer.example\r\nSubject: New alert\r\n\r\nA new alert.\r\n"
	if err := signer.Sign(&signed, strings.NewReader(msg)); err != nil {
		panic(err)
	}

	res := mailauthtest.NewResolver(mailauthtest.Zones{name: {mailauthtest.TXT(text)}})
	verifier, err := dkim.NewVerifier(dkim.VerifierConfig{Resolver: res})
	if err != nil {
		panic(err)
	}
	for _, m := range []string{signed.String(), strings.Replace(signed.String(), "A new alert", "A new offer", 1)} {
		sigs, err := verifier.Verify(context.Background(), strings.NewReader(m))
		if err != nil {
			panic(err)
		}
		fmt.Println(sigs[0].Domain, sigs[0].Selector, sigs[0].Result, sigs[0].Err)
	}
	// Output:
	// alerts2026._domainkey.example.com
	// example.com alerts2026 pass <nil>
	// example.com alerts2026 fail dkim: signature d=example.com s=alerts2026: body hash did not verify: the body was changed after signing
}
