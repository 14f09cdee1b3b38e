package main

import (
	"bytes"
	"context"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/alertmail/alertmail/alerts"
	"github.com/alertmail/alertmail/internal/browsertest"
)

var updateScreens = flag.Bool("update-screens", false, "copy the screenshots of the console's screens to testdata/, for review")

// screen saves a screenshot of p as name under the test's temporary
// directory and, with -update-screens, as testdata/name.png.
func screen(t *testing.T, p *browsertest.Page, name string) {
	t.Helper()
	path := p.Screenshot(name)
	if *updateScreens {
		png, err := os.ReadFile(path)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join("testdata", name+".png"), png, 0o644))
	}
}

// TestRun serves the console as main does, on a free port, and stops it.
func TestRun(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	ready := make(chan string, 1)
	errc := make(chan error, 1)
	var stdout, stderr bytes.Buffer
	go func() { errc <- run(ctx, []string{"-addr", "127.0.0.1:0"}, &stdout, &stderr, ready) }()
	var addr string
	select {
	case addr = <-ready:
	case err := <-errc:
		t.Fatalf("run() = %v before serving; stderr: %s", err, &stderr)
	}
	res, err := http.Get("http://" + addr + "/outbox")
	require.NoError(t, err)
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	assert.Equalf(t, http.StatusOK, res.StatusCode, "GET /outbox = %d; want 200", res.StatusCode)
	assert.Contains(t, string(body), "No email yet")
	assert.Containsf(t, stdout.String(), "http://"+addr+"/", "run printed %q; want the console's address", stdout.String())
	cancel()
	assert.NoError(t, <-errc, "run after its context ended")

	err = run(t.Context(), []string{"-addr"}, io.Discard, io.Discard, nil)
	assert.Error(t, err, "run(-addr) without a value")
}

// newSite serves a new console, until the test ends.
func newSite(t *testing.T) (*console, string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	c, err := newConsole(ctx, config{})
	require.NoError(t, err)
	srv := httptest.NewServer(c)
	t.Cleanup(func() {
		srv.Close()
		cancel()
		c.Close()
	})
	return c, srv.URL
}

func evaluate[T any](t *testing.T, p *browsertest.Page, expr string) T {
	t.Helper()
	v, err := chromedp.Run(p.Context(), chromedp.Evaluate[T](expr))
	require.NoErrorf(t, err, "evaluating %s", expr)
	return v
}

// fill replaces the value of the input sel with value, as a user would.
func fill(sel, value string) chromedp.Action[chromedp.Void] {
	return chromedp.Steps(
		chromedp.Focus(chromedp.CSS(sel)),
		chromedp.KeyEvent("a", chromedp.KeyModifiers(chromedp.ModifierCtrl)),
		chromedp.KeyEvent(value),
	)
}

// submit clicks the button sel, which submits a form, and waits for the
// page the form leads to.
func submit(p *browsertest.Page, sel string) {
	p.Do(chromedp.Evaluate[chromedp.Void](`window.beforeSubmit = true`), click(sel))
	p.WaitFor(`!window.beforeSubmit && document.readyState === "complete"`)
}

func click(sel string) chromedp.Action[chromedp.Void] { return chromedp.Click(chromedp.CSS(sel)) }

// emailRows is the number of emails the outbox page lists.
const emailRows = `document.querySelectorAll("#emails tbody tr").length`

