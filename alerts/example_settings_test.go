package alerts_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"

	"github.com/alertmail/alertmail/alerts"
)

// A service registers its own categories beside the built-in four.
func ExampleNewCatalog() {
	catalog, err := alerts.NewCatalog(alerts.CatalogConfig{
		Categories: []alerts.Category{{
			ID:             "billing",
			Name:           "Billing Alerts",
			Description:    "Invoices and quota warnings.",
			DefaultEnabled: true,
		}},
		MaxRecipients: 10,
	})
	if err != nil {
		log.Fatal(err)
	}
	for _, c := range catalog.Categories() {
		fmt.Printf("%-14s %-21s on by default: %v\n", c.ID, c.Name, c.DefaultEnabled)
	}

	// An id registered twice is an error.
	_, err = alerts.NewCatalog(alerts.CatalogConfig{
		Categories: []alerts.Category{{ID: alerts.Threat, Name: "My Threats"}},
	})
	fmt.Println(err)
	// Output:
	// threat         Threat Alerts         on by default: false
	// active-threat  Active Threat Alerts  on by default: true
	// system-status  System Status Alerts  on by default: true
	// configuration  Configuration Alerts  on by default: false
	// billing        Billing Alerts        on by default: true
	// alerts: duplicate category "threat": registered twice
}

// The settings screen: load, edit a draft, describe the change, save.
func ExampleSettings_Edit() {
	ctx := context.Background()
	store := alerts.NewMemorySettingsStore(nil)

	current, err := store.Load(ctx, "acme")
	if err != nil {
		log.Fatal(err)
	}
	draft := current.Edit()
	if err := draft.Toggle(alerts.Threat); err != nil {
		log.Fatal(err)
	}
	if err := draft.SetRecipients([]string{"SOC@Acme.Example", "oncall@acme.example"}); err != nil {
		log.Fatal(err)
	}
	fmt.Println("pending:", draft.Change())

	saved, err := store.Save(ctx, draft.Settings())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("version:", saved.Version)
	fmt.Println("threat alerts on:", saved.Enabled(alerts.Threat))
	fmt.Println("recipients:", saved.Recipients())
	// Output:
	// pending: turn on "Threat Alerts"; add SOC@acme.example; add oncall@acme.example
	// version: 1
	// threat alerts on: true
	// recipients: [SOC@acme.example oncall@acme.example]
}

// Enable all is a bulk change the UI confirms first: preview it on a clone
// of the draft, and apply it on "Yes".
func ExampleDraft_EnableAll() {
	draft := alerts.DefaultCatalog().Defaults("acme").Edit()

	preview := draft.Clone()
	preview.EnableAll()
	fmt.Println("Enable all will:", preview.Change())

	// The user clicked "Yes".
	draft = preview
	draft.Reset()
	fmt.Println("after Reset:", draft.Change())
	// Output:
	// Enable all will: turn on "Threat Alerts"; turn on "Configuration Alerts"
	// after Reset: no change
}

// The check the sending path makes before every alert. A disable that was
// saved stops alerts that were already queued.
func ExampleSettings_Enabled() {
	ctx := context.Background()
	store := alerts.NewMemorySettingsStore(nil)
	queued := alerts.Event{ID: "det-42", Tenant: "acme", Category: alerts.ActiveThreat, Score: 7}

	// The tenant disables Active Threat alerts while the event waits.
	s, _ := store.Load(ctx, "acme")
	d := s.Edit()
	if err := d.Set(alerts.ActiveThreat, false); err != nil {
		log.Fatal(err)
	}
	if _, err := store.Save(ctx, d.Settings()); err != nil {
		log.Fatal(err)
	}

	// At send time:
	s, err := store.Load(ctx, queued.Tenant)
	if err != nil {
		log.Fatal(err)
	}
	if !s.Enabled(queued.Category) {
		fmt.Println("dropped", queued.ID, "- category disabled")
	}
	// Output:
	// dropped det-42 - category disabled
}

// Two editors start from the same version; the second save is refused
// instead of overwriting the first.
func ExampleMemorySettingsStore_Save() {
	ctx := context.Background()
	store := alerts.NewMemorySettingsStore(nil)
	base, _ := store.Load(ctx, "acme")

	alice := base.Edit()
	alice.EnableAll()
	bob := base.Edit()
	bob.DisableAll()

	if _, err := store.Save(ctx, alice.Settings()); err != nil {
		log.Fatal(err)
	}
	_, err := store.Save(ctx, bob.Settings())
	fmt.Println(errors.Is(err, alerts.ErrConflict))
	var conflict *alerts.ConflictError
	if errors.As(err, &conflict) {
		fmt.Printf("based on version %d, stored version %d\n", conflict.Base, conflict.Current)
	}
	// Output:
	// true
	// based on version 0, stored version 1
}

// A recipient list is validated whole; the error names the bad entry and
// its position.
func ExampleParseRecipients() {
	list, err := alerts.ParseRecipients([]string{"SOC@Acme.Example", "ops@Bücher.example", "SOC@acme.example", "soc@acme.example"}, 0)
	fmt.Println(list, err)

	_, err = alerts.ParseRecipients([]string{"soc@acme.example", `"IT" <it@acme.example>`}, 0)
	fmt.Println(err)
	var re *alerts.RecipientError
	if errors.As(err, &re) {
		fmt.Println("bad entry:", re.Index)
	}
	// Output:
	// [SOC@acme.example ops@xn--bcher-kva.example soc@acme.example] <nil>
	// alerts: invalid recipient at position 2, "\"IT\" <it@acme.example>": display names and angle brackets are not allowed
	// bad entry: 1
}

// Settings documents are what a host's HTTP API sends and receives: marshal
// for GET, ParseSettings and Save for PUT. The document's version is the one
// the client edited, so a concurrent save is detected.
func ExampleCatalog_ParseSettings() {
	ctx := context.Background()
	catalog := alerts.DefaultCatalog()
	store := alerts.NewMemorySettingsStore(catalog)

	// GET /settings/acme
	s, _ := store.Load(ctx, "acme")
	body, _ := json.Marshal(s)
	fmt.Println(string(body))

	// PUT /settings/acme
	next, err := catalog.ParseSettings([]byte(`{"tenant":"acme","version":0,"categories":{"threat":true},"recipients":["soc@acme.example"]}`))
	if err != nil {
		log.Fatal(err)
	}
	saved, err := store.Save(ctx, next)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(saved.Version, saved.EnabledCategories())

	// Strict: unknown fields and categories are errors.
	_, err = catalog.ParseSettings([]byte(`{"tenant":"acme","categories":{"quantum":true}}`))
	fmt.Println(err)
	// Output:
	// {"tenant":"acme","version":0,"categories":{"active-threat":true,"configuration":false,"system-status":true,"threat":false},"recipients":[]}
	// 1 [threat active-threat system-status]
	// alerts: unknown category "quantum": not in the catalog
}

// Diff describes what a settings document sent by a client would change,
// before it is saved.
func ExampleDiff() {
	catalog := alerts.DefaultCatalog()
	current := catalog.Defaults("acme")
	next, err := catalog.ParseSettings([]byte(`{"tenant":"acme","version":0,"categories":{"threat":true,"system-status":false},"recipients":["soc@acme.example"]}`))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(alerts.Diff(current, next))
	// Output:
	// turn on "Threat Alerts"; turn off "System Status Alerts"; add soc@acme.example
}
