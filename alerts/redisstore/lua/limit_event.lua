-- eventID returns the ID of an encoded event (see event.go: a format
-- byte, 1, then the ID as a uvarint length and its bytes, then the other
-- fields), which every limiter script reads for idempotency: '' for an
-- event without an ID, and for one of another format (this version cannot
-- read its ID, so it is never a duplicate). It comes first in every
-- limiter script.
local function eventID(ev)
	if string.byte(ev, 1) ~= 1 then return '' end
	local n, mul, i = 0, 1, 2
	while true do
		local b = string.byte(ev, i)
		if not b or i > 6 then return '' end -- no event is that long
		i = i + 1
		if b < 128 then
			n = n + b * mul
			break
		end
		n = n + (b - 128) * mul
		mul = mul * 128
	end
	return string.sub(ev, i, i + n - 1)
end
