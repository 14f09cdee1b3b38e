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
package main
