package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"strings"
	"sync"
	"time"
	_ "time/tzdata" // the recipients' zone, on machines without a zone database

	"github.com/alertmail/alertmail/alerts"
	"github.com/alertmail/alertmail/digest"
)

func main() {
	if err := run(context.Background(), os.Stdout); err != nil {
		log.Fatal(err)
	}
}

// run tells the quickstart's story on w: the settings screen, a stale
// save, Active Threat events through the frequency limit, a configuration
// event dropped by a disable, and the next morning's digest of the event
// under the threshold.
func run(ctx context.Context, w io.Writer) error {
	s, err := newStory(w)
	if err != nil {
		return err
	}
	// Run sends what falls due, such as the events the frequency limit
	// held back, once the limit allows: nobody calls Flush for them.
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- s.d.Run(ctx) }()
	defer func() {
		cancel()
		<-done
	}()
	current, saved, err := s.settingsScreen(ctx)
	if err != nil {
		return err
	}
	if err := s.staleSave(ctx, current); err != nil {
		return err
	}
	if err := s.activeThreats(ctx); err != nil {
		return err
	}
	if err := s.configurationOffAndOn(ctx, saved); err != nil {
		return err
	}
	return s.dailyDigest(ctx)
}

// story is the quickstart's world: a dispatcher whose clock and relay the
// program drives by hand, so that the output is the same on every run.
// Dispatcher.Run reads the clock and notifies from its own goroutine, so
// the clock and the notifier's output are behind a lock.
type story struct {
	w       io.Writer
	d       *alerts.Dispatcher
	digests *digest.Mailer
	emails  chan struct{} // a token for each email the notifier takes

	mu        sync.Mutex
	now       time.Time
	relayDown bool
	sent      strings.Builder // what the notifier would send, printed after each outcome
}

// clock returns the story's time.
func (s *story) clock() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.now
}

// setClock moves the story's time to t.
func (s *story) setClock(t time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.now = t
}

// setRelayDown makes the relay refuse emails, or accept them again.
func (s *story) setRelayDown(down bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.relayDown = down
}

// flushSent prints what the notifier would have sent since the last call.
func (s *story) flushSent() {
	s.mu.Lock()
	defer s.mu.Unlock()
	io.WriteString(s.w, s.sent.String())
	s.sent.Reset()
}

// newStory builds the sending path, first because settings are saved
// through it: a save then takes effect on the alerts already queued. The
// digest reads the same settings, so the same save governs it. The
// notifier prints what it would send.
func newStory(w io.Writer) (*story, error) {
	// The service's categories: the built-in four and one of its own.
	catalog, err := alerts.NewCatalog(alerts.CatalogConfig{
		Categories: []alerts.Category{{
			ID:          "billing",
			Name:        "Billing Alerts",
			Description: "Invoices and quota warnings.",
		}},
		MaxRecipients: 10,
	})
	if err != nil {
		return nil, err
	}
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		return nil, err
	}
	s := &story{w: w, now: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC), emails: make(chan struct{}, 16)}
	clock := alerts.ClockFunc(s.clock)
	store := alerts.NewMemorySettingsStore(catalog)
	// The daily digest, at 08:00 in the tenant's zone, to the recipients
	// of the alert settings and of the categories that are on.
	s.digests, err = digest.NewMailer(digest.MailerConfig{
		Notifier: alerts.NotifierFunc(s.notify),
		Settings: store,
		Catalog:  catalog,
		Clock:    clock,
	})
	if err != nil {
		return nil, err
	}
	if err := s.digests.SetTenant("acme", digest.Subscription{Schedule: digest.Schedule{Hour: 8, Location: paris}}); err != nil {
		return nil, err
	}
	s.d, err = alerts.NewDispatcher(alerts.DispatcherConfig{
		Settings: store,
		Saver:    store, // so that saves go through the dispatcher
		Notifier: alerts.NotifierFunc(s.notify),
		Digest:   s.digests, // events under the threshold
		// The default renderer, alerts.Content with the built-in templates
		// and the service's catalog, the default frequency limit (5 emails,
		// then 4 hours of cooling) and the default threshold (Active Threat
		// at score 4 or more).
		Catalog:  store.Catalog(),
		Clock:    clock,
		Location: func(string) *time.Location { return paris },
		// Run sleeps on real timers: with a clock moved by hand, it looks
		// at the store often, to see the move (the default is 5 s).
		PollInterval: 10 * time.Millisecond,
	})
	if err != nil {
		return nil, err
	}
	return s, nil
}

