package alerts

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"log/slog"
	"math"
	"slices"
	"sync/atomic"
	"time"
)

// ErrInvalidEvent is wrapped by the error [Dispatcher.Dispatch] returns for an
// event it cannot route.
var ErrInvalidEvent = errors.New("alerts: invalid event")

// A Dispatcher takes events to email, end to end: it checks the tenant's
// settings (is the category on?), the score threshold, and the frequency
// limit; keeps the events the limit holds back as pending; and, when an
// email is allowed, renders one message covering every pending event of its
// key and hands it to the notifier.
//
// Nothing is lost on the way. An event held back by the limit waits for the
// next allowed email of its key, which covers it ([Message.Carried] counts
// such events). [Dispatcher.Run] sends waiting events when the limit
// allows, retries failed sends with backoff and picks up the leases of a
// replica that died: the store knows when each key falls due
// ([LimitStore]), so no host keeps a timer per key. The host may also take
// waiting events for the daily digest with [Dispatcher.Drain]. With
// [DispatcherConfig.Async], Dispatch only records the event ([Queued]) and
// Run sends it. An event whose ID its key has taken already, such as one
// its source delivered twice, is acknowledged as a [Duplicate] and not
// sent again. A send that fails puts its events back and does not
// count against the limit; one the notifier refuses for good
// ([ErrPermanent]) puts them on the key's undelivered list, for the host
// to look at ([Dispatcher.Undelivered]) and send again
// ([Dispatcher.Requeue]), and the key keeps sending. An email refused for
// some of its recipients only is sent; the refusals go to the host
// ([DispatcherConfig.OnRefused]). When a category is off, its pending
// events are dropped, and events already taken for an email are dropped
// instead of sent: settings are read again just before each Notify.
//
// The Message.ID of an email is derived from its tenant, its category and
// the IDs of the events it covers (an event without an ID stands for its
// content), in any order: "alert-" and 32 hex digits of a SHA-256. An email
// retried after a failure covers the same events and so has the same ID,
// which lets a backend or mail gateway drop a duplicate. An event that
// arrived meanwhile joins the retry, and the email then has a new ID: it is
// a different email.
//
// A Dispatcher is safe for concurrent use; it keeps no state of its own
// beyond its store. Create one with [NewDispatcher]; the zero value is not
// usable.
//
// Settings saved through [Dispatcher.Save] take effect on the queue at
// once: the pending events of the categories they turn off are dropped
// right after the save, so a category turned off and on again sends none of
// what was queued before. (With [DispatcherConfig.Saver] set, a Dispatcher
// is a [SettingsStore]: hand it to the settings screen in place of the
// store.) Every Dispatch and Flush
// checks too, and drops the pending events of a category it finds off:
// that covers a save made by another replica, or straight through the
// store. What remains: a category turned off by a save that bypasses
// Dispatcher.Save, and turned on again before any Dispatch or Flush of its
// key, still sends the events queued before it was turned off, unless the
// host called [Dispatcher.DropDisabled] after that save, or turns it on
// again through Dispatcher.Save (which drops them first).
type Dispatcher struct {
	settings   SettingsLoader
	saver      SettingsSaver
	notifier   Notifier
	renderer   Renderer
	catalog    *Catalog // nil: each tenant's settings' catalog
	digest     Digester
	sender     SenderPolicy
	store      LimitStore
	limit      FrequencyLimit
	thresholds map[CategoryID]Threshold
	leaseTTL   time.Duration
	onRefused  func(context.Context, LimitKey, []Refusal)
	location   func(string) *time.Location
	clock      Clock
	log        *slog.Logger
	tel        *telemetry

	// The pipeline (dispatcher_run.go).
	async         bool
	notifyTimeout time.Duration // 0: unknown
	retry         backoff
	poll          time.Duration
	workers       int
	wake          chan struct{} // Run's alarm: a due time earlier than its timer
	wakeAt        atomic.Int64  // when Run's timer fires, in Unix ns; 0 when Run is not waiting
	soonest       atomic.Int64  // the earliest due time set since Run last called FlushDue
	running       atomic.Bool   // Run is running
}

// An Outcome says what became of an event or of a key's pending events.
// The zero value, "", means nothing was decided (see [Result]). In JSON an
// Outcome is its string, such as "below-threshold".
type Outcome string

