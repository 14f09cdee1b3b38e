-- The state of one limiter key, shared by the limiter scripts: a port of
-- alerts.Limiter and of the lease handling of alerts.MemoryLimitStore.
--
-- KEYS[1] state hash: m mode, c count, ls and ln last send (seconds,
--         nanoseconds), us and un end of cooling ('' when not cooling),
--         h held slots, w sliding-window sends, le leases ("id deadline
--         ...", oldest first), fc the fast path's copy of the end of
--         cooling and the last send (see limit_fast.lua), x the last 16
--         leases that expired ("id deadline ...", oldest first), whose
--         charge a late GiveBack or Undeliver takes back, rt the retry
--         time of the last GiveBack since a lease was taken ('' for
--         none), fl the failures since the last Commit or Undeliver
-- KEYS[2] pending events: a list, oldest first, of encoded events
-- KEYS[3] leased events: a hash, lease id -> cmsgpack array of events
-- KEYS[4] seen IDs: a sorted set of the IDs of the events the key took,
--         scored +inf while the key holds the event (pending, leased,
--         undelivered) and by the end of its dedup window (microseconds,
--         rounded up) once it left (sent, drained, dropped, discarded);
--         and, from the time the fast path may run, the member '' at +inf
--         (no event ID is ''), so that the fast path knows the set exists
--         with its TTL and need not set it (see limit_fast.lua)
-- KEYS[5] the due index of the key's bucket: a sorted set of the bucket's
--         keys (by the member in ARGV[5]) scored by their due time in
--         microseconds, rounded up, which every step updates (see save)
-- KEYS[6] (Commit, GiveBack, Undeliver, Drain, Drop, Requeue) the record
--         of the call, for a second run of it (see limit_end.lua and
--         limit_drain.lua)
-- KEYS[7] (Undeliver, Requeue) undelivered events: a list, oldest first,
--         of encoded events, which save() leaves alone
-- ARGV[1] mode ("cooldown" or "window"), ARGV[2] key TTL in milliseconds,
-- ARGV[3], ARGV[4] now + 1ns and now + period + 1ns for the fast path of
-- Take (see limit_fast.lua; '' for the other operations), ARGV[5]
-- "limit period-s period-ns now-s now-ns window-s window-ns seen-TTL
-- member", packed in one argument because the fast path reads it only in
-- a rare case (every argument costs the fast path too): the seen set's
-- TTL in milliseconds is at least the key TTL and the dedup window, and
-- member names the key in the due index; ARGV[6] and ARGV[7] the
-- operation's own; Take's events follow from ARGV[8].
--
-- Times are pairs, as in internal/redisscript/lua/time.lua, which comes
-- before this file in every limiter script (lt, dec).
local E9 = 1000000000
local function add(a, b)
	local s, n = a[1] + b[1], a[2] + b[2]
	if n >= E9 then s, n = s + 1, n - E9 end
	return {s, n}
end
local function tmin(a, b) if lt(b, a) then return b end return a end
local function enc(a) return string.format('%d.%09d', a[1], a[2]) end
-- fixed: a time as 20 digits, or nil when it does not fit (before 1970).
local function fixed(a)
	if a[1] < 0 or a[1] >= 1e11 then return nil end
	return string.format('%011d%09d', a[1], a[2])
end

local S, P, E, Z, D = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local mode, keyTTL = ARGV[1], ARGV[2]
local limit, period, now, dedup, seenTTL, member
do
	local l, ps, pn, ns, nn, ws, wn, st, m = string.match(ARGV[5], '^(%d+) (%d+) (%d+) (%-?%d+) (%d+) (%d+) (%d+) (%d+) (%S+)$')
	limit, period, now = tonumber(l), {tonumber(ps), tonumber(pn)}, {tonumber(ns), tonumber(nn)}
	dedup, seenTTL, member = {tonumber(ws), tonumber(wn)}, st, m
end
local window = mode == 'window'

-- The scores of the sorted sets: times in microseconds, which a double
-- holds exactly for any date of this era. A due time or the end of a
-- window is rounded up (never early), and now down, so that a score is at
-- or before now exactly when its time is.
local function ceilUs(a) return string.format('%d', a[1] * 1000000 + math.floor((a[2] + 999) / 1000)) end
local function floorUs(a) return string.format('%d', a[1] * 1000000 + math.floor(a[2] / 1000)) end

-- The state, loaded by begin: f holds the raw fields, st the parsed ones.
local f, st

-- live: the number of recorded sends inside the window that ends at t.
local function live(t)
	local n = #st.w
	for i = 1, n do
		if lt(t, add(st.w[i], period)) then return n - i + 1 end
	end
	return 0
end
-- cooling: the effective end of the cooling period, or nil outside it.
local function cooling(t)
	if not st.u or not lt(t, st.u) then return nil end
	return tmin(st.u, add(t, period))
end
-- cycle: the sends counted in the current cooldown cycle.
local function cycle(t)
	if st.u and not lt(t, st.u) then return 0 end
	if not st.u and st.h == 0 then
		local last = tmin(st.l, t)
		if not lt(t, add(last, period)) then return 0 end
	end
	return st.c
end
local function normalize(t)
	if window then
		local first = #st.w - live(t)
		local kept = {}
		for i = first + 1, #st.w do
			local s = st.w[i]
			if lt(t, s) then s = t end
			kept[#kept + 1] = s
		end
		st.w = kept
		return
	end
	st.c = cycle(t)
	st.u = cooling(t)
	st.l = tmin(st.l, t)
end
local function allow(t)
	if window then return live(t) + st.h < limit end
	if cooling(t) then return false end
	return cycle(t) + st.h < limit
end
local function reserve(t)
	normalize(t)
	if not allow(t) then return false end
	st.h = st.h + 1
	return true
end
local function commitAt(t)
	normalize(t)
	if st.h > 0 then st.h = st.h - 1 end
	if window then
		st.w[#st.w + 1] = t
		return
	end
	st.c = st.c + 1
	st.l = t
	if st.c >= limit then st.u = add(t, period) end
end
local function release()
	if st.h > 0 then st.h = st.h - 1 end
end
-- uncommit takes back the send recorded at d by a lease that expired,
-- while it may still count at now (as alerts.Limiter.uncommit); call it
-- after normalize(now).
local function uncommit(d)
	if not lt(now, add(d, period)) then return end
	if window then
		for i, s in ipairs(st.w) do
			if s[1] == d[1] and s[2] == d[2] then
				table.remove(st.w, i)
				return
			end
		end
		return
	end
	if st.c > 0 then
		st.c = st.c - 1
		if st.c < limit then st.u = nil end
	end
end
local function nextAt(t)
	if window then
		local n = #st.w
		local lv = live(t)
		local first = n - lv
		local k = lv + st.h - limit + 1
		if k <= 0 or k > lv then return t end
		return add(tmin(st.w[first + k], t), period)
	end
	return cooling(t) or t
end
local function idle(t)
	if st.h > 0 then return false end
	if window then return live(t) == 0 end
	return not cooling(t) and cycle(t) == 0
end

-- leaseEvents returns the events of lease id, oldest first.
local function leaseEvents(id)
	local blob = redis.call('HGET', E, id)
	if not blob then return {} end
	return cmsgpack.unpack(blob)
end
-- prepend puts evs back at the front of pending, in their order.
local function prepend(evs)
	for i = #evs, 1, -1 do redis.call('LPUSH', P, evs[i]) end
end
-- removeLease forgets lease i.
local function removeLease(i)
	redis.call('HDEL', E, st.ls[i].id)
	table.remove(st.ls, i)
end

-- zaddAll runs ZADD key with the score-member pairs of args, in chunks
-- (unpack is bounded by the Lua stack).
local function zaddAll(key, args)
	for i = 1, #args, 1000 do
		redis.call('ZADD', key, unpack(args, i, math.min(i + 999, #args)))
	end
end

-- admit returns the events of ARGV from first on that are not duplicates,
-- and the number that are, and records the IDs of the others as held.
-- The seen set holds no ID whose window ended (begin swept them), so an
-- ID it holds is a duplicate.
local function admit(first)
	local ids, at = {}, {}
	for i = first, #ARGV do
		local id = eventID(ARGV[i])
		if id ~= '' and not at[id] then
			ids[#ids + 1] = id
			at[id] = #ids
		end
	end
	local taken = {}
	for i = 1, #ids, 1000 do
		local sc = redis.call('ZMSCORE', Z, unpack(ids, i, math.min(i + 999, #ids)))
		for j = 1, #sc do
			if sc[j] then taken[ids[i + j - 1]] = true end
		end
	end
	local fresh, dups, held = {}, 0, {}
	for i = first, #ARGV do
		local ev = ARGV[i]
		local id = eventID(ev)
		if id == '' then
			fresh[#fresh + 1] = ev
		elseif taken[id] then
			dups = dups + 1
		else
			taken[id] = true
			fresh[#fresh + 1] = ev
			held[#held + 1] = 'inf'
			held[#held + 1] = id
		end
	end
	if #held > 0 then
		zaddAll(Z, held)
		redis.call('PEXPIRE', Z, seenTTL)
	end
	return fresh, dups
end

-- forget starts the dedup window of the IDs of evs, encoded events that
-- left the key now.
local function forget(evs)
	local ends = ceilUs(add(now, dedup))
	local args = {}
	for _, ev in ipairs(evs) do
		local id = eventID(ev)
		if id ~= '' then
			args[#args + 1] = ends
			args[#args + 1] = id
		end
	end
	if #args > 0 then
		zaddAll(Z, args)
		redis.call('PEXPIRE', Z, seenTTL)
	end
end

-- dueAt returns the key's due time (see alerts.LimitStore), or nil when it
-- is not due, with npend events pending: the earliest lease deadline and,
-- when events are pending and the limit does not wait only for leases,
-- the time it next allows a send, not before the retry time.
local function dueAt(npend)
	local at
	for _, l in ipairs(st.ls) do
		if not at or lt(l.d, at) then at = l.d end
	end
	if npend > 0 then
		local nx = nextAt(now)
		if lt(now, nx) or allow(now) then
			if st.r and lt(nx, st.r) then nx = st.r end
			if not at or lt(nx, at) then at = nx end
		end
	end
	return at
end

-- setDue puts the key in its bucket's due index at its due time, or takes
-- it out, in the same script as the decision: the index and the state
-- never disagree. This ends a claim of Due. The index lives at least the
-- key TTL after the last key it holds was written, so it outlives them.
local function setDue(npend)
	local at = dueAt(npend)
	if not at then
		redis.call('ZREM', D, member)
		return
	end
	redis.call('ZADD', D, ceilUs(at), member)
	if redis.call('PTTL', D) < tonumber(keyTTL) then redis.call('PEXPIRE', D, keyTTL) end
end

-- save sets the key's due time (setDue), then writes the state back, or
-- deletes it when it holds nothing (as the in-memory store forgets an idle
-- key). npend is the number of pending events if the caller knows it,
-- pushed whether this call appended events to the pending list. Only a
-- changed state is written (a decision that keeps an event for a cooling
-- key changes nothing but the pending list and the seen IDs).
--
-- The TTL rule (keyTTL is the configured TTL T plus the period, and T is
-- at least period + lease TTL + a minute): a pending event lives at least
-- T after it was appended, given back or returned by an expired lease, so
-- it never expires while it is younger than T, however long the key stays
-- in its cooling period with appends that change no state:
--   - every change of state renews the pending list's TTL to keyTTL, and
--     so does every append of the full path; the fast path sets it only
--     when it creates the list. The fast path appends only while the
--     cooling period the state last written holds has not ended, and that
--     end is at most one period after the write (normalize clamps it to
--     now + period), so an event it appends at t < write + period lives
--     until write + T + period > t + T;
--   - the state and the leased events are renewed together by every
--     change of state, so a lease's events live keyTTL after the lease was
--     taken, and outlive its deadline (now + lease TTL);
--   - the state may expire before the pending list; by then everything it
--     held (a cooling period, a count, a window, a lease) has ended in
--     real time, because each of them ends within period + lease TTL of
--     the write that started it, so a fresh state is the right one;
--   - the seen set gets seenTTL (at least keyTTL and the dedup window)
--     whenever the pending list or the state gets keyTTL (the fast path:
--     when it creates the pending list), and whenever the full path adds
--     an ID or starts its window: it outlives the events whose IDs it
--     holds as held, and keeps the ID of an event that left for the
--     window after it left;
--   - the due index, shared by the bucket's keys, is raised to keyTTL when
--     a key is put in it (setDue), so it outlives the keys it holds.
-- No key is ever left without a TTL.
local function save(npend, pushed)
	npend = npend or redis.call('LLEN', P)
	setDue(npend)
	-- A failure count or a retry time is kept as long as the in-memory
	-- store keeps its key: while the key remembers event IDs (the member
	-- '' is not one).
	if #st.ls == 0 and npend == 0 and idle(now) and
		((st.fl == 0 and not st.r) or redis.call('ZCARD', Z) == (redis.call('ZSCORE', Z, '') and 1 or 0)) then
		if f[1] then redis.call('DEL', S, P, E) end
		return
	end
	local w = {}
	for i, s in ipairs(st.w) do w[i] = enc(s) end
	local ls = {}
	for _, l in ipairs(st.ls) do
		ls[#ls + 1] = l.id
		ls[#ls + 1] = enc(l.d)
	end
	local us, un = '', ''
	if st.u then us, un = string.format('%d', st.u[1]), string.format('%d', st.u[2]) end
	local fc = ''
	if st.m == 'cooldown' and st.u and #st.ls == 0 and st.fl == 0 and not (st.r and lt(st.u, st.r)) then
		local fu, fl = fixed(st.u), fixed(st.l)
		if fu and fl then fc = fu .. fl end
	end
	local xs = {}
	for _, l in ipairs(st.x) do
		xs[#xs + 1] = l.id
		xs[#xs + 1] = enc(l.d)
	end
	local rt = ''
	if st.r then rt = enc(st.r) end
	local new = {st.m, string.format('%d', st.c), string.format('%d', st.l[1]), string.format('%d', st.l[2]),
		us, un, string.format('%d', st.h), table.concat(w, ' '), table.concat(ls, ' '), fc, table.concat(xs, ' '),
		rt, string.format('%d', st.fl)}
	local changed = false
	for i = 1, 13 do
		if new[i] ~= f[i] then changed = true break end
	end
	if changed then
		-- fc first: a small hash is a listpack, scanned in the order its
		-- fields were created, and the fast path reads only fc.
		redis.call('HSET', S, 'fc', new[10], 'm', new[1], 'c', new[2], 'ls', new[3], 'ln', new[4], 'us', new[5],
			'un', new[6], 'h', new[7], 'w', new[8], 'le', new[9], 'x', new[11], 'rt', new[12], 'fl', new[13])
		-- The fast path may run from now on: the seen set must exist, with
		-- the TTL set below.
		if fc ~= '' then redis.call('ZADD', Z, 'NX', 'inf', '') end
		redis.call('PEXPIRE', S, keyTTL)
		redis.call('PEXPIRE', P, keyTTL)
		redis.call('PEXPIRE', E, keyTTL)
		redis.call('PEXPIRE', Z, seenTTL)
	elseif pushed then
		redis.call('PEXPIRE', P, keyTTL)
		redis.call('PEXPIRE', Z, seenTTL)
	end
end

-- begin loads the state and expires the leases whose deadline is at or
-- before now: their events go back to the front of pending, in lease order,
-- and their slots count as sends made at their deadline (the holder may
-- have sent before it died); then it normalizes the state at now and
-- forgets the seen IDs whose window ended. Every operation starts with
-- it.
local function begin()
	f = redis.call('HMGET', S, 'm', 'c', 'ls', 'ln', 'us', 'un', 'h', 'w', 'le', 'fc', 'x', 'rt', 'fl')
	st = {
		m = f[1] or 'cooldown', c = tonumber(f[2] or '0'), l = {tonumber(f[3] or '0'), tonumber(f[4] or '0')},
		h = tonumber(f[7] or '0'), w = {}, ls = {}, x = {}, r = dec(f[12]), fl = tonumber(f[13] or '0'),
	}
	if f[5] and f[5] ~= '' then st.u = {tonumber(f[5]), tonumber(f[6])} end
	for v in string.gmatch(f[8] or '', '%S+') do st.w[#st.w + 1] = dec(v) end
	for field, list in pairs({[9] = st.ls, [11] = st.x}) do
		local i = 0
		local id
		for v in string.gmatch(f[field] or '', '%S+') do
			i = i + 1
			if i % 2 == 1 then id = v else list[#list + 1] = {id = id, d = dec(v)} end
		end
	end
	-- A policy of another mode drops the state of the old one (held slots stay).
	if st.m ~= mode then
		st.m, st.c, st.l, st.u, st.w = mode, 0, {0, 0}, nil, {}
	end
	do
		local back = {}
		local kept = {}
		for _, l in ipairs(st.ls) do
			if lt(now, l.d) then
				kept[#kept + 1] = l
			else
				for _, ev in ipairs(leaseEvents(l.id)) do back[#back + 1] = ev end
				redis.call('HDEL', E, l.id)
				commitAt(l.d)
				if #st.x == 16 then table.remove(st.x, 1) end
				st.x[#st.x + 1] = l
			end
		end
		st.ls = kept
		if #back > 0 then prepend(back) end
	end
	-- As the in-memory store, absorb a clock step backwards once.
	normalize(now)
	-- The IDs whose window ended are no longer duplicates.
	redis.call('ZREMRANGEBYSCORE', Z, '-inf', floorUs(now))
end

