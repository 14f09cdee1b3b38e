// Package spf benchmarks github.com/alertmail/alertmail/mailauth/spf side
// by side with blitiri.com.ar/go/spf, the best Go SPF library, on the same
// records answered by the same in-memory resolver (mailauthtest.Resolver).
//
// It is a module of its own so that the SDK's go.mod never depends on the
// peer. Run from this directory:
//
//	go test -run '^$' -bench . -benchmem
package spf