// The outcomes of [Dispatcher.Dispatch] and [Dispatcher.Flush].
const (
	// Sent: an email went out, covering the event and the pending events
	// of its key.
	Sent Outcome = "sent"
	// Suppressed: the frequency limit holds the event back; it is pending
	// until the limit allows the next email ([Result.Next]).
	Suppressed Outcome = "suppressed"
	// BelowThreshold: the event's score is under its category's
	// threshold: no alert. It went to the daily digest
	// ([DispatcherConfig.Digest]); without a Digest it was not recorded.
	BelowThreshold Outcome = "below-threshold"
	// CategoryDisabled: the tenant turned the category off; the event and
	// the key's pending events were dropped.
	CategoryDisabled Outcome = "category-disabled"
	// NoRecipients: the tenant has no recipients; the events stay pending,
	// and [Dispatcher.Run] tries again with the backoff of a failed send.
	NoRecipients Outcome = "no-recipients"
	// SendFailed: rendering or the notifier failed temporarily, or the
	// lease ran out before Notify ([Result.Err]); the events are pending
	// again, to be sent under the same Message.ID by [Dispatcher.Run]
	// after a backoff ([DispatcherConfig.RetryBackoff]), and the limit was not
	// charged (a send that outlived its lease gives back the charge the
	// lease's expiry made, see [Grant]).
	SendFailed Outcome = "send-failed"
	// Undeliverable: the notifier failed permanently ([ErrPermanent]: the
	// message or every recipient was refused; [Result.Err] and
	// [Result.Refused] say how). The events moved to the key's undelivered
	// list ([Dispatcher.Undelivered]), not to pending, so they are not
	// retried until the host requeues them ([Dispatcher.Requeue]); the
	// limit was not charged and the key keeps sending.
	Undeliverable Outcome = "undeliverable"
	// NothingPending: Flush found no pending event.
	NothingPending Outcome = "nothing-pending"
	// Queued: the event was recorded as pending, to be sent by
	// [Dispatcher.Run] when the limit allows ([DispatcherConfig.Async]).
	Queued Outcome = "queued"
	// Duplicate: the key has taken an event with the same ID already
	// (see [LimitStore] for the window): the event is acknowledged and
	// not sent again.
	Duplicate Outcome = "duplicate"
)

// A Result reports what [Dispatcher.Dispatch] or [Dispatcher.Flush] did. It
// is a plain value.
//
// Its JSON form, for a host's HTTP API, is an object with the members named
// in the field tags below; those at their zero value are left out, but
// "pending", and Err is "error", its text:
//
//	{"outcome":"suppressed","pending":2,"next":"2026-03-02T13:50:00Z"}
//	{"outcome":"send-failed","message_id":"alert-…","events":1,"pending":1,"error":"relay unavailable"}
//
// Decoded, the error is one with that text, which no longer matches a
// sentinel such as [ErrLeaseExpired] with errors.Is.
type Result struct {
	// Outcome says what happened; empty when the call returned an error
	// before anything was decided.
	Outcome Outcome `json:"outcome,omitempty"`
	// MessageID is the ID of the email, when one was composed (Sent,
	// SendFailed, Undeliverable).
	MessageID string `json:"message_id,omitempty"`
	// Events is the number of events the email covered (Sent, SendFailed,
	// Undeliverable).
	Events int `json:"events,omitempty"`
	// Pending is the number of events of the key still waiting, as the
	// store last reported it.
	Pending int `json:"pending"`
	// Next is, when Suppressed or Queued, the earliest time the limit
	// allows the next email: when [Dispatcher.Run] sends the pending
	// events.
	Next time.Time `json:"next,omitzero"`
	// Dropped is the number of events dropped: the pending events of a
	// disabled category (CategoryDisabled), or, when Undeliverable, the
	// oldest undelivered events discarded to keep the key's list within
	// [MaxUndelivered].
	Dropped int `json:"dropped,omitempty"`
	// Refused are the recipients the notifier refused permanently (a
	// [*RefusedError]): when Sent, those the email did not reach; when
	// Undeliverable, every recipient. They were also handed to
	// [DispatcherConfig.OnRefused].
	Refused []Refusal `json:"refused,omitempty"`
	// Err is, when SendFailed or Undeliverable, why: the notifier's or the
	// renderer's error, the sender policy's, the settings store's when the
	// settings could not be read again before sending, or
	// [ErrLeaseExpired] when the lease ran out before Notify.
	Err error `json:"-"`
}