// TestBrowser drives the console in headless Chromium. Each test saves a
// screenshot; no page may log a console error or violate its CSP.
func TestBrowser(t *testing.T) {
	b := browsertest.New(t)
	opts := &browsertest.PageOptions{Width: 1280, Height: 900}

	t.Run("8 Active Threat events at score 8: 5 emails, 3 pending", func(t *testing.T) {
		t.Parallel()
		c, url := newSite(t)
		p := b.NewPage(t, opts)
		p.Do(chromedp.Navigate(url))
		assert.Equal(t, "active-threat", evaluate[string](t, p, `document.querySelector("select[name=category]").value`))
		assert.Equal(t, "8", evaluate[string](t, p, `document.querySelector("input[name=score]").value`))
		p.Do(fill("input[name=count]", "8"))
		submit(p, "form.fire button[type=submit]")
		require.Equal(t, 8, evaluate[int](t, p, `document.querySelectorAll("#fired tbody tr").length`), "events fired")
		screen(t, p, "console")

		p.Do(click(`a[href="/outbox"]`))
		p.WaitFor(`document.querySelector("#emails")`)
		assert.Equal(t, 5, evaluate[int](t, p, emailRows), "emails in the outbox")
		waiting := evaluate[string](t, p, `document.querySelector("#waiting").textContent`)
		assert.Regexpf(t, `acme · Active Threat Alerts: 3 pending until \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC`, waiting, "the outbox says %q", waiting)
		assert.Len(t, c.outbox.Emails(), 5)
		screen(t, p, "outbox")

		// Four hours later, the events held back go out in one email.
		submit(p, `button[value="4h"]`)
		deadline := time.Now().Add(30 * time.Second)
		for len(c.outbox.Emails()) < 6 && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		p.Do(chromedp.Navigate(url + "/outbox"))
		require.Equal(t, 6, evaluate[int](t, p, emailRows), "emails in the outbox after the cooling period")
		newest := evaluate[string](t, p, `document.querySelector("#emails tbody tr").textContent`)
		assert.Containsf(t, newest, "covers 3 events, 3 carried", "the newest email %q", newest)
		assert.Contains(t, evaluate[string](t, p, `document.querySelector("#waiting-h").parentElement.textContent`), "Nothing is held back")

		p.Do(click(`#emails tbody tr a`))
		p.WaitFor(`document.querySelector("iframe.email")`)
		facts := evaluate[string](t, p, `document.querySelector(".facts").textContent`)
		for _, want := range []string{"Active Threat Alerts: 3 events", `"Security Alerts" <alerts@ready.example>`, "@platform.example>", "covers 3 events, of which 3 held back"} {
			assert.Containsf(t, facts, want, "the email's facts %q", facts)
		}
		headers := evaluate[string](t, p, `document.querySelector(".headers").textContent`)
		for _, want := range []string{"DKIM-Signature", "d=platform.example", "Message-Id", "Date"} {
			assert.Containsf(t, headers, want, "the email's headers lack %q", want)
		}
		assert.Contains(t, evaluate[string](t, p, `document.querySelector("pre.text").textContent`), "3 events held back by the alert frequency limit")
		p.WaitFor(`document.querySelector("iframe.email").contentWindow.length === 0`) // loaded (sandboxed: its document is not ours to read)
		screen(t, p, "email")
	})

	t.Run("the sender check", func(t *testing.T) {
		t.Parallel()
		_, url := newSite(t)
		p := b.NewPage(t, opts)
		p.Do(chromedp.Navigate(url + "/sender"))
		p.Do(fill("#domain", "strict.example"))
		submit(p, "form.card button[type=submit]")
		decision := evaluate[string](t, p, `document.querySelector("#decision").textContent`)
		for _, want := range []string{"Sent from the platform's domain", "Reply-To", "alerts@strict.example", `strict.example. IN TXT "v=spf1 mx ip4:192.0.2.16/29 -all"`} {
			assert.Containsf(t, decision, want, "the decision %q", decision)
		}
		screen(t, p, "sender")

		p.Do(chromedp.Navigate(url + "/sender?domain=ready.example"))
		assert.Contains(t, evaluate[string](t, p, `document.querySelector("#decision h2").textContent`), "Sent as the customer's own domain")
		p.Do(chromedp.Navigate(url + "/sender?domain=" + "bad%20domain"))
		assert.Contains(t, evaluate[string](t, p, `document.querySelector(".flash").textContent`), "bad domain")
	})

	t.Run("the next digest", func(t *testing.T) {
		t.Parallel()
		c, url := newSite(t)
		p := b.NewPage(t, opts)
		p.Do(chromedp.Navigate(url))
		p.Do(fill("input[name=score]", "2"), fill("input[name=summary]", "Unsigned driver loaded"))
		submit(p, "form.fire button[type=submit]")
		assert.Contains(t, evaluate[string](t, p, `document.querySelector("#fired").textContent`), "under the threshold")

		p.Do(click(`a[href="/digest"]`))
		p.WaitFor(`document.querySelector("table.items")`)
		assert.Contains(t, evaluate[string](t, p, `document.querySelector("table.items").textContent`), "Unsigned driver loaded")
		screen(t, p, "digest")

		submit(p, `button[value="digest"]`)
		deadline := time.Now().Add(30 * time.Second)
		for len(c.outbox.Emails()) < 1 && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		emails := c.outbox.Emails()
		require.Len(t, emails, 1, "the digest in the outbox")
		assert.Equal(t, "Daily digest", emails[0].Kind)
		assert.Equal(t, "acme", emails[0].Tenant)
	})

	t.Run("the settings page in the console", func(t *testing.T) {
		t.Parallel()
		c, url := newSite(t)
		p := b.NewPage(t, opts)
		p.Do(chromedp.Navigate(url))
		p.Do(click(`a[href="/settings/"]`))
		p.WaitFor(`document.querySelector('[data-category="threat"]') && document.readyState === "complete"`)
		assert.Contains(t, evaluate[string](t, p, `document.querySelector(".lede").textContent`), "acme")
		p.Do(click(`[data-category="active-threat"]`), click("#save"))
		p.WaitFor(`document.querySelector("#status").textContent === "Saved."`)
		set, err := c.dispatcher.Load(context.Background(), "acme")
		require.NoError(t, err)
		assert.False(t, set.Enabled("active-threat"), "Active Threat Alerts off, saved through the dispatcher")

		// A disabled category sends nothing.
		p.Do(chromedp.Navigate(url))
		submit(p, "form.fire button[type=submit]")
		assert.Contains(t, evaluate[string](t, p, `document.querySelector("#fired").textContent`), "the category is off")
		assert.Empty(t, c.outbox.Emails())
	})
}

func TestDescribe(t *testing.T) {
	t.Parallel()
	next := time.Date(2026, 3, 2, 14, 50, 0, 0, time.FixedZone("CET", 3600))
	tests := []struct {
		res  alerts.Result
		want string
	}{
		{alerts.Result{Outcome: alerts.Sent, Events: 3}, "sent: one email covering 3 events"},
		{alerts.Result{Outcome: alerts.Suppressed, Pending: 3, Next: next}, "held back by the frequency limit: 3 pending until 2026-03-02 13:50:00 UTC"},
		{alerts.Result{Outcome: alerts.BelowThreshold}, "under the threshold: kept for the daily digest"},
	}
	for _, tt := range tests {
		assert.Equalf(t, tt.want, describe(tt.res), "describe(%+v)", tt.res)
	}
}
