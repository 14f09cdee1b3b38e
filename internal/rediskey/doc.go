// Package rediskey lays out the Redis keys of the SDK's stores
// (alerts/redisstore and digest/redisstore): every key of a tenant is
// "<prefix>:{<tenant>}:<kind>[:<component>]", with the tenant and the
// components escaped so that no input can name, match or change another
// tenant's keys, and the tenant in braces as the Redis Cluster hash tag.
package rediskey