// resultFields is Result without its methods, so that encoding/json
// handles its fields as tagged.
type resultFields Result

// MarshalJSON returns the JSON form of r (see [Result]).
func (r Result) MarshalJSON() ([]byte, error) {
	v := struct {
		resultFields
		Error string `json:"error,omitempty"`
	}{resultFields: resultFields(r)}
	if r.Err != nil {
		v.Error = r.Err.Error()
	}
	return json.Marshal(v)
}

// UnmarshalJSON sets r from its JSON form (see [Result]); an "error"
// becomes an Err with its text.
func (r *Result) UnmarshalJSON(data []byte) error {
	v := struct {
		*resultFields
		Error string `json:"error"`
	}{resultFields: (*resultFields)(r)}
	*r = Result{}
	if err := json.Unmarshal(data, &v); err != nil {
		return err
	}
	if v.Error != "" {
		r.Err = errors.New(v.Error)
	}
	return nil
}

// Dispatch takes ev through settings, threshold and frequency limit, and
// sends an email now if one is allowed; with [DispatcherConfig.Async] it
// records ev ([Queued]) and leaves the email to [Dispatcher.Run]. An event
// under its category's threshold goes to [DispatcherConfig.Digest]. An
// event whose ID its key has taken already is a [Duplicate]: acknowledged,
// and not sent again.
//
// The error is non-nil only when the Result cannot be trusted: ev is
// invalid (the error wraps [ErrInvalidEvent], and [ErrInvalidScore],
// [ErrInvalidTenant] or [ErrUnknownCategory] for a Category not in the
// catalog, matched exactly; see [DispatcherConfig.Catalog]); the
// settings, the store or the Digest failed, so ev may not have been
// recorded (the host retries Dispatch later: an event with an ID that was
// recorded after all is then a Duplicate); or the email went out but the
// store did not record it, so it will be sent again once its lease
// expires, with the same Message.ID. A failed send is not such an error:
// its Outcome is SendFailed, the cause is in Result.Err, and the events
// are safely pending, for Run to retry.
func (d *Dispatcher) Dispatch(ctx context.Context, ev Event) (res Result, err error) {
	ctx, span := d.tel.start(ctx, "alertmail.dispatch")
	defer func() { d.tel.result(ctx, span, LimitKey{Tenant: ev.Tenant, Category: ev.Category}, 1, &res, err) }()
	if err := ValidateTenant(ev.Tenant); err != nil {
		return Result{}, fmt.Errorf("%w %q: Tenant: %w", ErrInvalidEvent, ev.ID, err)
	}
	if ev.Category == "" {
		return Result{}, fmt.Errorf("%w %q: empty Category", ErrInvalidEvent, ev.ID)
	}
	// Every score is checked, not only those a threshold applies to: a
	// NaN or out-of-range score is never passed on to an email.
	if err := checkScore(ev.Score); err != nil {
		return Result{}, fmt.Errorf("%w %q: %w", ErrInvalidEvent, ev.ID, err)
	}
	if err := d.checkCategory(nil, ev.Category); err != nil {
		return Result{}, fmt.Errorf("%w %q: Category: %w", ErrInvalidEvent, ev.ID, err)
	}
	key := LimitKey{Tenant: ev.Tenant, Category: ev.Category}
	set, err := d.settings.Load(ctx, key.Tenant)
	if err != nil {
		return Result{}, fmt.Errorf("alerts: loading the settings of tenant %q: %w", key.Tenant, err)
	}
	if err := d.checkCategory(set, ev.Category); err != nil {
		return Result{}, fmt.Errorf("%w %q: Category: %w", ErrInvalidEvent, ev.ID, err)
	}
	if !set.Enabled(key.Category) {
		return d.drop(ctx, key, Result{})
	}
	if th, ok := d.thresholds[key.Category]; ok && ev.Score < float64(th) {
		return d.toDigest(ctx, key, ev)
	}
	g, err := d.decide(ctx, key, []Event{ev}, d.async)
	if err != nil {
		return Result{}, fmt.Errorf("alerts: recording event %q for %v: %w", ev.ID, key, err)
	}
	switch {
	case g.Duplicates > 0:
		return Result{Outcome: Duplicate, Pending: g.Pending, Next: g.Next}, nil
	case d.async:
		d.due(g.Next)
		return Result{Outcome: Queued, Pending: g.Pending, Next: g.Next}, nil
	}
	return d.send(ctx, key, g, 1)
}

