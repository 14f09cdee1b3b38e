package redisstore_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/alertmail/alertmail/alerts"
	"github.com/alertmail/alertmail/alerts/redisstore"
	"github.com/alertmail/alertmail/internal/rediskey"
	"github.com/alertmail/alertmail/internal/redistest"
)

// dueTwin runs the same steps on the Redis store and on the in-memory
// store, the reference of the contract, and compares their answers.
type dueTwin struct {
	t      *testing.T
	ctx    context.Context
	red    *redisstore.Store
	mem    *alerts.MemoryLimitStore
	client redis.Cmdable
	prefix string
	keys   []alerts.LimitKey
	limits []alerts.FrequencyLimit
	leases [][][2]string // per key: the leases taken on both, {memory, Redis}
	step   int
	log    []string
}

// newDueTwin returns a twin of a new Redis store on srv (through client)
// and a new in-memory store, both with a dedup window of two hours.
func newDueTwin(t *testing.T, srv redistest.Keyspace, client redis.UniversalClient) *dueTwin {
	const window = 2 * time.Hour
	red, prefix := newStore(t, srv, redisstore.Config{Client: client, DedupWindow: window})
	w := &dueTwin{t: t, ctx: context.Background(), red: red, mem: &alerts.MemoryLimitStore{DedupWindow: window},
		client: client, prefix: prefix}
	w.keys = []alerts.LimitKey{
		{Tenant: "acme", Category: alerts.ActiveThreat},
		{Tenant: "initech", Category: alerts.Threat},
		{Tenant: "a:b}*", Category: "x:y"},
	}
	w.limits = []alerts.FrequencyLimit{
		{Max: 2, Period: time.Hour},
		{Mode: alerts.SlidingWindow, Max: 2, Period: 30 * time.Minute},
		{Max: 1, Period: 10 * time.Minute},
	}
	w.leases = make([][][2]string, len(w.keys))
	return w
}

// fail reports a disagreement with the steps that led to it.
func (w *dueTwin) fail(format string, args ...any) {
	w.t.Helper()
	w.t.Fatalf("step %d: %s\nsteps:\n%s", w.step, fmt.Sprintf(format, args...), strings.Join(w.log[max(0, len(w.log)-15):], "\n"))
}

func (w *dueTwin) logf(format string, args ...any) {
	w.log = append(w.log, fmt.Sprintf("%4d ", w.step)+fmt.Sprintf(format, args...))
}

// sameErr compares the errors of the two stores: both nil, or both
// alerts.ErrLeaseExpired.
func (w *dueTwin) sameErr(op string, em, er error) {
	w.t.Helper()
	if errors.Is(em, alerts.ErrLeaseExpired) && errors.Is(er, alerts.ErrLeaseExpired) {
		return
	}
	if em != nil || er != nil {
		w.fail("%s: memory error %v, Redis error %v", op, em, er)
	}
}

// sameCount compares the counts and errors the two stores answered op.
func (w *dueTwin) sameCount(op string, nm, nr int, em, er error) {
	w.t.Helper()
	w.sameErr(op, em, er)
	if nm != nr {
		w.fail("%s: memory %d, Redis %d", op, nm, nr)
	}
}

// grant compares two Grants, the lease ids aside, and records a lease
// taken on both.
func (w *dueTwin) grant(op string, k int, gm, gr alerts.Grant, em, er error) {
	w.t.Helper()
	w.sameErr(op, em, er)
	same := (gm.Lease == "") == (gr.Lease == "") && slices.Equal(eventIDs(gm.Events), eventIDs(gr.Events)) &&
		gm.Deadline.Equal(gr.Deadline) && gm.Pending == gr.Pending && gm.Next.Equal(gr.Next) &&
		gm.Duplicates == gr.Duplicates && gm.Failures == gr.Failures
	if !same {
		w.fail("%s: memory %+v, Redis %+v", op, gm, gr)
	}
	if gm.Lease != "" {
		w.leases[k] = append(w.leases[k], [2]string{gm.Lease, gr.Lease})
	}
}

// events returns n events of key k with ids from a pool small enough to
// repeat; some have no ID.
func (w *dueTwin) events(r *rand.Rand, k, n int) []alerts.Event {
	evs := make([]alerts.Event, n)
	for i := range evs {
		id := ""
		if r.IntN(5) > 0 {
			id = fmt.Sprint("e", r.IntN(30))
		}
		evs[i] = alerts.Event{ID: id, Tenant: w.keys[k].Tenant, Category: w.keys[k].Category, Score: 5, Summary: "s" + id, Time: t0}
	}
	return evs
}

