// Package redisscript runs the Lua scripts of the SDK's Redis stores
// (alerts/redisstore and digest/redisstore) through a [Conn]: by SHA1
// (EVALSHA), with the source sent (EVAL) only when the server does not
// have it cached, a failure reported as an *[OpError] naming the store
// operation, and the reply read as a [Reply] whose types are checked.
package redisscript
