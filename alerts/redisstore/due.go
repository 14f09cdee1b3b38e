package redisstore

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/alertmail/alertmail/alerts"
	"github.com/alertmail/alertmail/internal/rediskey"
	"github.com/alertmail/alertmail/internal/redisscript"
)

// dueIndex is the name of each bucket's index of due keys,
// "<prefix>:{b:<bucket>}:due".
const dueIndex = "due"

// The elements of the reply of limit_due_peek.lua: {due, earliest}.
const (
	peekDue      = iota // the number of keys due
	peekEarliest        // the earliest due time in microseconds, '' for none
	peekLen
)

// Due implements [alerts.LimitStore.Due] over the due indexes of the
// buckets (see "The due index" in the package documentation), in two
// round trips of one script per bucket, pipelined (on a cluster client,
// split per master, so that every master's buckets are visited): the
// first counts the keys due in each bucket and reads its earliest due
// time; the second claims, starting from a bucket that changes with every
// call so that a full batch does not always favour the same buckets, as
// many keys of each bucket as are due and fit in max. No key is claimed
// that is not returned. When no key is due the second trip is not made.
// Within a bucket the keys come most overdue first.
func (s *Store) Due(ctx context.Context, now time.Time, max int, claim time.Duration) ([]alerts.LimitKey, time.Time, error) {
	if max <= 0 {
		return nil, time.Time{}, fmt.Errorf("redisstore: Due: max %d is not positive", max)
	}
	if claim <= 0 {
		return nil, time.Time{}, fmt.Errorf("redisstore: Due: claim %v is not positive", claim)
	}
	// Due times are stored rounded up to the microsecond, so now is
	// rounded down: a key is due exactly when its time is at or before now.
	nowUs := strconv.FormatInt(now.UnixMicro(), 10)
	peeks, err := s.peekBuckets(ctx, nowUs)
	if err != nil {
		return nil, time.Time{}, err
	}
	earliest := make([]int64, rediskey.Buckets) // math.MaxInt64: none
	var claims, counts []int
	start, budget := int(s.rotor.Add(1)%rediskey.Buckets), max
	for i := range rediskey.Buckets {
		b := (start + i) % rediskey.Buckets
		a, err := peeks[b].Array(peekLen)
		if err != nil {
			return nil, time.Time{}, err
		}
		n := a.Int(peekDue, "the keys due")
		e, err := score(a.Text(peekEarliest, "the earliest due time"))
		if err == nil {
			err = a.Err()
		}
		if err != nil {
			return nil, time.Time{}, fmt.Errorf("redisstore: limiter due: %w", err)
		}
		earliest[b] = e
		if n > 0 && budget > 0 {
			take := int(min(n, int64(budget)))
			claims, counts = append(claims, b), append(counts, take)
			budget -= take
		}
	}
	var keys []alerts.LimitKey
	if len(claims) > 0 {
		untilUs := strconv.FormatInt(ceilMicro(now.Add(claim)), 10)
		replies, err := s.runBuckets(ctx, "limiter due", s.dueClaim, claims, func(i int) []any { return []any{nowUs, untilUs, counts[i]} })
		if err != nil {
			return nil, time.Time{}, err
		}
		for i, r := range replies {
			a, err := r.Array(1)
			if err != nil {
				return nil, time.Time{}, err
			}
			e, err := score(a.Text(0, "the earliest due time"))
			members := a.Texts(1, "a due key")
			if err == nil {
				err = a.Err()
			}
			if err != nil {
				return nil, time.Time{}, fmt.Errorf("redisstore: limiter due: %w", err)
			}
			earliest[claims[i]] = e
			for _, m := range members {
				tenant, cat, err := rediskey.ParseMember(m)
				if err != nil {
					return nil, time.Time{}, fmt.Errorf("redisstore: limiter due: member %q: %w", m, err)
				}
				keys = append(keys, alerts.LimitKey{Tenant: tenant, Category: alerts.CategoryID(cat)})
			}
		}
	}
	next := int64(math.MaxInt64)
	for _, e := range earliest {
		next = min(next, e)
	}
	if next == math.MaxInt64 {
		return keys, time.Time{}, nil
	}
	return keys, time.UnixMicro(next), nil
}

