-- The times of the stores' scripts, shared by all of them: {seconds,
-- nanoseconds} pairs, so that nanosecond times stay exact (a Lua number,
-- a double, holds 53 bits; a Unix time in nanoseconds needs 61), stored
-- as "seconds.nanoseconds".

-- lt reports whether time a is before time b.
local function lt(a, b) return a[1] < b[1] or (a[1] == b[1] and a[2] < b[2]) end
-- dec reads a stored time, or returns nil for none (nil or '').
local function dec(v)
	if not v or v == '' then return nil end
	local s, n = string.match(v, '^(-?%d+)%.(%d+)$')
	return {tonumber(s), tonumber(n)}
end
