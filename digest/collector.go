package digest

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/alertmail/alertmail/alerts"
)

// A Collector gathers items for the digests. Add costs a lock and an
// append: nothing is hashed and no I/O happens until [Collector.Flush]
// hands the buffered items to the [Store] in one batch per tenant. A
// [Mailer] flushes its own collector before each build, and [Mailer.Run]
// flushes it periodically; a process that only collects calls Flush
// itself (from a ticker, and before it exits).
//
// Items still in the buffer live only in this process: they are lost if it
// dies before a flush, and other replicas' mailers see them only after it.
// That is the price of a cheap Add. Where an item must survive a crash as
// soon as the call returns, add it with [Append] instead, which writes to
// the store at once (both can feed the same store).
//
// While the store refuses appends, the buffer keeps every item (nothing is
// dropped) and so grows with what is added; [Collector.Len] tells how much
// is waiting, and the error of Flush says why.
//
// A Collector is made by [NewCollector] or [Mailer.Collector]; its zero
// value is not usable. It is safe for concurrent use.
type Collector struct {
	store Store

	mu    sync.Mutex
	buf   map[string][]Item
	count int
	spare [][]Item // emptied buffers of earlier flushes, to append to again

	flush sync.Mutex // one flush at a time keeps each tenant's items in order
}

// NewCollector returns a collector that flushes to store, which must not be
// nil.
func NewCollector(store Store) *Collector {
	return &Collector{store: store, buf: make(map[string][]Item)}
}

// Add buffers it for its tenant's digest. The error, wrapping
// [ErrInvalidItem], names a missing Tenant or Time; the item is not kept.
func (c *Collector) Add(it Item) error {
	if err := it.validate(); err != nil {
		return err
	}
	c.mu.Lock()
	c.addLocked(it)
	c.mu.Unlock()
	return nil
}

// addLocked buffers it, in a spare buffer if its tenant has none yet. The
// caller holds c.mu.
func (c *Collector) addLocked(it Item) {
	b, ok := c.buf[it.Tenant]
	if !ok && len(c.spare) > 0 {
		b = c.spare[len(c.spare)-1]
		c.spare = c.spare[:len(c.spare)-1]
	}
	c.buf[it.Tenant] = append(b, it)
	c.count++
}

// Spare buffers are kept up to these limits, so that a burst does not pin
// its memory for good.
const (
	maxSpares   = 64
	maxSpareCap = 1 << 14
)

// AddEvents buffers the item of each event (see [ItemOf]), such as the
// events drained from the limiter's pending list. Invalid events are
// skipped and reported in the error (joined, one per event); the valid ones
// are kept.
//
// Drained events leave the limiter's store when they are drained; here
// they live in memory until the next flush. Where the limiter's store is
// shared (Redis) and a crash must not lose them, append their items with
// [Append] instead (see its example).
func (c *Collector) AddEvents(events ...alerts.Event) error {
	var errs []error
	items := make([]Item, 0, len(events))
	for i := range events {
		it := ItemOf(events[i])
		if err := it.validate(); err != nil {
			errs = append(errs, err)
			continue
		}
		items = append(items, it)
	}
	c.mu.Lock()
	for _, it := range items {
		c.addLocked(it)
	}
	c.mu.Unlock()
	return errors.Join(errs...)
}

// Len returns the number of items buffered and not yet flushed.
func (c *Collector) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.count
}

// Flush appends the buffered items to the store, one call per tenant. The
// items of a tenant whose append fails stay buffered, ahead of any added
// since, for the next flush; the error joins the failures.
func (c *Collector) Flush(ctx context.Context) error {
	c.flush.Lock()
	defer c.flush.Unlock()
	c.mu.Lock()
	buf := c.buf
	if len(buf) == 0 {
		c.mu.Unlock()
		return nil
	}
	c.buf = make(map[string][]Item, len(buf))
	c.count = 0
	c.mu.Unlock()

	var errs []error
	failed := make(map[string][]Item)
	var done [][]Item
	for tenant, items := range buf {
		if err := ctx.Err(); err != nil {
			failed[tenant] = items
			continue
		}
		if err := c.store.Append(ctx, tenant, items); err != nil {
			errs = append(errs, &FlushError{Tenant: tenant, Items: len(items), Err: err})
			failed[tenant] = items
			continue
		}
		if cap(items) <= maxSpareCap {
			clear(items) // drop the strings for the garbage collector
			done = append(done, items[:0])
		}
	}
	c.mu.Lock()
	for tenant, items := range failed {
		c.buf[tenant] = append(items, c.buf[tenant]...)
		c.count += len(items)
	}
	for _, b := range done {
		if len(c.spare) < maxSpares {
			c.spare = append(c.spare, b)
		}
	}
	c.mu.Unlock()
	if err := ctx.Err(); err != nil && len(failed) > len(errs) {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// A FlushError reports a tenant's items that the store did not take: after
// [Collector.Flush] they stay buffered for the next flush; after [Append]
// they are not in the store, and the caller still has them. It is a plain
// value.
type FlushError struct {
	Tenant string // the tenant
	Items  int    // how many items of the tenant were not appended
	Err    error  // the store's error, or the context's
}

// Error names the tenant and how many items, then the cause.
func (e *FlushError) Error() string {
	return fmt.Sprintf("digest: append %d items of tenant %q to the store: %v", e.Items, e.Tenant, e.Err)
}

// Unwrap returns the store's error.
func (e *FlushError) Unwrap() error { return e.Err }