// decide is the limiter's decision for key, timed for the metrics: evs
// join its pending events and, unless queue is set, the pending events are
// leased for an email if the limit allows one now (LimitStore.Queue and
// LimitStore.Take).
func (d *Dispatcher) decide(ctx context.Context, key LimitKey, evs []Event, queue bool) (g Grant, err error) {
	start := d.tel.decisionStart()
	if queue {
		g, err = d.store.Queue(ctx, key, d.limit, d.clock.Now(), evs)
	} else {
		g, err = d.store.Take(ctx, key, d.limit, d.clock.Now(), d.leaseTTL, evs)
	}
	d.tel.decided(ctx, d.store, start)
	return g, err
}

// Flush sends the pending events of tenant's category in one email if the
// limit allows it now, whatever the key's due time. [Dispatcher.Run] and
// [Dispatcher.FlushDue] call it for each key that falls due; a host calls
// it to send at once (after [Dispatcher.Requeue], say). The error means what it means for
// [Dispatcher.Dispatch]; a category not in the catalog is a
// *[CategoryError] wrapping [ErrUnknownCategory] (events left pending
// under a category since removed from the catalog are for
// [Dispatcher.Drain]).
func (d *Dispatcher) Flush(ctx context.Context, tenant string, category CategoryID) (res Result, err error) {
	ctx, span := d.tel.start(ctx, "alertmail.flush")
	defer func() { d.tel.result(ctx, span, LimitKey{Tenant: tenant, Category: category}, 0, &res, err) }()
	if err := ValidateTenant(tenant); err != nil {
		return Result{}, err
	}
	if err := d.checkCategory(nil, category); err != nil {
		return Result{}, err
	}
	key := LimitKey{Tenant: tenant, Category: category}
	set, err := d.settings.Load(ctx, tenant)
	if err != nil {
		return Result{}, fmt.Errorf("alerts: loading the settings of tenant %q: %w", tenant, err)
	}
	if err := d.checkCategory(set, category); err != nil {
		return Result{}, err
	}
	if !set.Enabled(category) {
		return d.drop(ctx, key, Result{})
	}
	g, err := d.decide(ctx, key, nil, false)
	if err != nil {
		return Result{}, fmt.Errorf("alerts: taking the pending events of %v: %w", key, err)
	}
	return d.send(ctx, key, g, 0)
}

// Drain removes and returns the pending events of tenant's category, oldest
// first, for the host to report elsewhere (the daily digest). Events taken
// for an email in flight are not pending.
func (d *Dispatcher) Drain(ctx context.Context, tenant string, category CategoryID) ([]Event, error) {
	if err := ValidateTenant(tenant); err != nil {
		return nil, err
	}
	key := LimitKey{Tenant: tenant, Category: category}
	evs, err := d.store.Drain(ctx, key, d.limit, d.clock.Now())
	if err != nil {
		return nil, fmt.Errorf("alerts: draining the pending events of %v: %w", key, err)
	}
	d.tel.drained(key)
	return evs, nil
}

// Undelivered returns the undelivered events of tenant's category, oldest
// first: those of emails refused permanently ([Undeliverable]), at most
// [MaxUndelivered]. They stay where they are until [Dispatcher.Requeue].
func (d *Dispatcher) Undelivered(ctx context.Context, tenant string, category CategoryID) ([]Event, error) {
	if err := ValidateTenant(tenant); err != nil {
		return nil, err
	}
	key := LimitKey{Tenant: tenant, Category: category}
	evs, err := d.store.Undelivered(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("alerts: listing the undelivered events of %v: %w", key, err)
	}
	d.tel.listedUndelivered(key, len(evs))
	return evs, nil
}

// Requeue moves the undelivered events of tenant's category back to
// pending, ahead of the events pending now, and returns how many it moved.
// The host calls it once it has fixed what made the emails undeliverable
// (the recipients, the sender domain), then [Dispatcher.Flush] to send
// them: the frequency limit applies as to any pending event.
func (d *Dispatcher) Requeue(ctx context.Context, tenant string, category CategoryID) (int, error) {
	if err := ValidateTenant(tenant); err != nil {
		return 0, err
	}
	key := LimitKey{Tenant: tenant, Category: category}
	n, err := d.store.Requeue(ctx, key, d.limit, d.clock.Now())
	if err != nil {
		return 0, fmt.Errorf("alerts: requeueing the undelivered events of %v: %w", key, err)
	}
	d.tel.requeued(key, n)
	return n, nil
}

