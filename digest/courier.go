package digest

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/alertmail/alertmail/alerts"
)

// A courier is the sending part of a [Mailer]: the steps on the store and
// the notifier that send each digest once, however many mailers share the
// store (see the package doc's Guarantees). It is safe for concurrent use.
type courier struct {
	store     Store
	notifier  alerts.Notifier
	clock     alerts.Clock
	lease     time.Duration
	retention time.Duration
	log       *slog.Logger
}

// An attempt is one try at sending a tenant's digest of one day, from the
// claim of the lease to the commit. Each step that fails returns a
// [SendError], having released the lease where the next attempt should not
// wait for it.
type attempt struct {
	*courier
	tenant string
	day    Day
	token  string    // the lease's token, new for each attempt
	start  time.Time // when the attempt began
	until  time.Time // when the lease runs out
	// deduplicated counts the pending items of listed categories that
	// have no line of their own: repeats, and items reported already.
	deduplicated int
}

// claim begins an attempt at tenant's digest due now, by its schedule, and
// takes the lease on it. The attempt is valid whatever the status, so that
// its day can be read.
func (c *courier) claim(ctx context.Context, tenant string, sched Schedule) (attempt, ClaimStatus, error) {
	now := c.clock.Now()
	day, _ := sched.Due(now)
	a := attempt{courier: c, tenant: tenant, day: day, token: rand.Text(), start: now, until: now.Add(c.lease)}
	status, err := c.store.Claim(ctx, tenant, Claim{Day: day, Token: a.token, Now: now, Until: a.until})
	if err != nil {
		return a, 0, a.fail(fmt.Errorf("claim: %w", err))
	}
	return a, status, nil
}

// unreported returns the tenant's pending items collapsed into lines, less
// the lines reported within the retention and those of a category keep
// refuses (keep nil keeps all), with the lines' keys, and the number of the
// last pending item. The lines left out are covered by that number all the
// same: the commit removes their items.
func (a *attempt) unreported(ctx context.Context, keep func(alerts.CategoryID) bool) ([]line, []ItemKey, uint64, error) {
	items, through, err := a.store.Pending(ctx, a.tenant)
	if err != nil {
		return nil, nil, 0, a.release(ctx, fmt.Errorf("pending: %w", err))
	}
	lines := collapse(items)
	if keep != nil {
		lines = slices.DeleteFunc(lines, func(l line) bool { return !keep(l.category()) })
	}
	keys := make([]ItemKey, len(lines))
	for i := range lines {
		keys[i] = lines[i].key
	}
	reported, err := a.store.Reported(ctx, a.tenant, keys, a.start.Add(-a.retention))
	if err != nil {
		return nil, nil, 0, a.release(ctx, fmt.Errorf("reported: %w", err))
	}
	n := 0
	for i := range lines {
		a.deduplicated += lines[i].count
		if !reported[i] {
			lines[n], keys[n] = lines[i], keys[i]
			n++
		}
	}
	a.deduplicated -= n
	return lines[:n], keys[:n], through, nil
}

// deliver renews the lease, then hands msg to the notifier. It reports
// whether the notifier accepted msg; false with a nil error means another
// mailer has the digest now, and this one must leave it.
func (a *attempt) deliver(ctx context.Context, msg *alerts.Message) (bool, error) {
	if held, err := a.renew(ctx); !held {
		return false, err
	}
	// The lease bounds the send, so that no one takes over while it may
	// still succeed (as far as the clocks agree).
	sendCtx, cancel := context.WithTimeout(ctx, a.lease)
	err := a.notifier.Notify(sendCtx, msg)
	cancel()
	if err != nil {
		return false, a.release(ctx, fmt.Errorf("notify: %w", err))
	}
	return true, nil
}

// renew takes the lease again and reports whether this attempt still holds
// it. Building a large digest takes time, and if another mailer took over
// meanwhile (or already sent this day), this one must not send.
func (a *attempt) renew(ctx context.Context) (bool, error) {
	now := a.clock.Now()
	until := now.Add(a.lease)
	status, err := a.store.Claim(ctx, a.tenant, Claim{Day: a.day, Token: a.token, Now: now, Until: until})
	if err != nil {
		return false, a.release(ctx, fmt.Errorf("renew claim: %w", err))
	}
	if status != Claimed {
		a.log.LogAttrs(ctx, slog.LevelWarn, "digest lease lost while building; another mailer has it",
			slog.String("tenant", a.tenant), slog.String("day", a.day.String()), slog.String("status", status.String()))
		return false, nil
	}
	a.until = until
	return true, nil
}

// commit records the digest as done: the pending items through the one
// numbered through are removed, and keys are reported. It records even if
// ctx was cancelled meanwhile. When sent (the notifier accepted the email)
// a failure wraps [ErrNotRecorded] and keeps the lease, so that no other
// attempt sends again before it runs out.
func (a *attempt) commit(ctx context.Context, keys []ItemKey, through uint64, sent bool) error {
	done := a.clock.Now()
	if done.After(a.until) {
		a.log.LogAttrs(ctx, slog.LevelWarn, "digest lease ran out before the commit; another mailer may have sent it too",
			slog.String("tenant", a.tenant), slog.String("day", a.day.String()))
	}
	cctx, cancel := detached(ctx, a.lease)
	err := a.store.Commit(cctx, a.tenant, Commit{
		Day: a.day, Token: a.token, Through: through, Reported: keys,
		Now: done, ExpireBefore: done.Add(-a.retention),
	})
	cancel()
	switch {
	case err == nil:
		return nil
	case sent:
		return a.fail(fmt.Errorf("%w: commit: %w", ErrNotRecorded, err))
	}
	return a.release(ctx, fmt.Errorf("commit: %w", err))
}

// release ends the lease, so that the next attempt may start at once rather
// than when the lease runs out (which it does by itself if the release
// fails too), and returns the SendError of cause.
func (a *attempt) release(ctx context.Context, cause error) error {
	rctx, cancel := detached(ctx, a.lease)
	defer cancel()
	if err := a.store.Release(rctx, a.tenant, a.token); err != nil {
		return a.fail(errors.Join(cause, fmt.Errorf("release: %w", err)))
	}
	return a.fail(cause)
}

// fail returns the SendError of the attempt that err ended.
func (a *attempt) fail(err error) error {
	return &SendError{Tenant: a.tenant, Day: a.day, Err: err}
}

// detached returns a context for a store call that must happen even when
// ctx is cancelled (recording a sent email, releasing a lease, a last
// flush), bounded by d so that a hung store cannot hold the caller forever.
func detached(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), d)
}
