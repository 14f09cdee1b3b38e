package settingshttp_test

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/alertmail/alertmail/alerts"
	"github.com/alertmail/alertmail/alerts/settingshttp"
	"github.com/alertmail/alertmail/internal/browsertest"
)

var updateScreens = flag.Bool("update-screens", false, "copy the screenshots of the page's screens to testdata/, for review")

// screen saves a screenshot of p as name under the test's temporary
// directory and, with -update-screens, as testdata/name.png.
func screen(t *testing.T, p *browsertest.Page, name string) {
	t.Helper()
	path := p.Screenshot(name)
	if !*updateScreens {
		return
	}
	png, err := os.ReadFile(path)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join("testdata", name+".png"), png, 0o644))
}

// session is the CSRF token of the browser tests' one session.
const session = "session-token"

// newSite serves the settings of tenant acme, in a new memory store,
// under /alerts/ as a host mounts the handler, and returns the page's URL
// and the store.
func newSite(t *testing.T) (string, *alerts.MemorySettingsStore) {
	t.Helper()
	store := alerts.NewMemorySettingsStore(nil)
	h, err := settingshttp.New(settingshttp.Config{
		Store:     store,
		Tenant:    func(*http.Request) (string, error) { return "acme", nil },
		CSRFToken: func(*http.Request) string { return session },
	})
	require.NoError(t, err)
	mux := http.NewServeMux()
	mux.Handle("/alerts/", http.StripPrefix("/alerts", h))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL + "/alerts/", store
}

// save stores settings for acme in store, as another user would.
func save(t *testing.T, store *alerts.MemorySettingsStore, edit func(*alerts.Draft)) {
	t.Helper()
	cur, err := store.Load(context.Background(), "acme")
	require.NoError(t, err)
	d := cur.Edit()
	edit(d)
	_, err = store.Save(context.Background(), d.Settings())
	require.NoError(t, err)
}

// on returns the JavaScript expression that is true when category id's
// switch is on.
func on(id alerts.CategoryID) string {
	return fmt.Sprintf(`document.querySelector('[data-category=%q]').getAttribute("aria-checked") === "true"`, id)
}

func evaluate[T any](t *testing.T, p *browsertest.Page, expr string) T {
	t.Helper()
	v, err := chromedp.Run(p.Context(), chromedp.Evaluate[T](expr))
	require.NoErrorf(t, err, "evaluating %s", expr)
	return v
}

func click(sel string) chromedp.Action[chromedp.Void] { return chromedp.Click(chromedp.CSS(sel)) }

// open navigates p to url and waits for the page's script to be ready.
func open(p *browsertest.Page, url string) {
	p.Do(chromedp.Navigate(url))
	p.WaitFor(`document.querySelector("#recipients-summary") && document.readyState === "complete"`)
}

// expectRefusals accepts the errors Chrome logs for the API's refusals
// (400, 412): the page shows them, as the tests check.
func expectRefusals(p *browsertest.Page) {
	p.Expect(func(pr browsertest.Problem) bool {
		return pr.Kind == browsertest.FailedRequest && strings.HasSuffix(pr.URL, "/alerts/api/settings")
	})
}

const saved = `document.querySelector("#status").textContent === "Saved."`

