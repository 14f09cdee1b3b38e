package alerts

import (
	"errors"
	"fmt"
	"slices"
	"time"
)

// The defaults of a [FrequencyLimit]: the product's "a maximum of five email alerts,
// then a four-hour cooling period".
const (
	DefaultLimit  = 5
	DefaultPeriod = 4 * time.Hour
)

// ErrInvalidLimit is the error (wrapped) that [FrequencyLimit.Validate]
// returns for a frequency limit it cannot apply.
var ErrInvalidLimit = errors.New("alerts: invalid frequency limit")

// A LimitMode is the rule a [FrequencyLimit] applies.
type LimitMode string

// The modes of a FrequencyLimit.
const (
	// Cooldown allows Max sends; the send that reaches Max starts a
	// cooling period of length Period during which nothing is sent; when it
	// ends, the count starts again from zero. A count that has not reached
	// Max is forgotten once Period has passed since the last send, so an
	// idle key needs no state.
	Cooldown LimitMode = "cooldown"
	// SlidingWindow allows at most Max sends in any window of length Period.
	SlidingWindow LimitMode = "window"
)

// A FrequencyLimit says how many emails may go out for one key, and how often.
//
// The zero value is the product's default: [Cooldown], 5 emails, then 4
// hours of cooling.
//
// Times are compared with a half-open rule: a cooling period that starts at
// t ends at exactly t+Period, when a send is allowed again; a send at t stops
// counting against a sliding window at exactly t+Period.
//
// The wall clock may step backwards. A FrequencyLimit never lets such a step make a
// limit last longer than Period from the moment the step is seen: a cooling
// period that would end more than Period after now ends at now+Period, and a
// send recorded in the future counts as if made now.
type FrequencyLimit struct {
	// Mode is the rule; empty means Cooldown.
	Mode LimitMode
	// Max is the number of emails allowed (N); 0 means DefaultLimit.
	Max int
	// Period is the cooling period (Cooldown) or the window (SlidingWindow);
	// 0 means DefaultPeriod.
	Period time.Duration
}

// WithDefaults returns p with its zero fields replaced by their defaults.
// Stores receive frequency limits in this form.
func (p FrequencyLimit) WithDefaults() FrequencyLimit {
	if p.Mode == "" {
		p.Mode = Cooldown
	}
	if p.Max == 0 {
		p.Max = DefaultLimit
	}
	if p.Period == 0 {
		p.Period = DefaultPeriod
	}
	return p
}

// Validate reports whether p can be applied. The error wraps
// [ErrInvalidLimit] and names the bad field.
func (p FrequencyLimit) Validate() error {
	switch {
	case p.Mode != "" && p.Mode != Cooldown && p.Mode != SlidingWindow:
		return fmt.Errorf("%w: Mode %q is neither %q nor %q", ErrInvalidLimit, p.Mode, Cooldown, SlidingWindow)
	case p.Max < 0:
		return fmt.Errorf("%w: Max %d is negative", ErrInvalidLimit, p.Max)
	case p.Period < 0:
		return fmt.Errorf("%w: Period %v is negative", ErrInvalidLimit, p.Period)
	}
	return nil
}

// String describes p with its defaults applied, such as "5 then 4h0m0s
// cooling" or "10 per 1h0m0s window".
func (p FrequencyLimit) String() string {
	p = p.WithDefaults()
	if p.Mode == SlidingWindow {
		return fmt.Sprintf("%d per %v window", p.Max, p.Period)
	}
	return fmt.Sprintf("%d then %v cooling", p.Max, p.Period)
}

// A Limiter applies a [FrequencyLimit] to the sends of one key. It is the pure
// evaluation the stores are built on: every method takes the time instead of
// reading a clock, so the same calls always give the same answers.
//
// A send is two steps: [Limiter.ReserveAt] holds a slot if the limit allows a
// send, then [Limiter.CommitAt] records the send (the slot is consumed) or
// [Limiter.Release] gives the slot back (a send that failed costs nothing).
// A held slot counts against Max until it is committed or released, so
// racing senders cannot exceed it.
//
// The zero value is a fresh key under the default FrequencyLimit. A Limiter is not
// safe for concurrent use; the stores guard each key's Limiter with a lock.
type Limiter struct {
	limit FrequencyLimit // as given: zero fields mean the defaults
	held  int
	// Cooldown state.
	count int   // sends in the current cycle
	last  int64 // time of the last send, Unix nanoseconds
	until int64 // end of the cooling period, Unix nanoseconds; 0 when not cooling
	// SlidingWindow state: the times of the recorded sends, oldest first.
	sends []int64
}

// NewLimiter returns a Limiter for a fresh key under p, or an error wrapping
// [ErrInvalidLimit].
func NewLimiter(p FrequencyLimit) (*Limiter, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return &Limiter{limit: p.WithDefaults()}, nil
}

// Limit returns the frequency limit l applies, with its defaults.
func (l *Limiter) Limit() FrequencyLimit { return l.limit.WithDefaults() }

// setLimit switches l to p (validated, defaults applied). The state of the
// other mode is dropped; held slots stay held.
func (l *Limiter) setLimit(p FrequencyLimit) {
	if l.limit == p {
		return
	}
	if l.limit.WithDefaults().Mode != p.Mode {
		l.count, l.last, l.until, l.sends = 0, 0, 0, l.sends[:0]
	}
	l.limit = p
}

// Held returns the number of reserved slots not yet committed or released.
func (l *Limiter) Held() int { return l.held }