// checkCategory returns a *CategoryError wrapping ErrUnknownCategory if id
// is not in the dispatcher's catalog or, without one, in the catalog of
// set. With a nil set it checks only against the dispatcher's catalog:
// input is refused before any I/O where the configuration allows.
func (d *Dispatcher) checkCategory(set *Settings, id CategoryID) error {
	c := d.catalog
	switch {
	case c != nil && set != nil:
		return nil // checked already, without the settings
	case c == nil && set == nil:
		return nil // to be checked once the settings are loaded
	case c == nil:
		if c = set.Catalog(); c == nil {
			// The zero Settings follows the built-in catalog.
			c = DefaultCatalog()
		}
	}
	_, err := c.position(id)
	return err
}

// toDigest hands ev, under its category's threshold, to the digest.
func (d *Dispatcher) toDigest(ctx context.Context, key LimitKey, ev Event) (Result, error) {
	if d.digest != nil {
		if err := d.digest.Digest(ctx, []Event{ev}); err != nil {
			return Result{}, fmt.Errorf("alerts: handing event %q of %v to the digest: %w", ev.ID, key, err)
		}
	}
	return Result{Outcome: BelowThreshold}, nil
}

// drop discards key's pending events because its category is off.
func (d *Dispatcher) drop(ctx context.Context, key LimitKey, res Result) (Result, error) {
	n, err := d.store.Drop(ctx, key, d.limit, d.clock.Now())
	res.Outcome, res.Dropped, res.Pending = CategoryDisabled, res.Dropped+n, 0
	if err != nil {
		return res, fmt.Errorf("alerts: dropping the pending events of disabled %v: %w", key, err)
	}
	return res, nil
}

// send delivers the email g allows, if any. fresh is the number of events
// at the end of g.Events that the current call brought (not carried).
func (d *Dispatcher) send(ctx context.Context, key LimitKey, g Grant, fresh int) (Result, error) {
	if g.Lease == "" {
		if g.Pending == 0 {
			return Result{Outcome: NothingPending}, nil
		}
		d.due(g.Next)
		return Result{Outcome: Suppressed, Pending: g.Pending, Next: g.Next}, nil
	}
	msg := d.message(key, g, fresh)
	res := Result{MessageID: msg.ID, Events: len(g.Events), Pending: g.Pending}
	res.Outcome, res.Err = d.prepare(ctx, key, msg)
	if res.Outcome == "" {
		err := d.notify(ctx, key, g, msg)
		var refused *RefusedError
		if errors.As(err, &refused) {
			res.Refused = refused.Refused
			d.refused(ctx, key, msg, refused)
		}
		switch {
		case err == nil || refused != nil && refused.Delivered:
			// Delivered, to some recipients at least: sent.
			res.Outcome = Sent
			return res, d.commit(ctx, key, g, msg)
		case errors.Is(err, ErrPermanent):
			res.Outcome, res.Err = Undeliverable, err
			return d.undeliver(ctx, key, g, msg, res)
		}
		d.log.LogAttrs(ctx, slog.LevelWarn, "alerts: sending failed; events kept", slog.String("key", key.String()), slog.String("message", msg.ID), slog.Int("events", len(g.Events)), slog.Any("error", err))
		res.Outcome, res.Err = SendFailed, err
	}
	// Not sent: the events return to pending, and those of a category
	// turned off since are dropped.
	res, err := d.giveBack(ctx, key, g, res)
	if err != nil || res.Outcome != CategoryDisabled {
		return res, err
	}
	return d.drop(ctx, key, res)
}

// message composes the email g allows for key, before rendering and
// addressing.
func (d *Dispatcher) message(key LimitKey, g Grant, fresh int) *Message {
	msg := &Message{
		ID:       messageID(key, g.Events),
		Tenant:   key.Tenant,
		Category: key.Category,
		// A copy: the store keeps g.Events for a give-back, and neither a
		// renderer nor a backend can then change what is retried.
		Events:  slices.Clone(g.Events),
		Carried: len(g.Events) - fresh,
		Time:    d.clock.Now(),
	}
	if d.location != nil {
		msg.Location = d.location(key.Tenant)
	}
	return msg
}

