-- Commit or GiveBack: end a lease. ARGV[6] lease id, ARGV[7] "1" when the
-- email was accepted (the slot is consumed as a send at now, the events are
-- forgotten) or "0" when it was not (the slot is released, the events go
-- back to the front of pending).
-- Returns 1, or 0 when the lease is unknown or expired.
begin()
local found = 0
for i, l in ipairs(st.ls) do
	if l.id == ARGV[6] then
		if ARGV[7] == '1' then
			commitAt(now)
		else
			release()
			prepend(leaseEvents(l.id))
		end
		removeLease(i)
		found = 1
		break
	end
end
save()
return found
