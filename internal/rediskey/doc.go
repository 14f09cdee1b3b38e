// Package rediskey lays out the Redis keys of the SDK's stores
// (alerts/redisstore and digest/redisstore). A tenant's settings and
// digest keys are "<prefix>:{<tenant>}:<kind>[:<component>]", with the
// tenant in braces as the Redis Cluster hash tag; its limiter keys are
// "<prefix>:{b:<bucket>}:<tenant>:<category>:<kind>", in one of [Buckets]
// buckets derived from the tenant, whose hash tag they share with the
// bucket's index of due keys. Tenants and components are escaped
// everywhere, so that no input can name, match or change another
// tenant's keys.
package rediskey
