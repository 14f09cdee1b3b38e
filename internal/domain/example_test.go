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