// TestBrowser drives the settings page in headless Chromium, one tab per
// flow of the product's screen. Each flow saves a screenshot; the page
// must log no console error and violate no CSP (browsertest fails the
// test otherwise).
func TestBrowser(t *testing.T) {
	b := browsertest.New(t)
	opts := &browsertest.PageOptions{Width: 900, Height: 1000}

	t.Run("toggle and Save, then reload", func(t *testing.T) {
		t.Parallel()
		url, store := newSite(t)
		p := b.NewPage(t, opts)
		open(p, url)
		assert.True(t, evaluate[bool](t, p, `document.querySelector("#save").disabled`), "Save is disabled before any change")
		p.Do(click(`[data-category="threat"]`))
		assert.True(t, evaluate[bool](t, p, on(alerts.Threat)), "Threat Alerts is on after the click")
		assert.False(t, evaluate[bool](t, p, `document.querySelector("#save").disabled`), "Save is enabled after a change")
		screen(t, p, "settings")
		p.Do(click("#save"))
		p.WaitFor(saved)
		assert.True(t, evaluate[bool](t, p, `document.querySelector("#save").disabled`), "Save is disabled once saved")

		p.Do(chromedp.Reload())
		p.WaitFor(`document.readyState === "complete"`)
		assert.True(t, evaluate[bool](t, p, on(alerts.Threat)), "Threat Alerts is on after a reload")
		assert.True(t, stored(t, store, "acme").Categories[alerts.Threat], "the store has Threat Alerts on")
	})

	t.Run("Enable all, Yes, Save", func(t *testing.T) {
		t.Parallel()
		url, store := newSite(t)
		p := b.NewPage(t, opts)
		open(p, url)
		p.Do(click("#enable-all"))
		p.WaitFor(`document.querySelector("#confirm").open`)
		items := evaluate[[]string](t, p, `[...document.querySelectorAll("#confirm-list li")].map(li => li.textContent)`)
		assert.Equalf(t, []string{"Turn on Threat Alerts", "Turn on Configuration Alerts"}, items, "the dialog lists %q", items)
		screen(t, p, "enable-all-dialog")
		assert.Equal(t, uint64(0), stored(t, store, "acme").Version, "nothing saved before Yes and Save")

		p.Do(click("#confirm-yes"))
		p.WaitFor(`document.querySelector("#status").textContent === "Changed on this page. Save to apply."`)
		assert.False(t, evaluate[bool](t, p, `document.querySelector("#confirm").open`), "the dialog closed")
		for _, id := range []alerts.CategoryID{alerts.Threat, alerts.ActiveThreat, alerts.SystemStatus, alerts.Configuration} {
			assert.Truef(t, evaluate[bool](t, p, on(id)), "%s is on after Yes", id)
		}
		assert.True(t, evaluate[bool](t, p, `document.querySelector("#enable-all").getAttribute("aria-checked") === "true"`), "Enable all is on")
		p.Do(click("#save"))
		p.WaitFor(saved)
		doc := stored(t, store, "acme")
		assert.Equal(t, map[alerts.CategoryID]bool{alerts.Threat: true, alerts.ActiveThreat: true, alerts.SystemStatus: true, alerts.Configuration: true}, doc.Categories)

		// Enable all again, now on: Disable all, and Cancel keeps everything.
		p.Do(click("#enable-all"))
		p.WaitFor(`document.querySelector("#confirm").open`)
		assert.Equal(t, "Disable all alerts?", evaluate[string](t, p, `document.querySelector("#confirm-heading").textContent`))
		p.Do(click("#confirm-cancel"))
		p.WaitFor(`document.querySelector("#status").textContent === "Nothing changed."`)
		assert.False(t, evaluate[bool](t, p, `document.querySelector("#confirm").open`), "the dialog closed")
		assert.True(t, evaluate[bool](t, p, on(alerts.Threat)), "Cancel changed nothing")
		assert.True(t, evaluate[bool](t, p, `document.querySelector("#save").disabled`), "nothing to save after Cancel")
	})

	t.Run("Reset, Save", func(t *testing.T) {
		t.Parallel()
		url, store := newSite(t)
		save(t, store, func(d *alerts.Draft) {
			d.EnableAll()
			require.NoError(t, d.Set(alerts.SystemStatus, false))
		})
		p := b.NewPage(t, opts)
		open(p, url)
		p.Do(click("#reset"))
		p.WaitFor(`!document.querySelector("#save").disabled`)
		p.Do(click("#save"))
		p.WaitFor(saved)
		p.Screenshot("reset")
		doc := stored(t, store, "acme")
		assert.Equal(t, uint64(2), doc.Version)
		assert.Equal(t, alerts.DefaultCatalog().Defaults("acme").Document().Categories, doc.Categories, "the categories are at their defaults")
	})

	t.Run("a bad recipient is named and focused, nothing saved", func(t *testing.T) {
		t.Parallel()
		url, store := newSite(t)
		save(t, store, func(d *alerts.Draft) { require.NoError(t, d.SetRecipients([]string{"soc@acme.example"})) })
		p := b.NewPage(t, opts)
		expectRefusals(p)
		open(p, url)
		p.Do(click("#manage"))
		p.WaitFor(`!document.querySelector("#recipients-panel").hidden`)
		p.Do(
			click("#add-recipient"),
			chromedp.SendKeys(chromedp.CSS("#recipient-2"), "Bob <bob@acme.example>"),
			click("#add-recipient"),
			chromedp.SendKeys(chromedp.CSS("#recipient-3"), "oncall@acme.example"),
			click("#save"),
		)
		p.WaitFor(`!document.querySelector("#recipients-error").hidden`)
		msg := evaluate[string](t, p, `document.querySelector("#recipients-error").textContent`)
		assert.Containsf(t, msg, "Bob <bob@acme.example>", "the error %q names the entry", msg)
		assert.Containsf(t, msg, "Recipient 2", "the error %q says which row", msg)
		assert.Equal(t, "recipient-2", evaluate[string](t, p, `document.activeElement.id`), "the bad entry has the focus")
		assert.Equal(t, "true", evaluate[string](t, p, `document.querySelector("#recipient-2").getAttribute("aria-invalid")`))
		screen(t, p, "manage-email-settings")

		doc := stored(t, store, "acme")
		assert.Equal(t, uint64(1), doc.Version, "nothing saved")
		assert.Equal(t, []string{"soc@acme.example"}, doc.Recipients)

		// Fixed, it saves.
		p.Do(
			chromedp.Focus(chromedp.CSS("#recipient-2")),
			chromedp.KeyEvent("a", chromedp.KeyModifiers(chromedp.ModifierCtrl)), // select all, to type over it
			chromedp.KeyEvent("bob@acme.example"),
			click("#save"),
		)
		p.WaitFor(saved)
		assert.Equal(t, []string{"soc@acme.example", "bob@acme.example", "oncall@acme.example"}, stored(t, store, "acme").Recipients)
	})

	t.Run("two tabs: the second save conflicts and keeps its draft", func(t *testing.T) {
		t.Parallel()
		url, store := newSite(t)
		first := b.NewPage(t, opts)
		second := b.NewPage(t, opts)
		expectRefusals(second)
		open(first, url)
		open(second, url)

		first.Do(click(`[data-category="threat"]`), click("#save"))
		first.WaitFor(saved)

		second.Do(click(`[data-category="configuration"]`), click("#save"))
		second.WaitFor(`!document.querySelector("#conflict").hidden`)
		banner := evaluate[string](t, second, `document.querySelector("#conflict").textContent`)
		assert.Containsf(t, banner, "Changed by someone else — reload", "the banner %q", banner)
		assert.True(t, evaluate[bool](t, second, on(alerts.Configuration)), "the second tab keeps its draft")
		assert.False(t, evaluate[bool](t, second, `document.querySelector("#save").disabled`), "the draft can still be saved")
		screen(t, second, "conflict")
		doc := stored(t, store, "acme")
		assert.Equal(t, uint64(1), doc.Version)
		assert.False(t, doc.Categories[alerts.Configuration], "the second save was not stored")

		// Reload: the first tab's save, with the second's change on top.
		second.Do(click("#reload"))
		second.WaitFor(`document.querySelector("#conflict").hidden`)
		assert.True(t, evaluate[bool](t, second, on(alerts.Threat)), "the first tab's change is loaded")
		assert.True(t, evaluate[bool](t, second, on(alerts.Configuration)), "the second tab's change is kept")
		second.Do(click("#save"))
		second.WaitFor(saved)
		doc = stored(t, store, "acme")
		assert.Equal(t, uint64(2), doc.Version)
		assert.True(t, doc.Categories[alerts.Threat])
		assert.True(t, doc.Categories[alerts.Configuration])
	})

	t.Run("keyboard only: Tab, Space, Enter", func(t *testing.T) {
		t.Parallel()
		url, store := newSite(t)
		p := b.NewPage(t, opts)
		open(p, url)
		// tabTo presses Tab until the focus is where the expression says.
		tabTo := func(where string) {
			t.Helper()
			for range 30 {
				if evaluate[bool](t, p, where) {
					return
				}
				p.Do(chromedp.KeyEvent(kb.Tab))
			}
			t.Fatalf("30 presses of Tab did not reach %s", where)
		}
		tabTo(`document.activeElement.dataset.category === "configuration"`)
		p.Do(chromedp.KeyEvent(" "))
		assert.True(t, evaluate[bool](t, p, on(alerts.Configuration)), "Space turns the focused switch on")
		tabTo(`document.activeElement.id === "save"`)
		p.Screenshot("keyboard") // the focus ring on Save
		p.Do(chromedp.KeyEvent(kb.Enter))
		p.WaitFor(saved)
		assert.True(t, stored(t, store, "acme").Categories[alerts.Configuration], "saved with the keyboard")
	})

	t.Run("dark", func(t *testing.T) {
		t.Parallel()
		url, _ := newSite(t)
		p := b.NewPage(t, &browsertest.PageOptions{Width: 900, Height: 1000, ColorScheme: browsertest.Dark})
		open(p, url)
		bg := evaluate[string](t, p, `getComputedStyle(document.body).backgroundColor`)
		assert.Equalf(t, "rgb(17, 21, 28)", bg, "the body's background in the dark = %q", bg)
		screen(t, p, "settings-dark")
	})
}