// run does one random step at now.
func (w *dueTwin) run(r *rand.Rand, now time.Time) {
	ctx := w.ctx
	k := r.IntN(len(w.keys))
	key, p := w.keys[k], w.limits[k]
	switch op := r.IntN(20); {
	case op < 6:
		evs := w.events(r, k, r.IntN(3))
		w.logf("%v Take(%v, %q)", now, key, eventIDs(evs))
		gm, em := w.mem.Take(ctx, key, p, now, time.Minute, evs)
		gr, er := w.red.Take(ctx, key, p, now, time.Minute, evs)
		w.grant("Take", k, gm, gr, em, er)
	case op < 8:
		evs := w.events(r, k, 1+r.IntN(2))
		w.logf("%v Queue(%v, %q)", now, key, eventIDs(evs))
		gm, em := w.mem.Queue(ctx, key, p, now, evs)
		gr, er := w.red.Queue(ctx, key, p, now, evs)
		w.grant("Queue", k, gm, gr, em, er)
	case op < 13:
		l := [2]string{"nope", "nope"}
		if n := len(w.leases[k]); n > 0 && r.IntN(8) > 0 {
			i := r.IntN(n)
			l = w.leases[k][i]
			w.leases[k] = slices.Delete(w.leases[k], i, i+1)
		}
		switch r.IntN(4) {
		case 0, 1:
			w.logf("%v Commit(%v, %s)", now, key, l[0])
			w.sameErr("Commit", w.mem.Commit(ctx, key, p, l[0], now), w.red.Commit(ctx, key, p, l[1], now))
		case 2:
			retry := now.Add(time.Duration(r.IntN(20)) * time.Minute)
			w.logf("%v GiveBack(%v, %s, retry %v)", now, key, l[0], retry)
			w.sameErr("GiveBack", w.mem.GiveBack(ctx, key, p, l[0], now, retry), w.red.GiveBack(ctx, key, p, l[1], now, retry))
		default:
			w.logf("%v Undeliver(%v, %s)", now, key, l[0])
			nm, em := w.mem.Undeliver(ctx, key, p, l[0], now)
			nr, er := w.red.Undeliver(ctx, key, p, l[1], now)
			w.sameCount("Undeliver", nm, nr, em, er)
		}
	case op < 14:
		w.logf("%v Drain(%v)", now, key)
		em, errm := w.mem.Drain(ctx, key, p, now)
		er, errr := w.red.Drain(ctx, key, p, now)
		w.sameErr("Drain", errm, errr)
		if !slices.Equal(eventIDs(em), eventIDs(er)) {
			w.fail("Drain: memory %q, Redis %q", eventIDs(em), eventIDs(er))
		}
	case op < 15:
		w.logf("%v Drop(%v)", now, key)
		nm, em := w.mem.Drop(ctx, key, p, now)
		nr, er := w.red.Drop(ctx, key, p, now)
		w.sameCount("Drop", nm, nr, em, er)
	case op < 16:
		w.logf("%v Requeue(%v)", now, key)
		nm, em := w.mem.Requeue(ctx, key, p, now)
		nr, er := w.red.Requeue(ctx, key, p, now)
		w.sameCount("Requeue", nm, nr, em, er)
	default:
		w.due(now)
	}
}

// due compares what Due at now returns on both stores.
func (w *dueTwin) due(now time.Time) {
	w.t.Helper()
	w.logf("%v Due", now)
	km, nm, em := w.mem.Due(w.ctx, now, 10, 5*time.Minute)
	kr, nr, er := w.red.Due(w.ctx, now, 10, 5*time.Minute)
	w.sameErr("Due", em, er)
	slices.SortFunc(km, func(a, b alerts.LimitKey) int { return strings.Compare(a.String(), b.String()) })
	slices.SortFunc(kr, func(a, b alerts.LimitKey) int { return strings.Compare(a.String(), b.String()) })
	if !slices.Equal(km, kr) || !nm.Equal(nr) {
		w.fail("Due: memory %v next %v, Redis %v next %v", km, nm, kr, nr)
	}
}

