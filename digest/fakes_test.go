package digest_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/alertmail/alertmail/alerts"
	"github.com/alertmail/alertmail/digest"
)

// fakeClock is a clock moved by hand.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	c.now = t
	c.mu.Unlock()
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// sent is one Notify call: when, the message, and whether it was accepted.
type sent struct {
	at       time.Time
	msg      alerts.Message
	accepted bool
}

// recorder records every Notify call; it fails them while fail is set.
type recorder struct {
	clock alerts.Clock
	mu    sync.Mutex
	calls []sent
	fail  error
	delay time.Duration // real time each call takes, to widen races
}

var errDown = errors.New("mail backend down")

func (r *recorder) Notify(ctx context.Context, msg *alerts.Message) error {
	if r.delay > 0 {
		time.Sleep(r.delay)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	m := *msg
	m.Events = slices.Clone(msg.Events)
	m.To = slices.Clone(msg.To)
	r.calls = append(r.calls, sent{at: r.clock.Now(), msg: m, accepted: r.fail == nil})
	return r.fail
}

func (r *recorder) setFail(err error) {
	r.mu.Lock()
	r.fail = err
	r.mu.Unlock()
}

// accepted returns the messages the recorder accepted.
func (r *recorder) accepted() []sent {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []sent
	for _, c := range r.calls {
		if c.accepted {
			out = append(out, c)
		}
	}
	return out
}

func (r *recorder) all() []sent {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.calls)
}

// fingerprintsOf returns the fingerprints of msg's lines.
func fingerprintsOf(msg alerts.Message) []string {
	var out []string
	for _, e := range msg.Events {
		out = append(out, e.Fingerprint)
	}
	slices.Sort(out)
	return out
}

// newSender returns a sender with a fake clock at start and a recorder;
// cfg's Notifier and Clock are set by it.
func newSender(t *testing.T, cfg digest.Config, start time.Time) (*digest.Sender, *fakeClock, *recorder) {
	t.Helper()
	clk := &fakeClock{now: start}
	rec := &recorder{clock: clk}
	cfg.Notifier, cfg.Clock = rec, clk
	s, err := digest.New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return s, clk, rec
}

func mustSetTenant(t *testing.T, s *digest.Sender, id string, tn digest.Tenant) {
	t.Helper()
	if err := s.SetTenant(id, tn); err != nil {
		t.Fatalf("SetTenant(%q): %v", id, err)
	}
}

func mustAdd(t *testing.T, s *digest.Sender, it digest.Item) {
	t.Helper()
	if err := s.Collector().Add(it); err != nil {
		t.Fatalf("Add(%+v): %v", it, err)
	}
}