// notify is the notifier: it notes what it would send, unless the relay is
// down.
func (s *story) notify(_ context.Context, msg *alerts.Message) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.relayDown {
		return errors.New("relay unavailable")
	}
	s.emails <- struct{}{}
	fmt.Fprintf(&s.sent, "  would send %s to %s: %q\n", msg.ID, strings.Join(msg.To, ", "), msg.Subject)
	if msg.Category == "" {
		// A digest: what it lists.
		for _, ev := range msg.Events {
			fmt.Fprintf(&s.sent, "    lists %s: %s\n", ev.Asset, ev.Summary)
		}
		return nil
	}
	if msg.Carried > 0 {
		// The email after a cooling period, in full.
		fmt.Fprintf(&s.sent, "\n%s", indent(msg.Text))
	}
	return nil
}

// settingsScreen is "Notifications > Email Alerts": the screen loads and
// saves through the dispatcher, an alerts.SettingsStore. It returns the
// settings it started from and those it saved.
func (s *story) settingsScreen(ctx context.Context) (current, saved *alerts.Settings, err error) {
	// The tenant has never saved settings, so it starts from the defaults.
	current, err = s.d.Load(ctx, "acme")
	if err != nil {
		return nil, nil, err
	}
	fmt.Fprintf(s.w, "tenant %s, version %d, on by default: %v\n", current.Tenant, current.Version, current.EnabledCategories())

	// Enable all (confirmed with "Yes"), System Status toggled off, and the
	// recipients from "Manage Email Settings": a list with a display name is
	// refused whole, naming the entry; an internationalised domain is
	// converted and a repeated address counts once.
	draft := current.Edit()
	draft.EnableAll()
	if err := draft.Toggle(alerts.SystemStatus); err != nil {
		return nil, nil, err
	}
	err = draft.SetRecipients([]string{"SOC@Acme.Example", "Bob <bob@acme.example>"})
	fmt.Fprintln(s.w, "rejected:", err)
	if err := draft.SetRecipients([]string{"SOC@Acme.Example", "oncall@Bücher.example", "SOC@ACME.example"}); err != nil {
		return nil, nil, err
	}
	fmt.Fprintln(s.w, "pending change:", draft.Change())

	if saved, err = s.d.Save(ctx, draft.Settings()); err != nil {
		return nil, nil, err
	}
	fmt.Fprintf(s.w, "saved version %d, on: %v, recipients: %v\n", saved.Version, saved.EnabledCategories(), saved.Recipients())
	return current, saved, nil
}

// staleSave is someone else who had the screen open on the old version:
// their save is refused instead of overwriting ours.
func (s *story) staleSave(ctx context.Context, old *alerts.Settings) error {
	stale := old.Edit()
	stale.DisableAll()
	_, err := s.d.Save(ctx, stale.Settings())
	if !errors.Is(err, alerts.ErrConflict) {
		return fmt.Errorf("stale save: got %v; want a conflict", err)
	}
	fmt.Fprintln(s.w, "stale save refused:", err)
	return nil
}

// activeThreats sends Active Threat events: one below the threshold, then
// seven, of which the limit holds the last two back until Run sends them
// when the cooling period ends.
func (s *story) activeThreats(ctx context.Context) error {
	fmt.Fprintln(s.w, "\nActive Threat events:")
	// Below the threshold: no alert; it goes to the daily digest.
	if err := s.dispatch(ctx, "det-0", alerts.ActiveThreat, 3.5, "Unsigned driver loaded"); err != nil {
		return err
	}
	// Five emails, then a four-hour cooling period: the sixth and seventh
	// events are held back, not lost.
	for i := 1; i <= 7; i++ {
		s.setClock(s.clock().Add(10 * time.Minute))
		if err := s.dispatch(ctx, fmt.Sprintf("det-%d", i), alerts.ActiveThreat, 8, "Ransomware behaviour blocked"); err != nil {
			return err
		}
	}
	// When the cooling period ends, Run sends the held-back events in one
	// email: the story only moves the clock.
	s.setClock(time.Date(2026, 3, 2, 13, 50, 0, 0, time.UTC))
	select {
	case <-s.emails:
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(10 * time.Second):
		return errors.New("Run sent nothing when the cooling period ended")
	}
	fmt.Fprintf(s.w, "%s cooling period over: Run sent the held-back events\n", s.clock().Format("15:04"))
	s.flushSent()
	return nil
}

