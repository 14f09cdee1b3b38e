// Command preflight asks the real DNS whether a message would pass DMARC at
// the recipient's gateway, before anything is sent: it checks SPF for the
// envelope sender and the sending IP, the keys of the planned DKIM
// signatures, and DMARC as RFC 7489 and RFC 9989 receivers evaluate it, then
// prints the SPF tree, both verdicts and what would fix a failure.
//
//	go run ./examples/preflight -from example.com -ip 192.0.2.1
//	go run ./examples/preflight -from 'Alerts <alerts@example.com>' -ip 198.51.100.7 \
//		-mailfrom bounce@esp.example -helo mta.esp.example -dkim example.com:s1
//	go run ./examples/preflight -message signed.eml -ip 198.51.100.7 -mailfrom bounce@esp.example
//
// It exits 0 when DMARC passes with both generations, 1 when it does not,
// and 2 on bad usage or input.
//
// Its subcommands prepare a sender-domain migration (see the README's
// "Migrating your sending domain"): audit checks every customer of a
// platform file against the DNS and writes the results and a notice for
// each customer who must change something; check does it for one sender,
// spf explains one SPF verdict. They exit 0 when everything checked is
// ready, 1 when not, and 2 on bad usage or input.
//
//	go install github.com/alertmail/alertmail/examples/preflight@latest
//	preflight audit -platform platform.yaml -customers customers.csv \
//		-csv results.csv -notices notices/
//	preflight check -platform platform.yaml alerts@customer.example
//	preflight spf customer.example 192.0.2.16
package main
