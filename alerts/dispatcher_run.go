package alerts

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"sync"
	"time"
)

// The defaults of the pipeline's settings in DispatcherConfig.
const (
	defaultRetryBackoff     = 30 * time.Second
	defaultMaxRetryBackoff  = 30 * time.Minute
	defaultPollInterval     = 5 * time.Second
	defaultFlushConcurrency = 8
)

// dueBatch is how many keys FlushDue claims from the store at a time.
const dueBatch = 64

// ErrRunning is returned by [Dispatcher.Run] when the Dispatcher is
// running already: one Run per Dispatcher (replicas each run their own).
var ErrRunning = errors.New("alerts: Dispatcher.Run is running already")

// A DueReport says what [Dispatcher.FlushDue] did.
type DueReport struct {
	// Keys is the number of due keys flushed.
	Keys int
	// Sent is the number of emails sent.
	Sent int
	// Failed is the number of keys whose flush returned an error (each
	// logged, the first in FlushDue's error), or whose email was not sent
	// ([SendFailed], [Undeliverable]).
	Failed int
	// Next is the earliest due time of any key, as the store last told
	// it; zero when nothing was due. FlushDue sends nothing before it
	// unless the keys change meanwhile.
	Next time.Time
}

// FlushDue sends what is due now: it asks the store for the keys whose
// due time has come (see [LimitStore]), claiming them so that replicas
// flushing at the same time each take a different key, and flushes each
// as [Dispatcher.Flush] does, up to [DispatcherConfig.FlushConcurrency]
// at once. The events of a category no longer in the catalog stay pending
// (its key falls due again a lease TTL later, logged at Warn each time)
// until the host drains them with [Dispatcher.Drain].
//
// The error reports that the store could not be asked (nothing was
// flushed after that), or that some keys' flushes failed: the first
// failure, with the count; each is also logged. A key that failed falls
// due again: it is never lost.
func (d *Dispatcher) FlushDue(ctx context.Context) (DueReport, error) {
	var (
		rep   DueReport
		mu    sync.Mutex // guards rep and first
		first error
	)
	record := func(res Result, err error) {
		mu.Lock()
		defer mu.Unlock()
		rep.Keys++
		switch {
		case err != nil:
			rep.Failed++
			if first == nil {
				first = err
			}
		case res.Outcome == Sent:
			rep.Sent++
		case res.Outcome == SendFailed || res.Outcome == Undeliverable:
			rep.Failed++
		}
	}
	sem := make(chan struct{}, d.workers)
	var wg sync.WaitGroup
	// Batch after batch, until the store has nothing due: the last answer
	// tells the next due time after the flushes.
	for ctx.Err() == nil {
		keys, next, err := d.store.Due(ctx, d.clock.Now(), dueBatch, d.leaseTTL)
		if err != nil {
			return rep, fmt.Errorf("alerts: asking the store which keys are due: %w", err)
		}
		rep.Next = next
		if len(keys) == 0 {
			break
		}
		for _, key := range keys {
			sem <- struct{}{}
			wg.Go(func() {
				defer func() { <-sem }()
				res, err := d.Flush(ctx, key.Tenant, key.Category)
				if err != nil {
					level := slog.LevelError
					if errors.Is(err, ErrUnknownCategory) {
						level = slog.LevelWarn
					}
					d.log.LogAttrs(ctx, level, "alerts: flushing a due key failed; it falls due again", slog.String("key", key.String()), slog.Any("error", err))
				}
				record(res, err)
			})
		}
		wg.Wait()
	}
	if first != nil {
		return rep, fmt.Errorf("alerts: %d of %d due keys failed; the first: %w", rep.Failed, rep.Keys, first)
	}
	return rep, ctx.Err()
}

// Run sends the due work of the store until ctx is done, then returns
// ctx's error: it calls [Dispatcher.FlushDue], sleeps until the earliest
// due time the store reports, or [DispatcherConfig.PollInterval] at most,
// and again. A due time this Dispatcher sets meanwhile (an event
// suppressed or queued, a failed send's retry) wakes it early if it comes
// first. Errors are logged, and the loop goes on: a store that cannot be
// reached is asked again after PollInterval.
//
// Every replica of a service runs Run on its own Dispatcher; the store
// gives each due key to one of them. The host then never keeps a timer
// per key, and no event waits for a call that nobody makes. Run sleeps on
// the standard library's timers for durations measured by the Clock (see
// [DispatcherConfig.Clock]), so testing/synctest drives it in fake time.
// A Dispatcher runs one Run at a time; another returns [ErrRunning].
func (d *Dispatcher) Run(ctx context.Context) error {
	if !d.running.CompareAndSwap(false, true) {
		return ErrRunning
	}
	defer d.running.Store(false)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		d.soonest.Store(math.MaxInt64)
		rep, err := d.FlushDue(ctx)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil {
			d.log.LogAttrs(ctx, slog.LevelError, "alerts: flushing due keys", slog.Int("keys", rep.Keys), slog.Int("failed", rep.Failed), slog.Any("error", err))
		}
		now := d.clock.Now().UnixNano()
		at := now + int64(d.poll)
		if !rep.Next.IsZero() {
			at = min(at, rep.Next.UnixNano())
		}
		// A due time set since FlushDue began, or while arming the alarm,
		// comes first; due() reads wakeAt after storing soonest.
		d.wakeAt.Store(at)
		if at = min(at, d.soonest.Load()); at > now {
			timer.Reset(time.Duration(at - now))
			select {
			case <-ctx.Done():
			case <-timer.C:
			case <-d.wake:
			}
			timer.Stop()
		}
		d.wakeAt.Store(0)
	}
}

// due tells Run that a key falls due at t: Run wakes if it sleeps past t.
func (d *Dispatcher) due(t time.Time) {
	if t.IsZero() {
		return
	}
	at := t.UnixNano()
	for {
		cur := d.soonest.Load()
		if at >= cur || d.soonest.CompareAndSwap(cur, at) {
			break
		}
	}
	if w := d.wakeAt.Load(); w != 0 && at < w {
		select {
		case d.wake <- struct{}{}:
		default: // an alarm is set already
		}
	}
}

// A backoff spaces the retries of a key's failed sends.
type backoff struct {
	first, max time.Duration
}

// newBackoff returns the backoff of DispatcherConfig's RetryBackoff and
// MaxRetryBackoff (0: the defaults).
func newBackoff(first, max time.Duration) backoff {
	b := backoff{first: cmp.Or(first, defaultRetryBackoff), max: cmp.Or(max, defaultMaxRetryBackoff)}
	if b.max < b.first {
		b.max = b.first
	}
	return b
}

// after returns the delay before the retry that follows the n-th failure
// in a row (n >= 1): first doubled n-1 times, capped at max, drawn at
// random from its upper half.
func (b backoff) after(n int) time.Duration {
	d := b.first
	for i := 1; i < n && d < b.max; i++ {
		d *= 2
	}
	d = min(d, b.max)
	return d/2 + rand.N(d/2+1)
}
