package digest_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/alertmail/alertmail/alerts"
	"github.com/alertmail/alertmail/digest"
)

// A tenant in Berlin gets its digest at 09:00: the same detection seen
// twice is one line with a count, and a notification already reported is
// not reported again the next day. The clock is moved by hand here; a host
// uses the default system clock and calls SendDue from a ticker (or Run).
func Example() {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		fmt.Println(err)
		return
	}
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, berlin) // Monday 09:00
	clock := alerts.ClockFunc(func() time.Time { return now })
	notifier := alerts.NotifierFunc(func(ctx context.Context, msg *alerts.Message) error {
		fmt.Println("To:", msg.To, "ID:", msg.ID)
		fmt.Println("Subject:", msg.Subject)
		fmt.Print(msg.Text)
		return nil // accepted: the items are now reported
	})
	s, err := digest.NewMailer(digest.MailerConfig{Notifier: notifier, Clock: clock})
	if err != nil {
		fmt.Println(err)
		return
	}
	err = s.SetTenant("acme", digest.Subscription{
		Schedule: digest.Schedule{Hour: 9, Location: berlin},
		To:       []string{"soc@acme.example"},
	})
	if err != nil {
		fmt.Println(err)
		return
	}

	// Events that did not warrant an immediate alert.
	early := now.Add(-3 * time.Hour)
	err = s.Collector().AddEvents(
		alerts.Event{Tenant: "acme", Category: alerts.Threat, Asset: "laptop-7", Fingerprint: "rule-12",
			Summary: "Unsigned driver loaded", Time: early},
		alerts.Event{Tenant: "acme", Category: alerts.Threat, Asset: "laptop-7", Fingerprint: "rule-12",
			Summary: "Unsigned driver loaded", Time: early.Add(time.Hour)},
		alerts.Event{Tenant: "acme", Category: alerts.Configuration, Asset: "fw-1", Fingerprint: "cfg-3",
			Summary: "Firewall rule widened", Time: early.Add(2 * time.Hour)},
	)
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()
	if err := s.SendDue(ctx); err != nil {
		fmt.Println(err)
	}

	// Tuesday: the same driver again, already reported Monday: no email.
	now = now.AddDate(0, 0, 1)
	err = s.Collector().Add(digest.Item{Tenant: "acme", Category: alerts.Threat, Asset: "laptop-7",
		Fingerprint: "rule-12", Summary: "Unsigned driver loaded", Time: now.Add(-time.Hour)})
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := s.SendDue(ctx); err != nil {
		fmt.Println(err)
	}
	fmt.Println("next digest:", s.NextDue().Format(time.RFC3339))
	// Output:
	// To: [soc@acme.example] ID: digest.2026-03-02.acme.665707f0e2b5db7d
	// Subject: Daily digest 2026-03-02: 2 new notifications
	// Security alerts
	// Daily digest for acme, 2026-03-02 (UTC+01:00)
	//
	// 2 new notifications (3 occurrences) on 2 assets:
	//   Threat Alerts: 1 on 1 asset
	//   Configuration Alerts: 1 on 1 asset
	//
	// Threat Alerts (1)
	//
	//   laptop-7 (1)
	//   - Unsigned driver loaded (x2)
	//       first seen 2026-03-02 06:00:00 CET (UTC+01:00)
	//       last seen 2026-03-02 07:00:00 CET (UTC+01:00)
	//
	// Configuration Alerts (1)
	//
	//   fw-1 (1)
	//   - Firewall rule widened
	//       seen 2026-03-02 08:00:00 CET (UTC+01:00)
	//
	// Times are shown in Europe/Berlin.
	// You receive this daily digest of new activity because it is turned on
	// for acme.
	// next digest: 2026-03-04T09:00:00+01:00
}

// The send instant of a date across daylight-saving changes: a time the
// clocks skip is sent at the jump, a time they show twice the first time.
func ExampleSchedule_At() {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, c := range []struct {
		hour, minute int
		day          digest.Day
	}{
		{2, 30, digest.DateDay(2026, 3, 7)},
		{2, 30, digest.DateDay(2026, 3, 8)},  // 02:00 EST -> 03:00 EDT
		{1, 30, digest.DateDay(2026, 11, 1)}, // 02:00 EDT -> 01:00 EST
		{1, 30, digest.DateDay(2026, 11, 2)},
	} {
		s := digest.Schedule{Hour: c.hour, Minute: c.minute, Location: ny}
		fmt.Printf("%s on %s: %s\n", s, c.day, s.At(c.day).Format("2006-01-02 15:04 MST"))
	}
	// Output:
	// 02:30 America/New_York on 2026-03-07: 2026-03-07 02:30 EST
	// 02:30 America/New_York on 2026-03-08: 2026-03-08 03:00 EDT
	// 01:30 America/New_York on 2026-11-01: 2026-11-01 01:30 EDT
	// 01:30 America/New_York on 2026-11-02: 2026-11-02 01:30 EST
}