// AllowAt reports whether the limit allows one more send at t, counting the
// held slots. It does not change l.
func (l *Limiter) AllowAt(t time.Time) bool {
	now := t.UnixNano()
	p := l.limit.WithDefaults()
	if p.Mode == SlidingWindow {
		return l.live(now, p)+l.held < p.Max
	}
	if _, cooling := l.cooling(now, p); cooling {
		return false
	}
	return l.cycle(now, p)+l.held < p.Max
}

// ReserveAt holds a slot and reports true if the limit allows a send at t;
// otherwise it reports false. Either way it records that t has been seen, so
// that a clock step backwards shortens a limit only once (see [FrequencyLimit]).
func (l *Limiter) ReserveAt(t time.Time) bool {
	l.normalize(t.UnixNano())
	if !l.AllowAt(t) {
		return false
	}
	l.held++
	return true
}

// CommitAt records a send made at t with a slot held by [Limiter.ReserveAt].
// In Cooldown mode the send that reaches Max starts the cooling period at t.
func (l *Limiter) CommitAt(t time.Time) {
	now := t.UnixNano()
	l.normalize(now)
	if l.held > 0 {
		l.held--
	}
	p := l.limit.WithDefaults()
	if p.Mode == SlidingWindow {
		l.sends = append(l.sends, now)
		return
	}
	l.count++
	l.last = now
	if l.count >= p.Max {
		l.until = now + int64(p.Period)
	}
}

// uncommit takes back the send recorded at d, as a lease that expired at
// d recorded it (see LimitStore.GiveBack), when that send may still count
// at now: within a period of d. In SlidingWindow mode the send at d leaves
// the window; in Cooldown mode the cycle counts one send fewer, and a
// cooling period it made start ends. Call it after normalize(now).
func (l *Limiter) uncommit(d, now int64) {
	p := l.limit.WithDefaults()
	if now-d >= int64(p.Period) {
		return // the send no longer counts
	}
	if p.Mode == SlidingWindow {
		if i := slices.Index(l.sends, d); i >= 0 {
			l.sends = slices.Delete(l.sends, i, i+1)
		}
		return
	}
	if l.count > 0 {
		l.count--
		if l.count < p.Max {
			l.until = 0
		}
	}
}

// Release gives back a slot held by [Limiter.ReserveAt] without recording a
// send.
func (l *Limiter) Release() {
	if l.held > 0 {
		l.held--
	}
}

// NextAt returns the earliest instant, t or later, at which the limit would
// allow a send if nothing else happened. When only held slots stand in the
// way it returns t: they are expected to be released or committed soon.
func (l *Limiter) NextAt(t time.Time) time.Time {
	now := t.UnixNano()
	p := l.limit.WithDefaults()
	if p.Mode == SlidingWindow {
		first := len(l.sends) - l.live(now, p)
		// The sends that must leave the window before one more fits.
		k := len(l.sends) - first + l.held - p.Max + 1
		if k <= 0 || k > len(l.sends)-first {
			return t
		}
		return time.Unix(0, min(l.sends[first+k-1], now)+int64(p.Period))
	}
	if until, cooling := l.cooling(now, p); cooling {
		return time.Unix(0, until)
	}
	return t
}

// idle reports whether l holds nothing that matters at now: no held slot,
// no cooling, no count, no send in the window. An idle Limiter is equivalent
// to the zero Limiter and can be forgotten.
func (l *Limiter) idle(now int64) bool {
	if l.held > 0 {
		return false
	}
	p := l.limit.WithDefaults()
	if p.Mode == SlidingWindow {
		return l.live(now, p) == 0
	}
	_, cooling := l.cooling(now, p)
	return !cooling && l.cycle(now, p) == 0
}

// cooling returns the effective end of the cooling period and whether now
// falls inside it.
func (l *Limiter) cooling(now int64, p FrequencyLimit) (int64, bool) {
	if l.until == 0 || now >= l.until {
		return 0, false
	}
	return min(l.until, now+int64(p.Period)), true
}

// cycle returns the number of sends counted in the current Cooldown cycle.
func (l *Limiter) cycle(now int64, p FrequencyLimit) int {
	switch {
	case l.until != 0 && now >= l.until:
		return 0 // the cooling period is over: the count starts again
	case l.until == 0 && l.held == 0 && now-min(l.last, now) >= int64(p.Period):
		return 0 // idle for a whole period: forgotten
	}
	return l.count
}

// live returns the number of recorded sends inside the window ending at now.
func (l *Limiter) live(now int64, p FrequencyLimit) int {
	start := now - int64(p.Period)
	n := len(l.sends)
	for i, s := range l.sends {
		if s > start {
			return n - i
		}
	}
	return 0
}

// normalize stores what cooling, cycle and live compute, so that the state
// stays small and a clock step backwards is absorbed once.
func (l *Limiter) normalize(now int64) {
	p := l.limit.WithDefaults()
	if p.Mode == SlidingWindow {
		first := len(l.sends) - l.live(now, p)
		if first > 0 {
			l.sends = append(l.sends[:0], l.sends[first:]...)
		}
		for i, s := range l.sends {
			if s > now {
				l.sends[i] = now
			}
		}
		return
	}
	l.count = l.cycle(now, p)
	if until, cooling := l.cooling(now, p); cooling {
		l.until = until
	} else {
		l.until = 0
	}
	l.last = min(l.last, now)
}
