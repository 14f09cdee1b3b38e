package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"strings"
	"time"
	_ "time/tzdata" // the recipients' zone, on machines without a zone database

	"github.com/alertmail/alertmail/alerts"
)

func main() {
	if err := run(context.Background(), os.Stdout); err != nil {
		log.Fatal(err)
	}
}

// run tells the quickstart's story on w. The time is a variable the program
// advances by hand, so the output is the same on every run.
func run(ctx context.Context, w io.Writer) error {
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
		return err
	}
	store := alerts.NewMemorySettingsStore(catalog)

	// The sending path, built first because settings are saved through it:
	// a save then takes effect on the alerts already queued. The notifier
	// prints what it would send; for a moment the relay is down.
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	relayDown := false
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		return err
	}
	var sent strings.Builder // what the notifier would send, printed after each outcome
	notifier := alerts.NotifierFunc(func(_ context.Context, msg *alerts.Message) error {
		if relayDown {
			return errors.New("relay unavailable")
		}
		fmt.Fprintf(&sent, "  would send %s to %s: %q\n", msg.ID, strings.Join(msg.To, ", "), msg.Subject)
		if msg.Carried > 0 {
			// The email after a cooling period, in full.
			fmt.Fprintf(&sent, "\n%s", indent(msg.Text))
		}
		return nil
	})
	d, err := alerts.NewDispatcher(alerts.DispatcherConfig{
		Settings: store,
		Saver:    store, // so that saves go through the dispatcher
		Notifier: notifier,
		// The default renderer, alerts.Content with the built-in templates
		// and the service's catalog, the default frequency limit (5 emails,
		// then 4 hours of cooling) and the default threshold (Active Threat
		// at score 4 or more).
		Catalog:  store.Catalog(),
		Clock:    alerts.ClockFunc(func() time.Time { return now }),
		Location: func(string) *time.Location { return paris },
	})
	if err != nil {
		return err
	}

	// "Notifications > Email Alerts": the screen loads and saves through
	// the dispatcher, an alerts.SettingsStore. The tenant has never saved
	// settings, so it starts from the defaults.
	current, err := d.Load(ctx, "acme")
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "tenant %s, version %d, on by default: %v\n", current.Tenant, current.Version, current.EnabledCategories())

	// Enable all (confirmed with "Yes"), System Status toggled off, and the
	// recipients from "Manage Email Settings": a list with a display name is
	// refused whole, naming the entry; an internationalised domain is
	// converted and a repeated address counts once.
	draft := current.Edit()
	draft.EnableAll()
	if err := draft.Toggle(alerts.SystemStatus); err != nil {
		return err
	}
	err = draft.SetRecipients([]string{"SOC@Acme.Example", "Bob <bob@acme.example>"})
	fmt.Fprintln(w, "rejected:", err)
	if err := draft.SetRecipients([]string{"SOC@Acme.Example", "oncall@Bücher.example", "soc@acme.example"}); err != nil {
		return err
	}
	fmt.Fprintln(w, "pending change:", draft.Change())

	saved, err := d.Save(ctx, draft.Settings())
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "saved version %d, on: %v, recipients: %v\n", saved.Version, saved.EnabledCategories(), saved.Recipients())

	// Someone else had the screen open on the old version: their save is
	// refused instead of overwriting ours.
	stale := current.Edit()
	stale.DisableAll()
	if _, err := d.Save(ctx, stale.Settings()); errors.Is(err, alerts.ErrConflict) {
		fmt.Fprintln(w, "stale save refused:", err)
	} else {
		return fmt.Errorf("stale save: got %v; want a conflict", err)
	}

	// dispatch sends one event through the dispatcher and prints what
	// became of it.
	dispatch := func(id string, cat alerts.CategoryID, score float64, summary string) error {
		ev := alerts.Event{ID: id, Tenant: "acme", Category: cat, Score: score, Asset: "web-01", Summary: summary, Time: now}
		res, err := d.Dispatch(ctx, ev)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "%s %s", now.Format("15:04"), id)
		if score != 0 {
			fmt.Fprintf(w, " (score %g)", score)
		}
		fmt.Fprintf(w, ": %s", res.Outcome)
		switch res.Outcome {
		case alerts.Sent:
			fmt.Fprintf(w, ", one email covering %d %s\n", res.Events, plural(res.Events, "event"))
		case alerts.Suppressed:
			fmt.Fprintf(w, ", %d pending until %s\n", res.Pending, res.Next.Format("15:04"))
		case alerts.SendFailed:
			fmt.Fprintf(w, " (%v), %d pending\n", res.Err, res.Pending)
		case alerts.BelowThreshold:
			fmt.Fprintln(w, ", no email (the host keeps it for the daily digest)")
		default:
			fmt.Fprintln(w)
		}
		io.WriteString(w, sent.String())
		sent.Reset()
		return nil
	}

	fmt.Fprintln(w, "\nActive Threat events:")
	// Below the threshold: no email (the host keeps it for the digest).
	if err := dispatch("det-0", alerts.ActiveThreat, 3.5, "Unsigned driver loaded"); err != nil {
		return err
	}
	// Five emails, then a four-hour cooling period: the sixth and seventh
	// events are held back, not lost.
	for i := 1; i <= 7; i++ {
		now = now.Add(10 * time.Minute)
		if err := dispatch(fmt.Sprintf("det-%d", i), alerts.ActiveThreat, 8, "Ransomware behaviour blocked"); err != nil {
			return err
		}
	}
	// After the cooling period, the next email covers the held-back events.
	now = time.Date(2026, 3, 2, 13, 50, 0, 0, time.UTC)
	if err := dispatch("det-8", alerts.ActiveThreat, 9, "Credential dumping"); err != nil {
		return err
	}

	fmt.Fprintln(w, "\nConfiguration events:")
	// The relay is down: the event is kept pending, nothing is lost.
	relayDown = true
	if err := dispatch("cfg-1", alerts.Configuration, 0, "Firewall policy changed"); err != nil {
		return err
	}
	relayDown = false
	// Before it is retried, the tenant turns Configuration alerts off, then
	// changes its mind and turns them on again. The disable, saved through
	// the dispatcher, dropped the queued event at once: it is not sent now
	// that the category is on again.
	for _, on := range []bool{false, true} {
		draft = saved.Edit()
		if err := draft.Set(alerts.Configuration, on); err != nil {
			return err
		}
		fmt.Fprintln(w, "pending change:", draft.Change())
		if saved, err = d.Save(ctx, draft.Settings()); err != nil {
			return err
		}
		fmt.Fprintf(w, "saved version %d\n", saved.Version)
	}
	now = now.Add(time.Minute)
	res, err := d.Flush(ctx, "acme", alerts.Configuration)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "%s retry: %s, %d %s sent\n", now.Format("15:04"), res.Outcome, res.Events, plural(res.Events, "event"))
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
