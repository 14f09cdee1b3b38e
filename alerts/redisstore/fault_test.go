package redisstore_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/alertmail/alertmail/alerts"
	"github.com/alertmail/alertmail/alerts/alertstest"
	"github.com/alertmail/alertmail/alerts/redisstore"
	"github.com/alertmail/alertmail/internal/redistest"
)

// faultReplica is a replica whose client gives up fast, as a host would
// configure it: a dead Redis must surface as an error, not a hang.
func faultReplica(t *testing.T, srv *redistest.Server, prefix string, clock alerts.Clock, n alerts.Notifier) *replica {
	t.Helper()
	client := redis.NewClient(&redis.Options{
		Addr: srv.Addr, MaxRetries: -1, PoolSize: 4,
		DialTimeout: 200 * time.Millisecond, ReadTimeout: 300 * time.Millisecond, WriteTimeout: 300 * time.Millisecond,
	})
	t.Cleanup(func() { client.Close() })
	st, err := redisstore.New(redisstore.Config{Client: client, Prefix: prefix})
	require.NoError(t, err, "redisstore.New")
	d, err := alerts.NewDispatcher(alerts.DispatcherConfig{
		Settings: st, Notifier: n, Store: st, Clock: clock, LeaseTTL: time.Minute,
	})
	require.NoError(t, err, "alerts.NewDispatcher")
	return &replica{store: st, d: d}
}

// faultHost is what a host does with Dispatch: an event whose Dispatch
// failed is kept and dispatched again later (here: after the outage).
type faultHost struct {
	mu      sync.Mutex
	fired   []string
	retry   []alerts.Event
	failed  map[string]bool // events whose Dispatch failed at least once
	unsure  map[string]bool // messages sent but not recorded
	errs    atomic.Int32
	opErrs  atomic.Int32
	lastErr atomic.Value
}

func (h *faultHost) dispatch(rep *replica, ev alerts.Event, first bool) bool {
	res, err := rep.d.Dispatch(context.Background(), ev)
	h.mu.Lock()
	defer h.mu.Unlock()
	if first {
		h.fired = append(h.fired, ev.ID)
	}
	if err == nil {
		return true
	}
	h.errs.Add(1)
	h.lastErr.Store(err.Error())
	if _, ok := errors.AsType[*redisstore.OpError](err); ok {
		h.opErrs.Add(1)
	}
	if res.Outcome == alerts.Sent {
		// Sent, but the store did not record it: the lease expires and the
		// events are sent again (same Message.ID); nothing to retry.
		h.unsure[res.MessageID] = true
		return true
	}
	h.failed[ev.ID] = true
	h.retry = append(h.retry, ev)
	return false
}

// TestFaultRestart restarts redis-server (with an append-only file, as a
// production Redis that must not lose state) while three replicas fire
// events. Calls during the outage fail with an *OpError wrapped by the
// dispatcher; the host keeps those events and dispatches them again once
// Redis is back. Nothing is lost: every event fired is covered by an email
// or pending; an event is covered twice only if a call for it failed
// (its first Take may have happened before the connection broke) or its
// email was sent but not recorded. At most 5 emails go out in the period.
func TestFaultRestart(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t, "--appendonly", "yes", "--appendfsync", "always")
	prefix := srv.Prefix(t)
	clock := alertstest.NewClock(t0)
	rec := alertstest.NewRecorder()
	var rs []*replica
	for range 3 {
		rs = append(rs, faultReplica(t, srv, prefix, clock, rec))
	}
	saveRecipients(t, rs[0].store, "acme")
	h := &faultHost{failed: map[string]bool{}, unsure: map[string]bool{}}
	fireThroughRestart(t, srv, rs, h, clock)
	require.NotZerof(t, h.opErrs.Load(), "no Dispatch failed with an *redisstore.OpError during the outage (errors: %d, last %v)", h.errs.Load(), h.lastErr.Load())
	// Redis is back: the host dispatches what failed, with backoff (a
	// go-redis pool that failed to dial waits up to a second before it
	// dials again), and it goes through.
	for _, ev := range h.retry {
		retryUntil(t, func() bool { return h.dispatch(rs[0], ev, false) })
	}
	require.LessOrEqualf(t, rec.Len(), alerts.DefaultLimit, "%d emails in one cooling period across a Redis restart; want at most %d", rec.Len(), alerts.DefaultLimit)
	// Leases of sends that were not recorded expire; the next period's
	// email carries everything pending.
	clock.Advance(alerts.DefaultPeriod + time.Minute)
	// The replicas' pools may still wait before they dial again: the host
	// retries with backoff here too.
	retryUntil(t, func() bool {
		_, err := rs[1].d.Flush(context.Background(), "acme", alerts.ActiveThreat)
		return err == nil
	})
	var pending []alerts.Event
	retryUntil(t, func() bool {
		var err error
		pending, err = rs[2].d.Drain(context.Background(), "acme", alerts.ActiveThreat)
		return err == nil
	})
	lost, doubled, twiceOK := h.coverage(rec.Messages(), pending)
	t.Logf("%d events fired, %d Dispatch errors (%d *OpError) during the outage, %d retried, %d emails, %d pending, %d covered twice after an unsure call",
		len(h.fired), h.errs.Load(), h.opErrs.Load(), len(h.retry), rec.Len(), len(pending), twiceOK)
	assert.Truef(t, lost == 0 && doubled == 0, "%d events lost, %d covered twice without a failed call; want 0 and 0", lost, doubled)
}