// prepare renders msg, addresses it to the tenant's recipients and sets
// its sender. An empty Outcome means msg is ready to send; otherwise the
// Outcome and, for SendFailed, the error say why it is not.
func (d *Dispatcher) prepare(ctx context.Context, key LimitKey, msg *Message) (Outcome, error) {
	if err := d.renderer.Render(msg); err != nil {
		d.log.LogAttrs(ctx, slog.LevelError, "alerts: rendering failed", slog.String("key", key.String()), slog.String("message", msg.ID), slog.Any("error", err))
		return SendFailed, err
	}
	// The settings again, right before sending: the events may have waited
	// hours, and a disable saved since then must stop them.
	set, err := d.settings.Load(ctx, key.Tenant)
	if err != nil {
		return SendFailed, fmt.Errorf("alerts: loading the settings of tenant %q: %w", key.Tenant, err)
	}
	if !set.Enabled(key.Category) {
		return CategoryDisabled, nil
	}
	// A copy: Recipients is the stored snapshot's own slice.
	msg.To = slices.Clone(set.Recipients())
	if len(msg.To) == 0 {
		return NoRecipients, nil
	}
	if err := ApplySender(ctx, d.sender, msg); err != nil {
		d.log.LogAttrs(ctx, slog.LevelWarn, "alerts: no sender chosen; events kept", slog.String("key", key.String()), slog.String("message", msg.ID), slog.Any("error", err))
		return SendFailed, err
	}
	return "", nil
}

// notify hands msg to the notifier, within what is left of g's lease.
func (d *Dispatcher) notify(ctx context.Context, key LimitKey, g Grant, msg *Message) error {
	// The send must end with the lease: once it is over, the events are
	// pending again and another call may send them. What is left is
	// measured by the Clock, in which the lease runs, but the context's
	// deadline is in real time: no longer than the notifier's stated worst
	// case either, so that a clock standing still (a test's) or running
	// slow cannot stretch the send past the lease.
	left := g.Deadline.Sub(d.clock.Now())
	if left <= 0 {
		return fmt.Errorf("alerts: message %s for %v not sent: %w before Notify", msg.ID, key, ErrLeaseExpired)
	}
	if d.notifyTimeout > 0 {
		left = min(left, d.notifyTimeout)
	}
	nctx, cancel := context.WithTimeout(ctx, left)
	defer cancel()
	nctx, span := d.tel.startNotify(nctx, msg)
	err := d.notifier.Notify(nctx, msg)
	endNotify(span, err)
	return err
}

// refused reports the recipients the notifier refused: their number at
// Warn, the addresses only at Debug (they are personal data, and a list
// of thousands must not flood the log), and all of them to the host's
// hook.
func (d *Dispatcher) refused(ctx context.Context, key LimitKey, msg *Message, e *RefusedError) {
	d.log.LogAttrs(ctx, slog.LevelWarn, "alerts: recipients refused", slog.String("key", key.String()), slog.String("message", msg.ID),
		slog.Int("refused", len(e.Refused)), slog.Bool("delivered", e.Delivered))
	if d.log.Enabled(ctx, slog.LevelDebug) {
		for _, r := range e.Refused {
			d.log.LogAttrs(ctx, slog.LevelDebug, "alerts: recipient refused", slog.String("key", key.String()), slog.String("message", msg.ID), slog.String("refusal", r.String()))
		}
	}
	if d.onRefused != nil && len(e.Refused) > 0 {
		d.onRefused(ctx, key, slices.Clone(e.Refused))
	}
}

