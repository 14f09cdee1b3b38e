package domain_test

import (
	"fmt"

	"github.com/alertmail/alertmail/internal/domain"
)

func ExampleToASCII() {
	for _, name := range []string{"Bücher.Example", "_spf.bücher.example", "xn--zz.example"} {
		a, err := domain.ToASCII(name)
		fmt.Println(a, err)
	}
	// Output:
	// xn--bcher-kva.example <nil>
	// _spf.xn--bcher-kva.example <nil>
	//  idna: invalid label "zz"
}

func ExampleNormalize() {
	for _, c := range []struct {
		name   string
		syntax domain.Syntax
	}{
		{"Mail.Bücher.Example", domain.Host},
		{"_dmarc.bücher.example", domain.DNS},
		{"_dmarc.bücher.example", domain.Host},
		{"example.com.", domain.Host},
	} {
		a, err := domain.Normalize(c.name, c.syntax)
		fmt.Printf("%s %v: %q %v\n", c.syntax, c.name, a, err)
	}
	// Output:
	// host Mail.Bücher.Example: "mail.xn--bcher-kva.example" <nil>
	// DNS _dmarc.bücher.example: "_dmarc.xn--bcher-kva.example" <nil>
	// host _dmarc.bücher.example: "" character '_' in label "_dmarc"
	// host example.com.: "" empty label
}