// agree checks that the due index of Redis agrees with the state of each
// key, read from Redis itself: a key is in its bucket's index exactly when
// it has events pending or a lease out.
func (w *dueTwin) agree() {
	w.t.Helper()
	ks, err := rediskey.NewSpace(w.prefix)
	require.NoError(w.t, err)
	for _, key := range w.keys {
		keys, member, err := ks.BucketKeys(key.Tenant, "category", string(key.Category), "lim", "pend")
		require.NoError(w.t, err)
		index := ks.BucketIndex(rediskey.Bucket(key.Tenant), "due")
		_, err = w.client.ZScore(w.ctx, index, member).Result()
		if err != nil && err != redis.Nil {
			w.t.Fatalf("ZSCORE %s %s: %v", index, member, err)
		}
		indexed := err == nil
		pending, err := w.client.LLen(w.ctx, keys[1]).Result()
		require.NoError(w.t, err)
		leases, err := w.client.HGet(w.ctx, keys[0], "le").Result()
		if err != nil && err != redis.Nil {
			w.t.Fatalf("HGET %s le: %v", keys[0], err)
		}
		if indexed != (pending > 0 || leases != "") {
			w.fail("%v: in the due index %v, with %d pending and leases %q", key, indexed, pending, leases)
		}
	}
}

// TestLimitDueIndexAgrees runs random steps (Take, Queue, Commit,
// GiveBack, Undeliver, Drain, Drop, Requeue, Due) on three keys, with the
// time moving on, on the Redis store and on the in-memory store. After
// every step the two must have answered alike, Due must return the same
// keys and the same next due time from both (the in-memory store's due
// heap is the reference), and the Redis due index must agree with the
// Redis state: nothing kills a script half-way, since every step updates
// the index in the script of the decision.
func TestLimitDueIndexAgrees(t *testing.T) {
	t.Parallel()
	srv := redistest.New(t)
	for seed := range uint64(3) {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			t.Parallel()
			w := newDueTwin(t, srv, srv.Client(t))
			r := rand.New(rand.NewPCG(seed, 16))
			now := t0
			for w.step = range 400 {
				now = now.Add(time.Duration(r.IntN(240)) * time.Second)
				if r.IntN(40) == 0 {
					now = now.Add(time.Hour)
				}
				w.run(r, now)
				w.agree()
				if w.step%10 == 9 {
					w.due(now)
				}
			}
		})
	}
}