// undeliver moves g's events, whose email was refused permanently, to the
// key's undelivered list, and reports res.
func (d *Dispatcher) undeliver(ctx context.Context, key LimitKey, g Grant, msg *Message, res Result) (Result, error) {
	dropped, err := d.store.Undeliver(context.WithoutCancel(ctx), key, d.limit, g.Lease, d.clock.Now())
	switch {
	case err == nil:
		d.log.LogAttrs(ctx, slog.LevelError, "alerts: email refused permanently; events kept as undelivered", slog.String("key", key.String()), slog.String("message", msg.ID), slog.Int("events", len(g.Events)), slog.Any("error", res.Err))
		if dropped > 0 {
			d.log.LogAttrs(ctx, slog.LevelError, "alerts: undelivered list full; oldest events discarded", slog.String("key", key.String()), slog.Int("discarded", dropped), slog.Int("max", MaxUndelivered))
			res.Dropped = dropped
		}
		return res, nil
	case errors.Is(err, ErrLeaseExpired):
		// The send outlived its lease: the events are pending again, and
		// will be offered again.
		d.log.LogAttrs(ctx, slog.LevelError, "alerts: email refused permanently after its lease ran out; events pending again", slog.String("key", key.String()), slog.String("message", msg.ID), slog.Any("error", res.Err))
		res.Pending += len(g.Events)
		return res, nil
	}
	d.log.LogAttrs(ctx, slog.LevelError, "alerts: undelivered events not recorded; they return to pending when the lease expires", slog.String("key", key.String()), slog.Time("deadline", g.Deadline), slog.Any("error", err))
	return res, fmt.Errorf("alerts: keeping %d undelivered events of %v (they return to pending at %v): %w", len(g.Events), key, g.Deadline, err)
}

// commit records that msg, the email of g, was sent, even if the caller
// has given up: the email is out.
func (d *Dispatcher) commit(ctx context.Context, key LimitKey, g Grant, msg *Message) error {
	if err := d.store.Commit(context.WithoutCancel(ctx), key, d.limit, g.Lease, d.clock.Now()); err != nil {
		d.log.LogAttrs(ctx, slog.LevelError, "alerts: email sent but not recorded; it may be sent again", slog.String("key", key.String()), slog.String("message", msg.ID), slog.Any("error", err))
		return fmt.Errorf("alerts: message %s for %v was sent but not recorded (it may be sent again): %w", msg.ID, key, err)
	}
	return nil
}

// giveBack returns g's events to pending and reports res. A failed
// give-back is an error (the events then come back when the lease
// expires).
func (d *Dispatcher) giveBack(ctx context.Context, key LimitKey, g Grant, res Result) (Result, error) {
	now := d.clock.Now()
	retry := now.Add(d.retry.after(g.Failures + 1))
	err := d.store.GiveBack(context.WithoutCancel(ctx), key, d.limit, g.Lease, now, retry)
	if err == nil || errors.Is(err, ErrLeaseExpired) {
		d.due(retry)
	}
	if err == nil {
		res.Pending += len(g.Events)
		return res, nil
	}
	if errors.Is(err, ErrLeaseExpired) {
		// The send outlived its lease: the events went back to pending at
		// its expiry (another call may have taken them since), and the
		// store took back the charge of the expiry.
		res.Pending += len(g.Events)
		return res, nil
	}
	d.log.LogAttrs(ctx, slog.LevelError, "alerts: events not given back; they return when the lease expires", slog.String("key", key.String()), slog.Time("deadline", g.Deadline), slog.Any("error", err))
	return res, fmt.Errorf("alerts: giving back %d events of %v (they return at %v): %w", len(g.Events), key, g.Deadline, err)
}

// messageID derives the stable identity of an email for key covering evs;
// see Dispatcher.
func messageID(key LimitKey, evs []Event) string {
	ids := make([]string, len(evs))
	for i := range evs {
		ids[i] = eventIdentity(&evs[i])
	}
	slices.Sort(ids)
	h := sha256.New()
	writeFields(h, "alertmail alert v1", key.Tenant, string(key.Category))
	writeFields(h, ids...)
	var sum [sha256.Size]byte
	return "alert-" + hex.EncodeToString(h.Sum(sum[:0])[:16])
}

// eventIdentity returns "i" and the event's ID, or, for an event without an
// ID, "c" and a digest of its content.
func eventIdentity(e *Event) string {
	if e.ID != "" {
		return "i" + e.ID
	}
	h := sha256.New()
	writeFields(h, e.Asset, e.Fingerprint, e.Summary)
	var buf [8]byte
	h.Write(binary.BigEndian.AppendUint64(buf[:0], math.Float64bits(e.Score)))
	h.Write(binary.BigEndian.AppendUint64(buf[:0], uint64(e.Time.UnixNano())))
	return "c" + hex.EncodeToString(h.Sum(nil))
}

// writeFields writes each field to h preceded by its length, so that no two
// lists of fields write the same bytes.
func writeFields(h hash.Hash, fields ...string) {
	var buf [8]byte
	for _, s := range fields {
		h.Write(binary.BigEndian.AppendUint64(buf[:0], uint64(len(s))))
		h.Write([]byte(s))
	}
}