// configurationOffAndOn sends a Configuration event while the relay is
// down, then turns the category off and on again from saved: the disable
// drops the queued event, so the retry sends nothing.
func (s *story) configurationOffAndOn(ctx context.Context, saved *alerts.Settings) error {
	fmt.Fprintln(s.w, "\nConfiguration events:")
	// The relay is down: the event is kept pending, nothing is lost.
	s.setRelayDown(true)
	if err := s.dispatch(ctx, "cfg-1", alerts.Configuration, 0, "Firewall policy changed"); err != nil {
		return err
	}
	s.setRelayDown(false)
	// Before it is retried, the tenant turns Configuration alerts off, then
	// changes its mind and turns them on again. The disable, saved through
	// the dispatcher, dropped the queued event at once: it is not sent now
	// that the category is on again.
	for _, on := range []bool{false, true} {
		draft := saved.Edit()
		if err := draft.Set(alerts.Configuration, on); err != nil {
			return err
		}
		fmt.Fprintln(s.w, "pending change:", draft.Change())
		var err error
		if saved, err = s.d.Save(ctx, draft.Settings()); err != nil {
			return err
		}
		fmt.Fprintf(s.w, "saved version %d\n", saved.Version)
	}
	s.setClock(s.clock().Add(time.Minute))
	res, err := s.d.Flush(ctx, "acme", alerts.Configuration)
	if err != nil {
		return err
	}
	fmt.Fprintf(s.w, "%s retry: %s, %d %s sent\n", s.clock().Format("15:04"), res.Outcome, res.Events, plural(res.Events, "event"))
	return nil
}

// dailyDigest is the next morning: the digest of the tenant's day lists the
// Active Threat event that stayed under the threshold.
func (s *story) dailyDigest(ctx context.Context) error {
	fmt.Fprintln(s.w, "\nThe next morning:")
	s.setClock(time.Date(2026, 3, 3, 7, 0, 0, 0, time.UTC)) // 08:00 in Paris
	if err := s.digests.SendDue(ctx); err != nil {
		return err
	}
	<-s.emails
	s.flushSent()
	return nil
}

// dispatch sends one event through the dispatcher and prints what became
// of it, then what the notifier would have sent.
func (s *story) dispatch(ctx context.Context, id string, cat alerts.CategoryID, score float64, summary string) error {
	now := s.clock()
	ev := alerts.Event{ID: id, Tenant: "acme", Category: cat, Score: score, Asset: "web-01", Summary: summary, Time: now}
	res, err := s.d.Dispatch(ctx, ev)
	if err != nil {
		return err
	}
	if res.Outcome == alerts.Sent {
		<-s.emails
	}
	fmt.Fprintf(s.w, "%s %s", now.Format("15:04"), id)
	if score != 0 {
		fmt.Fprintf(s.w, " (score %g)", score)
	}
	fmt.Fprintf(s.w, ": %s", res.Outcome)
	switch res.Outcome {
	case alerts.Sent:
		fmt.Fprintf(s.w, ", one email covering %d %s\n", res.Events, plural(res.Events, "event"))
	case alerts.Suppressed:
		fmt.Fprintf(s.w, ", %d pending until %s\n", res.Pending, res.Next.Format("15:04"))
	case alerts.SendFailed:
		fmt.Fprintf(s.w, " (%v), %d pending\n", res.Err, res.Pending)
	case alerts.BelowThreshold:
		fmt.Fprintln(s.w, ", no alert: kept for the daily digest")
	default:
		fmt.Fprintln(s.w)
	}
	s.flushSent()
	return nil
}

func plural(n int, noun string) string {
	if n == 1 {
		return noun
	}
	return noun + "s"
}

// indent indents every line of text by four spaces.
func indent(text string) string {
	lines := strings.Split(strings.TrimRight(text, "\n"), "\n")
	for i, l := range lines {
		if l != "" {
			lines[i] = "    " + l
		}
	}
	return strings.Join(lines, "\n") + "\n"
}