// fireThroughRestart has two workers per replica fire events through h
// while srv stops and starts again: 100 events before the outage, 20
// failed calls during it, and 100 after it.
func fireThroughRestart(t *testing.T, srv *redistest.Server, rs []*replica, h *faultHost, clock alerts.Clock) {
	var (
		wg      sync.WaitGroup
		stop    atomic.Bool
		fired   atomic.Int32
		downErr atomic.Int32
	)
	for r, rep := range rs {
		for w := range 2 {
			wg.Go(func() {
				for i := 0; !stop.Load(); i++ {
					ev := threat(fmt.Sprintf("r%d-w%d-%d", r, w, i), clock.Now())
					fired.Add(1)
					if !h.dispatch(rep, ev, true) {
						downErr.Add(1)
						time.Sleep(20 * time.Millisecond)
					}
				}
			})
		}
	}
	defer wg.Wait()
	defer stop.Store(true)
	waitFor(t, func() bool { return fired.Load() >= 100 })
	srv.Stop(t)
	waitFor(t, func() bool { return downErr.Load() >= 20 })
	srv.Restart(t)
	before := fired.Load()
	waitFor(t, func() bool { return fired.Load() >= before+100 })
}

// coverage counts, of the events h fired, those in none of the emails
// and pending events (lost), those in more than one without a failed
// call or an unsure send to excuse it (doubled), and those in more than
// one with an excuse (twiceOK).
func (h *faultHost) coverage(emails []alerts.Message, pending []alerts.Event) (lost, doubled, twiceOK int) {
	allowTwice := maps.Clone(h.failed)
	count := map[string]int{}
	for _, m := range emails {
		for _, ev := range m.Events {
			count[ev.ID]++
			if h.unsure[m.ID] {
				allowTwice[ev.ID] = true
			}
		}
	}
	for _, ev := range pending {
		count[ev.ID]++
	}
	for _, id := range h.fired {
		switch c := count[id]; {
		case c == 0:
			lost++
		case c > 1 && !allowTwice[id]:
			doubled++
		case c > 1:
			twiceOK++
		}
	}
	return lost, doubled, twiceOK
}

// TestFaultPause freezes redis-server (SIGSTOP: connections stay open,
// nothing answers, as in a network partition). Calls time out with an
// error; the events are kept by the host and go through once the server
// answers again, and nothing is lost.
func TestFaultPause(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	prefix := srv.Prefix(t)
	clock := alertstest.NewClock(t0)
	rec := alertstest.NewRecorder()
	rep := faultReplica(t, srv, prefix, clock, rec)
	saveRecipients(t, rep.store, "acme")
	h := &faultHost{failed: map[string]bool{}, unsure: map[string]bool{}}
	for i := range 3 {
		require.Truef(t, h.dispatch(rep, threat(fmt.Sprint("a", i), clock.Now()), true), "Dispatch before the pause: %v", h.lastErr.Load())
	}
	srv.Pause(t)
	for i := range 3 {
		require.False(t, h.dispatch(rep, threat(fmt.Sprint("b", i), clock.Now()), true), "Dispatch to a frozen server succeeded; want an error")
	}
	srv.Resume(t)
	for _, ev := range h.retry {
		retryUntil(t, func() bool { return h.dispatch(rep, ev, false) })
	}
	pending, err := rep.d.Drain(context.Background(), "acme", alerts.ActiveThreat)
	require.NoError(t, err, "Drain")
	var covered []string
	for _, m := range rec.Messages() {
		for _, ev := range m.Events {
			covered = append(covered, ev.ID)
		}
	}
	for _, ev := range pending {
		covered = append(covered, ev.ID)
	}
	t.Logf("%d errors while frozen (last: %v); %d emails, %d pending", h.errs.Load(), h.lastErr.Load(), rec.Len(), len(pending))
	// A timed-out Take may still have run once the server thawed: such an
	// event is then covered twice, never lost.
	count := map[string]int{}
	for _, id := range covered {
		count[id]++
	}
	for _, id := range h.fired {
		ok := count[id] == 1 || count[id] > 1 && h.failed[id]
		assert.Truef(t, ok, "event %s covered %d times; want once (twice only after a failed call)", id, count[id])
	}
}

// retryUntil calls f with backoff until it reports success, for at most
// ten seconds.
func retryUntil(t *testing.T, f func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for wait := 10 * time.Millisecond; !f(); wait = min(2*wait, 500*time.Millisecond) {
		if time.Now().After(deadline) {
			require.FailNow(t, "still failing 10s after Redis came back")
		}
		time.Sleep(wait)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			require.FailNow(t, "condition not met in 30s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
