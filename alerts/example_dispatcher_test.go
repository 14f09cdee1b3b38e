package alerts_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/alertmail/alertmail/alerts"
	"github.com/alertmail/alertmail/alerts/alertstest"
)

// A dispatcher sends at most five alert emails per tenant and category, then
// holds events back for four hours and carries them into the next email.
func ExampleDispatcher() {
	ctx := context.Background()

	// The tenant's saved settings: Active Threat alerts are on by default;
	// add a recipient.
	settings := alerts.NewMemorySettingsStore(nil)
	cur, _ := settings.Load(ctx, "acme")
	draft := cur.Edit()
	if err := draft.SetRecipients([]string{"soc@example.com"}); err != nil {
		panic(err)
	}
	if _, err := settings.Save(ctx, draft.Settings()); err != nil {
		panic(err)
	}

	clock := alertstest.NewClock(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	outbox := alertstest.NewRecorder() // in production: the SMTP backend
	d, err := alerts.NewDispatcher(alerts.DispatcherConfig{
		Settings: settings,
		Notifier: outbox,
		Clock:    clock,
	})
	if err != nil {
		panic(err)
	}

	for i := range 7 {
		ev := alerts.Event{
			ID:       fmt.Sprintf("det-%d", i),
			Tenant:   "acme",
			Category: alerts.ActiveThreat,
			Score:    8.5,
			Asset:    "laptop-42",
			Summary:  "Credential dumping",
			Time:     clock.Now(),
		}
		res, err := d.Dispatch(ctx, ev)
		if err != nil {
			panic(err)
		}
		fmt.Println(ev.ID, res.Outcome, "pending:", res.Pending)
	}

	// Low scores do not page anyone.
	res, _ := d.Dispatch(ctx, alerts.Event{ID: "det-low", Tenant: "acme", Category: alerts.ActiveThreat, Score: 2})
	fmt.Println("det-low", res.Outcome)

	// When the cooling period is over, the key is due: Dispatcher.Run
	// sends it (here, one pass of it, after moving the test's clock).
	clock.Advance(4 * time.Hour)
	rep, _ := d.FlushDue(ctx)
	fmt.Println("flush due: keys", rep.Keys, "emails", rep.Sent)

	msgs := outbox.Messages()
	last := msgs[len(msgs)-1]
	fmt.Println(len(msgs), "emails; the last covers", len(last.Events), "events, carried:", last.Carried)
	// Output:
	// det-0 sent pending: 0
	// det-1 sent pending: 0
	// det-2 sent pending: 0
	// det-3 sent pending: 0
	// det-4 sent pending: 0
	// det-5 suppressed pending: 1
	// det-6 suppressed pending: 2
	// det-low below-threshold
	// flush due: keys 1 emails 1
	// 6 emails; the last covers 2 events, carried: 2
}

// Saving settings through the dispatcher makes a disable take effect on the
// alerts already queued: turned off and on again, the category does not
// send what was held back before.
func ExampleDispatcher_Save() {
	ctx := context.Background()
	clock := alertstest.NewClock(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	outbox := alertstest.NewRecorder()
	store := alerts.NewMemorySettingsStore(nil)
	d, err := alerts.NewDispatcher(alerts.DispatcherConfig{
		Settings: store,
		Saver:    store, // so that d.Save saves
		Notifier: outbox,
		Clock:    clock,
	})
	if err != nil {
		panic(err)
	}
	// save edits the tenant's settings through the dispatcher, which is a
	// SettingsStore: the settings screen is given d, not the store.
	save := func(edit func(*alerts.Draft) error) {
		cur, err := d.Load(ctx, "acme")
		if err != nil {
			panic(err)
		}
		draft := cur.Edit()
		if err := edit(draft); err != nil {
			panic(err)
		}
		fmt.Println("save:", draft.Change())
		if _, err := d.Save(ctx, draft.Settings()); err != nil {
			panic(err) // a *alerts.DropError means saved, but events may remain queued
		}
	}
	save(func(dr *alerts.Draft) error { return dr.SetRecipients([]string{"soc@example.com"}) })

	for i := range 7 {
		ev := alerts.Event{ID: fmt.Sprint("det-", i), Tenant: "acme", Category: alerts.ActiveThreat, Score: 9, Summary: "Credential dumping"}
		if _, err := d.Dispatch(ctx, ev); err != nil {
			panic(err)
		}
	}
	fmt.Println(outbox.Len(), "emails; 2 events held back by the limit")

	// Off, then on again before any other event: the two held-back events
	// were dropped at the first save.
	save(func(dr *alerts.Draft) error { return dr.Set(alerts.ActiveThreat, false) })
	save(func(dr *alerts.Draft) error { return dr.Set(alerts.ActiveThreat, true) })

	clock.Advance(4 * time.Hour)
	res, _ := d.Flush(ctx, "acme", alerts.ActiveThreat)
	fmt.Println("after the cooling period:", res.Outcome, "-", outbox.Len(), "emails")
	// Output:
	// save: add soc@example.com
	// 5 emails; 2 events held back by the limit
	// save: turn off "Active Threat Alerts"
	// save: turn on "Active Threat Alerts"
	// after the cooling period: nothing-pending - 5 emails
}

// exampleDispatcher returns a dispatcher for tenant "acme", whose one
// recipient gets Active Threat alerts, with cfg's other fields.
func exampleDispatcher(cfg alerts.DispatcherConfig) *alerts.Dispatcher {
	ctx := context.Background()
	settings := alerts.NewMemorySettingsStore(nil)
	cur, _ := settings.Load(ctx, "acme")
	draft := cur.Edit()
	if err := draft.SetRecipients([]string{"soc@example.com"}); err != nil {
		panic(err)
	}
	if _, err := settings.Save(ctx, draft.Settings()); err != nil {
		panic(err)
	}
	cfg.Settings = settings
	cfg.Clock = alertstest.NewClock(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	d, err := alerts.NewDispatcher(cfg)
	if err != nil {
		panic(err)
	}
	return d
}

// Events under the threshold go to the daily digest: in production the
// Digest is the digest package's mailer (digest.Mailer), here a function.
func ExampleDigesterFunc() {
	ctx := context.Background()
	d := exampleDispatcher(alerts.DispatcherConfig{
		Notifier: alertstest.NewRecorder(),
		Digest: alerts.DigesterFunc(func(_ context.Context, evs []alerts.Event) error {
			for _, ev := range evs {
				fmt.Println("for the digest:", ev.ID, ev.Summary)
			}
			return nil
		}),
	})
	for _, score := range []float64{2.5, 8} {
		ev := alerts.Event{ID: fmt.Sprint("det-", score), Tenant: "acme", Category: alerts.ActiveThreat, Score: score, Summary: "Suspicious login"}
		res, err := d.Dispatch(ctx, ev)
		if err != nil {
			panic(err)
		}
		fmt.Println(ev.ID, res.Outcome)
	}
	// Output:
	// for the digest: det-2.5 Suspicious login
	// det-2.5 below-threshold
	// det-8 sent
}

// The sender policy chooses who every email is from; package
// alerts/mailauthsender implements it on the sender-domain policy.
func ExampleSenderPolicyFunc() {
	outbox := alertstest.NewRecorder()
	d := exampleDispatcher(alerts.DispatcherConfig{
		Notifier: outbox,
		Sender: alerts.SenderPolicyFunc(func(_ context.Context, tenant string, category alerts.CategoryID) (alerts.Sender, error) {
			return alerts.Sender{
				From:       "Acme Security <alerts@platform.example>",
				ReplyTo:    "soc@" + tenant + ".example",
				DKIMDomain: "platform.example",
			}, nil
		}),
	})
	ev := alerts.Event{ID: "det-1", Tenant: "acme", Category: alerts.ActiveThreat, Score: 9}
	if _, err := d.Dispatch(context.Background(), ev); err != nil {
		panic(err)
	}
	m := outbox.Messages()[0]
	fmt.Println("From:", m.From)
	fmt.Println("Reply-To:", m.ReplyTo)
	fmt.Println("d=", m.DKIMDomain)
	// Output:
	// From: Acme Security <alerts@platform.example>
	// Reply-To: soc@acme.example
	// d= platform.example
}

// A category id is matched exactly: one in another case is not in the
// catalog, and the event is refused, not dropped as if the category were
// off.
func ExampleDispatcher_Dispatch_unknownCategory() {
	d := exampleDispatcher(alerts.DispatcherConfig{Notifier: alertstest.NewRecorder()})
	_, err := d.Dispatch(context.Background(), alerts.Event{ID: "det-1", Tenant: "acme", Category: "Active-Threat", Score: 9})
	fmt.Println(err)
	// Output:
	// alerts: invalid event "det-1": Category: alerts: unknown category "Active-Threat": not in the catalog
}

// An HTTP API returns Results as they are, in their JSON form.
func ExampleResult_MarshalJSON() {
	ctx := context.Background()
	d := exampleDispatcher(alerts.DispatcherConfig{Notifier: alertstest.NewRecorder()})
	enc := json.NewEncoder(os.Stdout)
	for i := range 6 {
		ev := alerts.Event{ID: fmt.Sprint("det-", i), Tenant: "acme", Category: alerts.ActiveThreat, Score: 9}
		res, err := d.Dispatch(ctx, ev)
		if err != nil {
			panic(err)
		}
		if i == 0 || i == 5 {
			if err := enc.Encode(res); err != nil {
				panic(err)
			}
		}
	}
	// Output:
	// {"outcome":"sent","message_id":"alert-da3eed43daadd0d0442c81c66587e7e2","events":1,"pending":0}
	// {"outcome":"suppressed","pending":1,"next":"2026-03-02T13:00:00Z"}
}

// Each replica of a service runs Dispatcher.Run: with Async, Dispatch
// records the event and returns at once, and Run sends the email. An
// event its source delivers again is acknowledged, not sent twice.
func ExampleDispatcher_Run() {
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	settings := alerts.NewMemorySettingsStore(nil)
	cur, _ := settings.Load(ctx, "acme")
	draft := cur.Edit()
	if err := draft.SetRecipients([]string{"soc@example.com"}); err != nil {
		panic(err)
	}
	if _, err := settings.Save(ctx, draft.Settings()); err != nil {
		panic(err)
	}
	sent := make(chan *alerts.Message, 1)
	d, err := alerts.NewDispatcher(alerts.DispatcherConfig{
		Settings: settings, // in production: alerts/redisstore, shared by the replicas
		Notifier: alerts.NotifierFunc(func(_ context.Context, msg *alerts.Message) error {
			sent <- msg
			return nil
		}),
		Async: true,
	})
	if err != nil {
		panic(err)
	}
	go d.Run(ctx)

	ev := alerts.Event{ID: "det-1", Tenant: "acme", Category: alerts.ActiveThreat, Score: 8.5, Summary: "Credential dumping"}
	for range 2 {
		res, err := d.Dispatch(ctx, ev)
		if err != nil {
			panic(err)
		}
		fmt.Println(ev.ID, res.Outcome)
	}
	msg := <-sent
	fmt.Println("Run sent", msg.ID[:6], "covering", len(msg.Events), "event")
	// Output:
	// det-1 queued
	// det-1 duplicate
	// Run sent alert- covering 1 event
}
