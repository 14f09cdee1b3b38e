package alertstest

import (
	"context"
	"slices"
	"sync"

	"github.com/alertmail/alertmail/alerts"
)

// A Recorder is an alerts.Notifier that accepts every message and keeps a
// copy of it, for the test to inspect.
//
// The zero value is ready to use. A Recorder is safe for concurrent use.
type Recorder struct {
	mu   sync.Mutex
	msgs []alerts.Message
}

// NewRecorder returns an empty Recorder.
func NewRecorder() *Recorder { return new(Recorder) }

// Notify records a deep copy of msg and returns nil, or ctx's error if ctx is
// already done (a real backend would not send then either).
func (r *Recorder) Notify(ctx context.Context, msg *alerts.Message) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	r.record(msg)
	return nil
}

// record keeps a deep copy of msg.
func (r *Recorder) record(msg *alerts.Message) {
	m := clone(msg)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.msgs = append(r.msgs, m)
}

// Messages returns copies of the messages recorded so far, in the order
// Notify received them.
func (r *Recorder) Messages() []alerts.Message {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]alerts.Message, len(r.msgs))
	for i := range r.msgs {
		out[i] = clone(&r.msgs[i])
	}
	return out
}

// Len returns the number of messages recorded so far.
func (r *Recorder) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.msgs)
}

// Reset forgets the messages recorded so far.
func (r *Recorder) Reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.msgs = nil
}

// A FailingNotifier refuses the first messages it is given with an error,
// then hands every later one to another Notifier: a backend that is down and
// comes back. It keeps a copy of every message it refused.
//
// A FailingNotifier is safe for concurrent use.
type FailingNotifier struct {
	err  error
	next alerts.Notifier

	mu      sync.Mutex
	left    int      // failures still to come; negative: fail forever
	refused Recorder // the messages refused
}

// NewFailingNotifier returns a notifier that fails the first n calls with err
// (every call if n is negative) and hands the later ones to next; a nil next
// accepts them.
func NewFailingNotifier(err error, n int, next alerts.Notifier) *FailingNotifier {
	return &FailingNotifier{err: err, next: next, left: n}
}

// Notify returns the notifier's error while failures are left, and next's
// answer afterwards.
func (f *FailingNotifier) Notify(ctx context.Context, msg *alerts.Message) error {
	f.mu.Lock()
	fail := f.left != 0
	if f.left > 0 {
		f.left--
	}
	f.mu.Unlock()
	if fail {
		f.refused.record(msg)
		return f.err
	}
	if f.next == nil {
		return nil
	}
	return f.next.Notify(ctx, msg)
}

// Refused returns copies of the messages refused so far, in order.
func (f *FailingNotifier) Refused() []alerts.Message { return f.refused.Messages() }

// clone copies msg and the slices it holds, since a Notifier must not keep
// msg itself.
func clone(msg *alerts.Message) alerts.Message {
	m := *msg
	m.To = slices.Clone(msg.To)
	m.Events = slices.Clone(msg.Events)
	return m
}
