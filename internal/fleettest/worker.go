package fleettest

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/alertmail/alertmail/alerts"
	"github.com/alertmail/alertmail/alerts/redisstore"
	"github.com/alertmail/alertmail/alerts/smtpnotify"
)

// Main runs the worker and exits when the process is one that [Start]
// started (the environment holds [EnvWorker]); otherwise it returns at
// once. Call it first in TestMain.
func Main() {
	env := os.Getenv(EnvWorker)
	if env == "" {
		return
	}
	var cfg Config
	if err := json.Unmarshal([]byte(env), &cfg); err != nil {
		fmt.Fprintf(os.Stderr, "fleettest: %s: %v\n", EnvWorker, err)
		os.Exit(2)
	}
	if err := runWorker(cfg); err != nil {
		fmt.Fprintf(os.Stderr, "fleettest: worker %d: %v\n", cfg.Index, err)
		os.Exit(1)
	}
	os.Exit(0)
}

// A record is one line of a worker's file.
type record struct {
	// Kind is "ack" (an event acknowledged), "err" (a Dispatch that
	// failed), "gave-up" (an event never acknowledged), "mail" (an email
	// sent), "start" and "end" (the first Dispatch and the last
	// acknowledgement or email of the worker).
	Kind    string   `json:"k"`
	ID      string   `json:"id,omitempty"` // the event's, or the email's Message-ID
	Tenant  string   `json:"t,omitempty"`
	Outcome string   `json:"o,omitempty"`
	Nanos   int64    `json:"ns,omitempty"` // ack: the latency; mail, start, end: the Unix time
	Events  []string `json:"ev,omitempty"` // mail: the IDs of its events
	Err     string   `json:"e,omitempty"`
	// NotReplicated marks an "err" that wraps redisstore.ErrNotReplicated.
	NotReplicated bool `json:"nr,omitempty"`
	// Ambiguous marks an "err" of a store call that may have recorded the
	// event (see ambiguous).
	Ambiguous bool `json:"am,omitempty"`
	// Mail is, for an "err", the Message-ID of the email the call sent
	// but may not have recorded: its events may be sent again, with
	// others, under another Message-ID.
	Mail string `json:"m,omitempty"`
}

// ambiguous reports whether err, of a Dispatch, is of a store call that
// may have recorded the event or its email all the same: a Take or Commit
// whose reply was lost, or that the replicas did not acknowledge. The
// host offers the event again: a duplicate where the store kept the first
// offer, taken anew where a failover lost it, and in two emails only if
// the store forgot its ID in between (the one failover case that could).
func ambiguous(err error) bool {
	var op *redisstore.OpError
	var rep *redisstore.ReplicationError
	switch {
	case errors.As(err, &op):
		return op.Op == "limiter take" || op.Op == "limiter commit"
	case errors.As(err, &rep):
		return rep.Op == "limiter take" || rep.Op == "limiter commit"
	}
	return false
}

// A recorder writes a worker's records to its file.
type recorder struct {
	mu  sync.Mutex
	f   *os.File
	w   *bufio.Writer
	enc *json.Encoder
	err error
}

func newRecorder(path string) (*recorder, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	w := bufio.NewWriterSize(f, 1<<16)
	return &recorder{f: f, w: w, enc: json.NewEncoder(w)}, nil
}

func (r *recorder) write(rec record) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.enc.Encode(rec); err != nil && r.err == nil {
		r.err = err
	}
}

func (r *recorder) close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.w.Flush(); err != nil && r.err == nil {
		r.err = err
	}
	if err := r.f.Close(); err != nil && r.err == nil {
		r.err = err
	}
	return r.err
}

// A worker is one dispatcher process.
type worker struct {
	cfg  Config
	d    *alerts.Dispatcher
	rec  *recorder
	sent atomic.Int64
	// last is the Unix time of the last acknowledgement or email.
	last atomic.Int64
}

// done notes an acknowledgement or an email now.
func (w *worker) done() {
	now := time.Now().UnixNano()
	for {
		cur := w.last.Load()
		if now <= cur || w.last.CompareAndSwap(cur, now) {
			return
		}
	}
}

// An unrecordedHandler is the dispatcher's log: it records the emails
// that Run sent but could not record (their Commit failed), which it
// reports only there.
type unrecordedHandler struct{ w *worker }

func (h unrecordedHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelError }
func (h unrecordedHandler) WithAttrs([]slog.Attr) slog.Handler           { return h }
func (h unrecordedHandler) WithGroup(string) slog.Handler                { return h }

func (h unrecordedHandler) Handle(_ context.Context, r slog.Record) error {
	if !strings.Contains(r.Message, "sent but not recorded") {
		return nil
	}
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "message" {
			h.w.rec.write(record{Kind: "err", Err: r.Message, Mail: a.Value.String()})
		}
		return true
	})
	return nil
}

