package tally

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// A Tally holds the instruments of one meter whose values are counted in
// memory, and reports them all in one callback, registered by
// [Tally.Register]. Create one with [New]; the zero value is not usable. It
// is safe for concurrent use.
type Tally struct {
	meter metric.Meter
	err   error // the first error of an instrument's creation

	mu    sync.RWMutex
	insts []*Instrument
}

// An Instrument is one observable counter or up-down counter of a
// [Tally], with its series.
type Instrument struct {
	obs metric.Int64Observable

	mu     sync.RWMutex
	series []*Series
	byAttr map[attribute.Distinct]*Series
}

// A Series is the count of one attribute set of an [Instrument]. Its
// methods are safe for concurrent use and do nothing on a nil Series.
type Series struct {
	n   atomic.Int64
	obs []metric.ObserveOption // the attribute set, made once
}

// New returns a Tally of meter's instruments.
func New(meter metric.Meter) *Tally { return &Tally{meter: meter} }

// Counter adds a monotonic counter named name to t.
func (t *Tally) Counter(name string, opts ...metric.Int64ObservableCounterOption) *Instrument {
	obs, err := t.meter.Int64ObservableCounter(name, opts...)
	return t.add(obs, err)
}

// UpDownCounter adds an up-down counter (a value that goes both ways, such
// as a queue's length) named name to t.
func (t *Tally) UpDownCounter(name string, opts ...metric.Int64ObservableUpDownCounterOption) *Instrument {
	obs, err := t.meter.Int64ObservableUpDownCounter(name, opts...)
	return t.add(obs, err)
}

func (t *Tally) add(obs metric.Int64Observable, err error) *Instrument {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.err = errors.Join(t.err, err)
	in := &Instrument{obs: obs, byAttr: make(map[attribute.Distinct]*Series)}
	t.insts = append(t.insts, in)
	return in
}

// Register registers the callback that reports every series of t's
// instruments, and returns the first error met making them. The
// registration lasts as long as the meter's provider, or until
// Unregister.
func (t *Tally) Register() (metric.Registration, error) {
	t.mu.RLock()
	err := t.err
	obs := make([]metric.Observable, len(t.insts))
	for i, in := range t.insts {
		obs[i] = in.obs
	}
	t.mu.RUnlock()
	if err != nil {
		return nil, err
	}
	return t.meter.RegisterCallback(t.observe, obs...)
}

// observe reports every series.
func (t *Tally) observe(_ context.Context, o metric.Observer) error {
	t.mu.RLock()
	defer t.mu.RUnlock()
	for _, in := range t.insts {
		in.mu.RLock()
		for _, s := range in.series {
			o.ObserveInt64(in.obs, s.n.Load(), s.obs...)
		}
		in.mu.RUnlock()
	}
	return nil
}

// Series returns the series of in for the attribute set set, made on
// first use and reported from then on, at zero until counted.
func (in *Instrument) Series(set attribute.Set) *Series {
	key := set.Equivalent()
	in.mu.RLock()
	s := in.byAttr[key]
	in.mu.RUnlock()
	if s != nil {
		return s
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	if s = in.byAttr[key]; s == nil {
		s = &Series{obs: []metric.ObserveOption{metric.WithAttributeSet(set)}}
		in.byAttr[key] = s
		in.series = append(in.series, s)
	}
	return s
}

// Add adds n to s.
func (s *Series) Add(n int64) {
	if s != nil {
		s.n.Add(n)
	}
}

// Load returns the count of s; 0 for a nil Series.
func (s *Series) Load() int64 {
	if s == nil {
		return 0
	}
	return s.n.Load()
}
