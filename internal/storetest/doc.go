// Package storetest holds the conformance suites of the SDK's store
// interfaces: one suite per interface, which every implementation must pass
// (the in-memory stores of packages alerts and digest, and the Redis stores
// of alerts/redisstore and digest/redisstore, on one server and on a
// one-node cluster). An implementation's test calls the suite with a
// function that returns a new, empty store; the suite runs its cases as
// subtests.
//
// Each case states one property of the interface's contract, so a store
// that passes behaves, as far as a caller can tell, like every other.
package storetest
