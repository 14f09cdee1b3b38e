package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"time"

	"github.com/alertmail/alertmail/alerts"
)

func main() {
	if err := run(context.Background(), os.Stdout); err != nil {
		log.Fatal(err)
	}
}

// Webhook is a custom backend: it implements alerts.Notifier by posting
// each message as JSON to URL. It is safe for concurrent use.
type Webhook struct {
	URL    string
	Client *http.Client // nil means http.DefaultClient
}

// payload is what the webhook posts: the message's identity, its rendered
// subject and plain text, and the events themselves, so that the receiver
// can act on them without parsing an email.
type payload struct {
	ID       string         `json:"id"`
	Tenant   string         `json:"tenant"`
	Category string         `json:"category"`
	Subject  string         `json:"subject"`
	Text     string         `json:"text"`
	Carried  int            `json:"carried"`
	Events   []eventPayload `json:"events"`
}

type eventPayload struct {
	ID    string    `json:"id"`
	Score float64   `json:"score"`
	Asset string    `json:"asset"`
	Text  string    `json:"summary"`
	Time  time.Time `json:"time"`
}

// Notify posts msg. It returns nil only once the receiver answered 2xx, so
// that the dispatcher keeps the events for a later attempt otherwise; the
// Idempotency-Key header (the message's stable ID) lets the receiver drop
// a retried duplicate.
func (w *Webhook) Notify(ctx context.Context, msg *alerts.Message) error {
	p := payload{ID: msg.ID, Tenant: msg.Tenant, Category: string(msg.Category),
		Subject: msg.Subject, Text: msg.Text, Carried: msg.Carried}
	for _, e := range msg.Events {
		p.Events = append(p.Events, eventPayload{ID: e.ID, Score: e.Score, Asset: e.Asset, Text: e.Summary, Time: e.Time})
	}
	body, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("webhook: encoding message %s: %w", msg.ID, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("webhook: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", msg.ID)
	client := w.Client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("webhook: posting message %s: %w", msg.ID, err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("webhook: posting message %s: %s", msg.ID, resp.Status)
	}
	return nil
}

var _ alerts.Notifier = (*Webhook)(nil)

// run plugs the webhook into a Dispatcher, sends two events through it
// to a local receiving service, and prints what the service received.
func run(ctx context.Context, w io.Writer) error {
	rc := new(receiver)
	srv := httptest.NewServer(rc)
	defer srv.Close()
	d, err := newDispatcher(ctx, &Webhook{URL: srv.URL, Client: srv.Client()})
	if err != nil {
		return err
	}
	if err := dispatch(ctx, w, d); err != nil {
		return err
	}
	rc.print(w)
	return nil
}

// receiver stands in for the receiving service (a chat bot, a ticketing
// system): it records what it got and fails the first post, to show that
// nothing is lost when a backend fails. It is safe for concurrent use.
type receiver struct {
	mu       sync.Mutex
	received []payload
	posts    int
}

func (rc *receiver) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.posts++
	if rc.posts == 1 {
		http.Error(rw, "try again", http.StatusServiceUnavailable)
		return
	}
	var p payload
	if err := json.NewDecoder(r.Body).Decode(&p); err != nil {
		http.Error(rw, err.Error(), http.StatusBadRequest)
		return
	}
	if r.Header.Get("Idempotency-Key") != p.ID {
		http.Error(rw, "idempotency key mismatch", http.StatusBadRequest)
		return
	}
	rc.received = append(rc.received, p)
	rw.WriteHeader(http.StatusNoContent)
}

// print writes what the service received.
func (rc *receiver) print(w io.Writer) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	for _, p := range rc.received {
		fmt.Fprintf(w, "webhook got %s %q: %d events, %d carried\n", p.Category, p.Subject, len(p.Events), p.Carried)
		for _, e := range p.Events {
			fmt.Fprintf(w, "  %s score %v on %s: %s\n", e.ID, e.Score, e.Asset, e.Text)
		}
	}
}

// newDispatcher returns a dispatcher that sends through n, with tenant
// acme's Active Threat alerts going to one recipient.
func newDispatcher(ctx context.Context, n alerts.Notifier) (*alerts.Dispatcher, error) {
	settings := alerts.NewMemorySettingsStore(nil)
	cur, err := settings.Load(ctx, "acme")
	if err != nil {
		return nil, err
	}
	draft := cur.Edit()
	if err := draft.SetRecipients([]string{"soc@acme.example"}); err != nil {
		return nil, err
	}
	if _, err := settings.Save(ctx, draft.Settings()); err != nil {
		return nil, err
	}
	return alerts.NewDispatcher(alerts.DispatcherConfig{Settings: settings, Notifier: n})
}

// dispatch sends two Active Threat events through d and prints what became
// of each: the first send fails, and the second email carries its event.
func dispatch(ctx context.Context, w io.Writer, d *alerts.Dispatcher) error {
	at := time.Date(2026, 6, 2, 7, 30, 0, 0, time.UTC)
	for i, summary := range []string{"Ransomware behaviour", "Credential dumping"} {
		ev := alerts.Event{ID: fmt.Sprintf("det-%d", i+1), Tenant: "acme", Category: alerts.ActiveThreat,
			Score: 8.5, Asset: "web-01", Summary: summary, Time: at}
		res, err := d.Dispatch(ctx, ev)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "dispatch %s: %s, pending %d\n", ev.ID, res.Outcome, res.Pending)
		if res.Err != nil {
			fmt.Fprintf(w, "  backend error: %v\n", res.Err)
		}
	}
	return nil
}