// A host with its own timer asks when to call SendDue next.
func ExampleSchedule_Next() {
	tokyo, err := time.LoadLocation("Asia/Tokyo")
	if err != nil {
		fmt.Println(err)
		return
	}
	s := digest.Schedule{Hour: 9, Location: tokyo}
	now := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC) // 21:00 in Tokyo
	day, at := s.Next(now)
	fmt.Println(day, at.Format(time.RFC3339), at.Sub(now))
	// Output:
	// 2026-03-03 2026-03-03T09:00:00+09:00 12h0m0s
}

// A host runs the mailer for as long as it serves: Run sends each digest as
// it falls due (here at once: the digest due before the start was never
// sent) and returns when its context is done.
func ExampleMailer_Run() {
	notifier := alerts.NotifierFunc(func(ctx context.Context, msg *alerts.Message) error {
		fmt.Printf("sent %d notification(s) to %v\n", len(msg.Events), msg.To)
		return nil
	})
	s, err := digest.NewMailer(digest.MailerConfig{Notifier: notifier}) // system clock, in-memory store
	if err != nil {
		fmt.Println(err)
		return
	}
	err = s.SetTenant("acme", digest.Subscription{Schedule: digest.Schedule{Hour: 9}, To: []string{"soc@acme.example"}})
	if err != nil {
		fmt.Println(err)
		return
	}
	err = s.Collector().Add(digest.Item{Tenant: "acme", Asset: "laptop-7", Fingerprint: "rule-12", Time: time.Now()})
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond) // a host: until shutdown
	defer cancel()
	fmt.Println(s.Run(ctx))
	// Output:
	// sent 1 notification(s) to [soc@acme.example]
	// context deadline exceeded
}

// A process that only collects (an ingestion service, say) buffers items
// in a Collector on the shared store and flushes them from its own ticker
// and before it exits; a mailer elsewhere, on the same store, reports them.
// What is still buffered when the process dies is lost: see Append for the
// durable way in.
func ExampleCollector() {
	store := digest.NewMemoryStore() // on replicas: the redisstore package's digest store
	c := digest.NewCollector(store)
	at := time.Date(2026, 3, 2, 7, 0, 0, 0, time.UTC)
	for _, fp := range []string{"rule-12", "rule-12", "rule-40"} {
		err := c.Add(digest.Item{Tenant: "acme", Category: alerts.Threat, Asset: "laptop-7",
			Fingerprint: fp, Summary: "detection " + fp, Time: at})
		if err != nil {
			fmt.Println(err)
			return
		}
	}
	fmt.Println("buffered:", c.Len())
	ctx := context.Background()
	if err := c.Flush(ctx); err != nil {
		fmt.Println(err) // the items stay buffered for the next flush
		return
	}
	items, _, err := store.Pending(ctx, "acme")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("buffered:", c.Len(), "in the store:", len(items))
	// Output:
	// buffered: 3
	// buffered: 0 in the store: 3
}

// A host that must not lose a notification if it crashes right after
// taking it in adds it with Append: it is in the store when Append returns,
// and a mailer of any process reports it. Here, events drained from the
// limiter's pending list go into the digest durably.
func ExampleAppend() {
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	notifier := alerts.NotifierFunc(func(ctx context.Context, msg *alerts.Message) error {
		fmt.Println(msg.Subject)
		return nil
	})
	s, err := digest.NewMailer(digest.MailerConfig{Notifier: notifier, Clock: alerts.ClockFunc(func() time.Time { return now })})
	if err != nil {
		fmt.Println(err)
		return
	}
	err = s.SetTenant("acme", digest.Subscription{Schedule: digest.Schedule{Hour: 9}, To: []string{"soc@acme.example"}})
	if err != nil {
		fmt.Println(err)
		return
	}
	drained := []alerts.Event{ // from alerts.Dispatcher.Drain
		{Tenant: "acme", Category: alerts.Threat, Asset: "laptop-7", Fingerprint: "rule-12", Time: now.Add(-time.Hour)},
		{Tenant: "acme", Category: alerts.Threat, Asset: "laptop-9", Fingerprint: "rule-12", Time: now.Add(-time.Hour)},
	}
	items := make([]digest.Item, len(drained))
	for i, e := range drained {
		items[i] = digest.ItemOf(e)
	}
	ctx := context.Background()
	if err := digest.Append(ctx, s.Store(), items...); err != nil {
		fmt.Println(err) // not in the store: keep the events and retry
		return
	}
	if err := s.SendDue(ctx); err != nil {
		fmt.Println(err)
	}
	// Output:
	// Daily digest 2026-03-02: 2 new notifications
}