// peekBuckets returns, for each bucket, the number of keys due at nowUs
// and the earliest due time of its index: two plain commands per bucket,
// pipelined (the script of limit_due_peek.lua when the client cannot
// pipeline).
func (s *Store) peekBuckets(ctx context.Context, nowUs string) ([]redisscript.Reply, error) {
	out := make([]redisscript.Reply, rediskey.Buckets)
	pl, ok := s.client.(interface{ Pipeline() redis.Pipeliner })
	if !ok {
		for b := range out {
			r, err := s.conn.Run(ctx, "limiter due", s.duePeek, []string{s.dueKeys[b]}, nowUs)
			if err != nil {
				return nil, err
			}
			out[b] = r
		}
		return out, nil
	}
	pipe := pl.Pipeline()
	counts := make([]*redis.IntCmd, rediskey.Buckets)
	firsts := make([]*redis.ZSliceCmd, rediskey.Buckets)
	for b := range out {
		counts[b] = pipe.ZCount(ctx, s.dueKeys[b], "-inf", nowUs)
		firsts[b] = pipe.ZRangeWithScores(ctx, s.dueKeys[b], 0, 0)
	}
	pipe.Exec(ctx) // each command's error is read below
	for b := range out {
		n, err := counts[b].Result()
		if err != nil {
			return nil, &OpError{Op: "limiter due", Err: err}
		}
		first, err := firsts[b].Result()
		if err != nil {
			return nil, &OpError{Op: "limiter due", Err: err}
		}
		earliest := ""
		if len(first) > 0 {
			earliest = strconv.FormatFloat(first[0].Score, 'f', -1, 64)
		}
		out[b] = redisscript.NewReply("limiter due", []any{n, earliest})
	}
	return out, nil
}

// runBuckets runs script on the due index of each bucket of buckets, with
// the arguments args(i) for buckets[i], and returns the replies in the
// same order. It pipelines the calls when the client can (every client of
// go-redis can: *redis.Client, *redis.ClusterClient, *redis.Ring and the
// AutoPipeliner), by SHA1 first and by source for those the server lacks.
func (s *Store) runBuckets(ctx context.Context, op string, script *redis.Script, buckets []int, args func(i int) []any) ([]redisscript.Reply, error) {
	out := make([]redisscript.Reply, len(buckets))
	pl, ok := s.client.(interface{ Pipeline() redis.Pipeliner })
	if !ok {
		for i, b := range buckets {
			r, err := s.conn.Run(ctx, op, script, []string{s.dueKeys[b]}, args(i)...)
			if err != nil {
				return nil, err
			}
			out[i] = r
		}
		return out, nil
	}
	cmds := make([]*redis.Cmd, len(buckets))
	pipe := pl.Pipeline()
	for i, b := range buckets {
		cmds[i] = script.EvalSha(ctx, pipe, []string{s.dueKeys[b]}, args(i)...)
	}
	pipe.Exec(ctx) // each command's error is read below
	var missing []int
	for i, cmd := range cmds {
		if redis.HasErrorPrefix(cmd.Err(), "NOSCRIPT") {
			missing = append(missing, i)
		}
	}
	if len(missing) > 0 {
		// A server restarted or flushed: send the source to those.
		pipe = pl.Pipeline()
		for _, i := range missing {
			cmds[i] = script.Eval(ctx, pipe, []string{s.dueKeys[buckets[i]]}, args(i)...)
		}
		pipe.Exec(ctx)
	}
	for i, cmd := range cmds {
		if err := cmd.Err(); err != nil {
			return nil, &OpError{Op: op, Err: err}
		}
		out[i] = redisscript.NewReply(op, cmd.Val())
	}
	return out, nil
}

// score reads a due time in microseconds as the scripts return it (a
// sorted set's score), or math.MaxInt64 for the empty string (none).
func score(s string) (int64, error) {
	if s == "" {
		return math.MaxInt64, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f != math.Trunc(f) || math.Abs(f) > 1<<53 {
		return 0, fmt.Errorf("due time %q is not a whole number of microseconds", s)
	}
	return int64(f), nil
}

// ceilMicro returns t in Unix microseconds, rounded up.
func ceilMicro(t time.Time) int64 {
	us := t.UnixMicro()
	if t.Nanosecond()%1000 != 0 {
		us++
	}
	return us
}