// TestLimitDueIndexCut loses the reply of each kind of limiter call after
// the server ran its script (go-redis sends the call again on a new
// connection, as after any connection error): the index still agrees with
// the state after each, and no due time is lost. A Due whose reply is lost
// leaves the keys it claimed due again when the claim ends.
func TestLimitDueIndexCut(t *testing.T) {
	t.Parallel()
	srv := redistest.New(t)
	proxy := newCutProxy(t, srv.Addr)
	client := redis.NewClient(&redis.Options{Addr: proxy.ln.Addr().String(), MaxRetries: 3})
	t.Cleanup(func() { client.Close() })
	w := newDueTwin(t, srv, client)
	ctx := context.Background()
	key, p := w.keys[0], w.limits[0] // 2 per hour
	ls := w.red
	ev := func(id string) []alerts.Event {
		return []alerts.Event{{ID: id, Tenant: key.Tenant, Category: key.Category, Score: 9, Time: t0}}
	}
	// Run every script once, so that the server has them: the cut reply
	// must be that of a run, not a NOSCRIPT answer to EVALSHA.
	warm := alerts.LimitKey{Tenant: "warm", Category: alerts.ActiveThreat}
	_ = ls.GiveBack(ctx, warm, p, "none", t0, t0)
	_, err := ls.Drain(ctx, warm, p, t0)
	require.NoError(t, err, "Drain")
	_, err = ls.Requeue(ctx, warm, p, t0)
	require.NoError(t, err, "Requeue")
	_, err = ls.Queue(ctx, warm, p, t0, []alerts.Event{{ID: "w"}})
	require.NoError(t, err, "Queue")
	keys, _, err := ls.Due(ctx, t0, 1, time.Minute) // claims warm
	require.NoError(t, err, "Due")
	require.Equalf(t, []alerts.LimitKey{warm}, keys, "Due(t0) = %v; want %v", keys, warm)
	_, err = ls.Drain(ctx, warm, p, t0)
	require.NoError(t, err, "Drain")

	cut := func(name string, f func() error) {
		t.Helper()
		before := proxy.cuts.Load()
		proxy.cut.Store(true)
		require.NoErrorf(t, f(), "retried %s; want the first run's answer", name)
		require.Equalf(t, before+1, proxy.cuts.Load(), "the proxy did not cut the reply of %s", name)
		w.agree()
	}
	due := func(now time.Time, want ...alerts.LimitKey) {
		t.Helper()
		keys, _, err := ls.Due(ctx, now, 10, time.Hour)
		require.NoErrorf(t, err, "Due(%v)", now)
		assert.ElementsMatchf(t, want, keys, "Due(%v) = %v; want %v", now, keys, want)
	}

	var g alerts.Grant
	cut("Take", func() (err error) { g, err = ls.Take(ctx, key, p, t0, time.Minute, ev("a")); return err })
	require.NotEmptyf(t, g.Lease, "retried Take(a) = %+v; want a lease", g)
	due(t0)
	due(g.Deadline, key) // the lease's deadline, claimed for an hour
	cut("Commit", func() error { return ls.Commit(ctx, key, p, g.Lease, t0) })
	due(t0.Add(2 * time.Hour))

	g, err = ls.Take(ctx, key, p, t0, time.Minute, ev("b"))
	require.NoError(t, err, "Take(b)")
	require.NoError(t, ls.Commit(ctx, key, p, g.Lease, t0), "Commit(b)")
	// Cooling until t0+1h: a suppressed Take (the fast path appends to
	// an empty pending list), cut. The retry finds c's ID held: c is
	// pending once.
	cut("Take while cooling", func() (err error) { g, err = ls.Take(ctx, key, p, t0, time.Minute, ev("c")); return err })
	assert.Truef(t, g.Lease == "" && g.Pending == 1, "retried Take(c) while cooling = %+v; want c pending, once", g)
	due(t0.Add(time.Hour - time.Second))
	cut("Queue while cooling", func() (err error) { g, err = ls.Queue(ctx, key, p, t0, ev("d")); return err })
	assert.Equalf(t, 2, g.Pending, "retried Queue(d) = %+v; want 2 pending", g)
	end := t0.Add(time.Hour)
	// Cut the reply of the claims: the second holding the key's member,
	// after that of the first round trip (the earliest member of each
	// bucket), which claims nothing.
	_, member, err := rediskey.Space{}.BucketKeys(key.Tenant, "category", string(key.Category), "lim")
	require.NoError(t, err)
	proxy.skip.Store(1)
	proxy.only.Store(&member)
	cut("Due", func() (err error) { keys, _, err = ls.Due(ctx, end, 10, time.Hour); return err })
	proxy.only.Store(nil)
	// The first run claimed the key; its reply was lost, and the retry
	// found nothing due. The key is due again when the claim ends.
	assert.Emptyf(t, keys, "retried Due at the end of cooling = %v; want none (the lost run claimed the key)", keys)
	due(end.Add(time.Hour - time.Second))
	due(end.Add(time.Hour), key)

	now := end.Add(time.Hour)
	g, err = ls.Take(ctx, key, p, now, time.Minute, nil)
	require.NoError(t, err, "Take")
	require.Equalf(t, []string{"c", "d"}, eventIDs(g.Events), "Take after the cooling = %+v; want c and d", g)
	retry := now.Add(10 * time.Minute)
	cut("GiveBack", func() error { return ls.GiveBack(ctx, key, p, g.Lease, now, retry) })
	due(retry.Add(-time.Second))
	due(retry, key)
	g, err = ls.Take(ctx, key, p, retry, time.Minute, nil)
	require.NoError(t, err, "Take after the retry")
	assert.Equalf(t, 1, g.Failures, "Take after a retried GiveBack: Failures = %d; want 1 (counted once)", g.Failures)
	cut("Undeliver", func() error { _, err := ls.Undeliver(ctx, key, p, g.Lease, retry); return err })
	due(retry.Add(2 * time.Hour))
	cut("Requeue", func() error { _, err := ls.Requeue(ctx, key, p, retry); return err })
	due(retry, key)
	var evs []alerts.Event
	cut("Drain", func() (err error) { evs, err = ls.Drain(ctx, key, p, retry); return err })
	assert.Equalf(t, []string{"c", "d"}, eventIDs(evs), "retried Drain = %q; want [c d]", eventIDs(evs))
	due(retry.Add(3 * time.Hour))
}