// NewMailer checks the configuration first and names the field at fault;
// every field but Notifier may be left zero.
func ExampleNewMailer() {
	notifier := alerts.NotifierFunc(func(ctx context.Context, msg *alerts.Message) error { return nil })
	if _, err := digest.NewMailer(digest.MailerConfig{Notifier: notifier, LeaseTTL: -time.Minute}); err != nil {
		fmt.Println(err)
	}
	s, err := digest.NewMailer(digest.MailerConfig{Notifier: notifier}) // defaults: memory store, system clock, 30-day retention
	fmt.Println(s != nil, err)
	// Output:
	// digest: bad config: MailerConfig.LeaseTTL -1m0s is negative
	// true <nil>
}

// A failed send leaves the items pending: the next SendDue sends the same
// digest again, under the same message ID, and only its success marks the
// items reported.
func ExampleMailer_SendDue() {
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	attempts := 0
	notifier := alerts.NotifierFunc(func(ctx context.Context, msg *alerts.Message) error {
		attempts++
		if attempts == 1 {
			fmt.Println("refused ", msg.ID)
			return errors.New("451 try again later")
		}
		fmt.Println("accepted", msg.ID)
		return nil
	})
	s, err := digest.NewMailer(digest.MailerConfig{Notifier: notifier, Clock: alerts.ClockFunc(func() time.Time { return now })})
	if err != nil {
		fmt.Println(err)
		return
	}
	err = s.SetTenant("acme", digest.Subscription{Schedule: digest.Schedule{Hour: 9}, To: []string{"soc@acme.example"}})
	if err != nil {
		fmt.Println(err)
		return
	}
	err = s.Collector().Add(digest.Item{Tenant: "acme", Asset: "laptop-7", Fingerprint: "rule-12", Time: now.Add(-time.Hour)})
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()
	fmt.Println(s.SendDue(ctx))
	fmt.Println("retry at", s.NextDue().Format("15:04"))
	now = s.NextDue()
	fmt.Println(s.SendDue(ctx))
	fmt.Println("next at", s.NextDue().Format("2006-01-02 15:04"))
	// Output:
	// refused  digest.2026-03-02.acme.6fa20d9e0ece814e
	// digest: tenant "acme", digest of 2026-03-02: notify: 451 try again later
	// retry at 09:01
	// accepted digest.2026-03-02.acme.6fa20d9e0ece814e
	// <nil>
	// next at 2026-03-03 09:00
}

// One settings store governs alerts and digest: the dispatcher hands the
// events under the threshold to the mailer (its Digest), and the mailer
// sends the digest to the recipients of the alert settings, listing only
// the categories that are on.
func ExampleMailer_Digest() {
	ctx := context.Background()
	now := time.Date(2026, 3, 2, 7, 0, 0, 0, time.UTC)
	clock := alerts.ClockFunc(func() time.Time { return now })
	settings := alerts.NewMemorySettingsStore(nil)

	m, err := digest.NewMailer(digest.MailerConfig{
		Notifier: alerts.NotifierFunc(func(_ context.Context, msg *alerts.Message) error {
			fmt.Println("digest to", msg.To, "-", msg.Subject)
			return nil
		}),
		Settings: settings, // the recipients and the categories that are on
		Clock:    clock,
	})
	if err != nil {
		panic(err)
	}
	// The subscription gives the schedule only.
	if err := m.SetTenant("acme", digest.Subscription{Schedule: digest.Schedule{Hour: 8}}); err != nil {
		panic(err)
	}
	d, err := alerts.NewDispatcher(alerts.DispatcherConfig{
		Settings: settings,
		Saver:    settings,
		Notifier: alerts.NotifierFunc(func(context.Context, *alerts.Message) error { return nil }),
		Digest:   m, // events under the threshold
		Clock:    clock,
	})
	if err != nil {
		panic(err)
	}

	cur, _ := d.Load(ctx, "acme")
	draft := cur.Edit()
	if err := draft.SetRecipients([]string{"soc@acme.example"}); err != nil {
		panic(err)
	}
	if _, err := d.Save(ctx, draft.Settings()); err != nil {
		panic(err)
	}
	res, err := d.Dispatch(ctx, alerts.Event{ID: "det-1", Tenant: "acme", Category: alerts.ActiveThreat,
		Score: 2, Asset: "laptop-7", Fingerprint: "rule-12", Summary: "Unsigned driver loaded", Time: now})
	if err != nil {
		panic(err)
	}
	fmt.Println("det-1:", res.Outcome)

	now = now.Add(time.Hour) // 08:00 UTC: the digest is due
	if err := m.SendDue(ctx); err != nil {
		panic(err)
	}
	// Output:
	// det-1: below-threshold
	// digest to [soc@acme.example] - Daily digest 2026-03-02: 1 new notification
}
