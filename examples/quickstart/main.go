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

	"github.com/alertmail/alertmail/alerts"
)

func main() {
	if err := run(context.Background(), os.Stdout); err != nil {
		log.Fatal(err)
	}
}

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

	// "Notifications > Email Alerts": the tenant has never saved settings,
	// so it starts from the defaults.
	current, err := store.Load(ctx, "acme")
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "tenant %s, version %d, on by default: %v\n", current.Tenant, current.Version, current.EnabledCategories())

	// Enable all, confirmed with "Yes", then System Status turned off, and
	// the recipients from "Manage Email Settings".
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
	fmt.Fprintln(w, "pending:", draft.Change())

	saved, err := store.Save(ctx, draft.Settings())
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "saved version %d, on: %v, recipients: %v\n", saved.Version, saved.EnabledCategories(), saved.Recipients())

	// Someone else had the screen open on the old version: their save is
	// refused instead of overwriting ours.
	stale := current.Edit()
	stale.DisableAll()
	if _, err := store.Save(ctx, stale.Settings()); errors.Is(err, alerts.ErrConflict) {
		fmt.Fprintln(w, "stale save refused:", err)
	}

	// Events arrive and wait in a queue for the sending path.
	at := time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)
	queue := []alerts.Event{
		{ID: "det-1", Tenant: "acme", Category: alerts.ActiveThreat, Score: 8.5, Asset: "web-01", Summary: "Ransomware behaviour blocked", Time: at},
		{ID: "hc-7", Tenant: "acme", Category: alerts.SystemStatus, Asset: "sensor-3", Summary: "Sensor offline", Time: at.Add(time.Minute)},
		{ID: "cfg-2", Tenant: "acme", Category: alerts.Configuration, Asset: "policy-eu", Summary: "Firewall policy changed", Time: at.Add(2 * time.Minute)},
		{ID: "det-2", Tenant: "acme", Category: alerts.Threat, Score: 3, Asset: "laptop-9", Summary: "Suspicious macro", Time: at.Add(3 * time.Minute)},
	}

	// Before the queue drains, the tenant turns Configuration alerts off:
	// the queued configuration alert must not go out.
	draft = saved.Edit()
	if err := draft.Set(alerts.Configuration, false); err != nil {
		return err
	}
	fmt.Fprintln(w, "pending:", draft.Change())
	if _, err := store.Save(ctx, draft.Settings()); err != nil {
		return err
	}

	// The sending path: check the settings at send time, then notify. This
	// notifier prints instead of sending.
	var notifier alerts.Notifier = alerts.NotifierFunc(func(_ context.Context, msg *alerts.Message) error {
		fmt.Fprintf(w, "\nwould send %s\nTo: %s\nSubject: %s\n\n%s", msg.ID, strings.Join(msg.To, ", "), msg.Subject, msg.Text)
		return nil
	})
	for _, ev := range queue {
		s, err := store.Load(ctx, ev.Tenant)
		if err != nil {
			return err
		}
		if !s.Enabled(ev.Category) {
			fmt.Fprintf(w, "\nnot sent: %s (%s is off)\n", ev.ID, ev.Category)
			continue
		}
		cat, _ := catalog.Lookup(ev.Category)
		msg := &alerts.Message{
			ID:       ev.Tenant + "." + ev.ID,
			Tenant:   ev.Tenant,
			Category: ev.Category,
			To:       s.Recipients(),
			Subject:  fmt.Sprintf("[%s] %s on %s", cat.Name, ev.Summary, ev.Asset),
			Text:     fmt.Sprintf("%s\nAsset: %s\nScore: %g\nDetected: %s\n", ev.Summary, ev.Asset, ev.Score, ev.Time.Format(time.RFC3339)),
			Events:   []alerts.Event{ev},
			Time:     ev.Time,
		}
		if err := notifier.Notify(ctx, msg); err != nil {
			return err
		}
	}
	return nil
}