func runWorker(cfg Config) error {
	rec, err := newRecorder(cfg.Out)
	if err != nil {
		return err
	}
	client := NewClient(cfg)
	defer closeClient(client)
	st, err := redisstore.New(redisstore.Config{Client: client, Prefix: cfg.Prefix, Durability: cfg.Durability})
	if err != nil {
		return err
	}
	w := &worker{cfg: cfg, rec: rec}
	n, err := w.notifier()
	if err != nil {
		return err
	}
	if w.d, err = alerts.NewDispatcher(alerts.DispatcherConfig{
		Settings: st, Notifier: n, Store: st, Limit: cfg.Limit, LeaseTTL: cfg.LeaseTTL,
		// A failed send comes back soon, not after 30 s.
		RetryBackoff: 100 * time.Millisecond, PollInterval: cfg.PollInterval,
		Async:  cfg.Async,
		Logger: slog.New(unrecordedHandler{w}),
	}); err != nil {
		return err
	}
	// Run sends what the limit held back, a failed send's retry and an
	// expired lease's events, when they fall due; Dispatch sends the rest.
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan struct{})
	go func() {
		w.d.Run(ctx)
		close(ran)
	}()
	w.dispatchAll(ctx)
	// Run goes on until it has sent nothing for Drain.
	for stop := time.Now().Add(cfg.Drain + time.Minute); time.Now().Before(stop); time.Sleep(20 * time.Millisecond) {
		if time.Since(time.Unix(0, w.last.Load())) >= cfg.Drain {
			break
		}
	}
	cancel()
	<-ran
	w.rec.write(record{Kind: "end", Nanos: w.last.Load()})
	if cfg.Notifier != Record {
		rec.write(record{Kind: "sent", Nanos: w.sent.Load()})
	}
	return rec.close()
}

// notifier returns the Notifier of w's Config.
func (w *worker) notifier() (alerts.Notifier, error) {
	switch w.cfg.Notifier {
	case Record:
		return alerts.NotifierFunc(func(_ context.Context, msg *alerts.Message) error {
			ids := make([]string, len(msg.Events))
			for i := range msg.Events {
				ids[i] = msg.Events[i].ID
			}
			w.rec.write(record{Kind: "mail", ID: msg.ID, Tenant: msg.Tenant, Nanos: msg.Time.UnixNano(), Events: ids})
			w.done()
			return nil
		}), nil
	case Null:
		return alerts.NotifierFunc(func(context.Context, *alerts.Message) error {
			w.sent.Add(1)
			w.done()
			return nil
		}), nil
	case SMTP:
		n, err := w.smtp()
		if err != nil {
			return nil, err
		}
		return alerts.NotifierFunc(func(ctx context.Context, msg *alerts.Message) error {
			err := n.Notify(ctx, msg)
			if err == nil {
				w.sent.Add(1)
				w.done()
			}
			return err
		}), nil
	}
	return nil, fmt.Errorf("Config.Notifier %q is not known", w.cfg.Notifier)
}

// smtp returns the notifier of the SMTP sink, with a send bounded well
// within the lease.
func (w *worker) smtp() (*smtpnotify.Notifier, error) {
	host, port, err := net.SplitHostPort(w.cfg.SMTPAddr)
	if err != nil {
		return nil, fmt.Errorf("Config.SMTPAddr %q: %w", w.cfg.SMTPAddr, err)
	}
	p, err := strconv.Atoi(port)
	if err != nil {
		return nil, fmt.Errorf("Config.SMTPAddr %q: %w", w.cfg.SMTPAddr, err)
	}
	return smtpnotify.New(smtpnotify.Config{
		Host: host, Port: p, Security: smtpnotify.Plaintext, From: "alerts@alertmail.example",
		DialTimeout: time.Second, AttemptTimeout: w.cfg.LeaseTTL / 2,
	})
}

// dispatchAll offers the worker's events, at Rate, from Concurrency
// goroutines, each until it is acknowledged.
func (w *worker) dispatchAll(ctx context.Context) {
	next := make(chan int, 1024)
	go func() {
		defer close(next)
		start := time.Now()
		for n := range w.cfg.Events {
			if w.cfg.Rate > 0 {
				if d := time.Until(start.Add(time.Duration(float64(n) / w.cfg.Rate * float64(time.Second)))); d > 0 {
					time.Sleep(d)
				}
			}
			next <- n
		}
	}()
	w.rec.write(record{Kind: "start", Nanos: time.Now().UnixNano()})
	var wg sync.WaitGroup
	for range w.cfg.Concurrency {
		wg.Go(func() {
			for n := range next {
				w.offer(ctx, w.event(n))
			}
		})
	}
	wg.Wait()
}

// event returns the worker's event number n, for a tenant chosen by a
// hash of its ID.
func (w *worker) event(n int) alerts.Event {
	id := "w" + strconv.Itoa(w.cfg.Index) + "-" + strconv.Itoa(n)
	h := fnv.New32a()
	h.Write([]byte(id))
	tenant := Tenant(int(h.Sum32() % uint32(w.cfg.Tenants)))
	return alerts.Event{
		ID: id, Tenant: tenant, Category: alerts.ActiveThreat, Score: 9,
		Asset: "host-" + strconv.Itoa(n%7), Summary: "event " + id, Time: time.Now(),
	}
}

// offer dispatches ev until it is acknowledged, as a host does with an
// event from its queue, or until GiveUp.
func (w *worker) offer(ctx context.Context, ev alerts.Event) {
	giveUp := time.Now().Add(w.cfg.GiveUp)
	backoff := 20 * time.Millisecond
	for {
		start := time.Now()
		res, err := w.d.Dispatch(ctx, ev)
		took := time.Since(start)
		if err == nil {
			w.done()
			w.rec.write(record{Kind: "ack", ID: ev.ID, Tenant: ev.Tenant, Outcome: string(res.Outcome), Nanos: int64(took)})
			return
		}
		w.rec.write(record{Kind: "err", ID: ev.ID, Err: err.Error(), NotReplicated: errors.Is(err, redisstore.ErrNotReplicated), Ambiguous: ambiguous(err), Mail: res.MessageID})
		if time.Now().After(giveUp) {
			w.rec.write(record{Kind: "gave-up", ID: ev.ID})
			return
		}
		time.Sleep(backoff)
		backoff = min(2*backoff, 500*time.Millisecond)
	}
}
