// Package digesttest helps test code built on package digest: a
// conformance suite every [digest.Store] implementation must pass (the
// in-memory store and the Redis store both run it), in the style of
// net/http/httptest.
package digesttest
