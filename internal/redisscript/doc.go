// Package redisscript runs the Lua scripts of the SDK's Redis stores
// (alerts/redisstore and digest/redisstore): by SHA1 (EVALSHA), with the
// source sent (EVAL) only when the server does not have it cached, and a
// failure reported as an *[OpError] naming the store operation.
package redisscript
