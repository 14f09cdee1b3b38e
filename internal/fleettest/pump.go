package fleettest

import (
	"context"
	"sync"
	"time"

	"github.com/alertmail/alertmail/alerts"
)

// A pump sends what the frequency limit held back, once it is due: the
// part of a host that is not Dispatch.
type pump interface {
	// note tells the pump what a Dispatch or Flush of key returned.
	note(key alerts.LimitKey, res alerts.Result, err error)
	// run sends due emails until ctx ends.
	run(ctx context.Context)
	// idle reports whether nothing is left for the pump to send.
	idle() bool
}

// A flusher is the pump of a host that keeps a timer per key: it calls
// Flush for a key when the Result of its last Dispatch or Flush says the
// limit allows the next email (Result.Next), soon after a failed send,
// and at the lease's end after a store error (a lease left behind returns
// its events to pending then).
type flusher struct {
	d        *alerts.Dispatcher
	leaseTTL time.Duration
	onErr    func(alerts.LimitKey, alerts.Result, error) // a Flush that failed

	mu  sync.Mutex
	due map[alerts.LimitKey]time.Time
}

func newFlusher(d *alerts.Dispatcher, leaseTTL time.Duration, onErr func(alerts.LimitKey, alerts.Result, error)) *flusher {
	return &flusher{d: d, leaseTTL: leaseTTL, onErr: onErr, due: map[alerts.LimitKey]time.Time{}}
}

func (f *flusher) note(key alerts.LimitKey, res alerts.Result, err error) {
	now := time.Now()
	switch {
	case err != nil:
		f.at(key, now.Add(f.leaseTTL))
	case res.Outcome == alerts.Suppressed:
		f.at(key, res.Next)
	case res.Outcome == alerts.SendFailed, res.Outcome == alerts.NoRecipients:
		f.at(key, now.Add(200*time.Millisecond))
	case res.Pending > 0:
		f.at(key, now)
	}
}

// at makes key due at t, or earlier if it already is.
func (f *flusher) at(key alerts.LimitKey, t time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if cur, ok := f.due[key]; !ok || t.Before(cur) {
		f.due[key] = t
	}
}

func (f *flusher) run(ctx context.Context) {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		for _, key := range f.takeDue(time.Now()) {
			res, err := f.d.Flush(ctx, key.Tenant, key.Category)
			if ctx.Err() != nil {
				return
			}
			if err != nil {
				f.onErr(key, res, err)
			}
			f.note(key, res, err)
		}
	}
}

// takeDue removes and returns the keys due at now.
func (f *flusher) takeDue(now time.Time) []alerts.LimitKey {
	f.mu.Lock()
	defer f.mu.Unlock()
	var keys []alerts.LimitKey
	for k, t := range f.due {
		if !t.After(now) {
			keys = append(keys, k)
			delete(f.due, k)
		}
	}
	return keys
}

func (f *flusher) idle() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.due) == 0
}
