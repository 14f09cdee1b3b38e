package redisscript

import _ "embed"

// TimeLua is the Lua source of the time functions the stores' scripts
// share (lt, dec: see lua/time.lua). A script that uses them starts with
// it, after a fast path that uses none.
//
//go:embed lua/time.lua
var TimeLua string
