package browsertest

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// testSite serves the pages the tests open: a clean one, one that logs a
// console error, one whose inline script its CSP refuses, one that throws.
func testSite(t *testing.T) *httptest.Server {
	t.Helper()
	const csp = "default-src 'self'"
	page := func(body string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Security-Policy", csp)
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprintf(w, "<!doctype html><html><head><title>%s</title>"+
				`<link rel="stylesheet" href="/style.css"></head><body><h1>%[1]s</h1>%s</body></html>`, r.URL.Path, body)
		}
	}
	script := func(js string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/javascript")
			fmt.Fprint(w, js)
		}
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /style.css", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/css")
		fmt.Fprint(w, "body{background:#fff;color:#000}@media (prefers-color-scheme: dark){body{background:#000;color:#fff}}")
	})
	mux.HandleFunc("GET /favicon.ico", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	mux.HandleFunc("GET /clean", page(""))
	mux.HandleFunc("GET /console", page(`<script src="/console.js"></script>`))
	mux.HandleFunc("GET /console.js", script(`console.error("boom from the test page", 42);`))
	mux.HandleFunc("GET /csp", page(`<script>document.title = "the inline script ran";</script>`))
	mux.HandleFunc("GET /throw", page(`<script src="/throw.js"></script>`))
	mux.HandleFunc("GET /missing", page(`<img src="/missing.png" alt="">`))
	mux.HandleFunc("GET /later", page(`<script src="/later.js"></script>`))
	mux.HandleFunc("GET /later.js", script(`setTimeout(() => { document.title = "changed by the page"; }, 200);`))
	mux.HandleFunc("GET /throw.js", script(`throw new Error("thrown by the test page");`))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func TestPage(t *testing.T) {
	site := testSite(t)
	b := New(t)

	t.Run("clean page: viewport, color scheme, screenshot", func(t *testing.T) {
		t.Parallel()
		p := b.NewPage(t, &PageOptions{Width: 800, Height: 600, ColorScheme: Dark})
		p.Do(chromedp.Navigate(site.URL + "/clean"))
		width, err := chromedp.Run(p.Context(), chromedp.Evaluate[int]("window.innerWidth"))
		require.NoError(t, err)
		assert.Equalf(t, 800, width, "window.innerWidth = %d; want 800", width)
		dark, err := chromedp.Run(p.Context(), chromedp.Evaluate[bool]("matchMedia('(prefers-color-scheme: dark)').matches"))
		require.NoError(t, err)
		assert.Truef(t, dark, "prefers-color-scheme: dark = %v; want true", dark)
		bg, err := chromedp.Run(p.Context(), chromedp.Evaluate[string]("getComputedStyle(document.body).backgroundColor"))
		require.NoError(t, err)
		assert.Equalf(t, "rgb(0, 0, 0)", bg, "body background = %q; want the dark style's black", bg)

		path := p.Screenshot("clean")
		// Each TempDir call makes a new directory in the test's own.
		testDir := filepath.Dir(t.TempDir())
		assert.Truef(t, strings.HasPrefix(path, testDir+string(filepath.Separator)), "Screenshot(%q) = %q; want a path under %s", "clean", path, testDir)
		png, err := os.ReadFile(path)
		require.NoError(t, err)
		assert.Truef(t, bytes.HasPrefix(png, []byte("\x89PNG\r\n\x1a\n")), "Screenshot(%q) is not a PNG: % x", filepath.Base(path), png[:min(8, len(png))])
		assert.Empty(t, p.Problems())
	})

	// Each page below reports one problem; the test waits for it, since the
	// browser reports some (the CSP refusal) after the load.
	tests := []struct {
		path string
		kind ProblemKind
		text string
	}{
		{"/console", ConsoleError, "boom from the test page 42"},
		{"/csp", CSPViolation, "Content Security Policy"},
		{"/throw", Exception, "thrown by the test page"},
		{"/missing", FailedRequest, "404"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			t.Parallel()
			p := b.NewPage(t, &PageOptions{AllowProblems: true})
			p.Do(chromedp.Navigate(site.URL + tt.path))
			var got []Problem
			require.Eventuallyf(t, func() bool {
				got = p.Problems()
				return len(got) > 0
			}, 10*time.Second, 20*time.Millisecond, "%s reported no problem; want a %s", tt.path, tt.kind)
			require.Lenf(t, got, 1, "Problems() on %s = %v; want one %s", tt.path, got, tt.kind)
			assert.Equalf(t, tt.kind, got[0].Kind, "Problems() on %s = %v; want a %s", tt.path, got, tt.kind)
			assert.Containsf(t, got[0].Text, tt.text, "Problems() on %s = %v; want the text %q", tt.path, got, tt.text)
		})
	}

	t.Run("WaitFor under a strict CSP", func(t *testing.T) {
		t.Parallel()
		p := b.NewPage(t, nil)
		p.Do(chromedp.Navigate(site.URL + "/later"))
		p.WaitFor(`document.title === "changed by the page"`)
		assert.Empty(t, p.Problems(), "WaitFor compiles nothing the CSP refuses")
	})

	t.Run("the inline script did not run", func(t *testing.T) {
		t.Parallel()
		p := b.NewPage(t, &PageOptions{AllowProblems: true})
		p.Do(chromedp.Navigate(site.URL + "/csp"))
		title, err := chromedp.Run(p.Context(), chromedp.Title())
		require.NoError(t, err)
		assert.Equalf(t, "/csp", title, "Title() = %q; want %q, the CSP refusing the inline script", title, "/csp")
	})
}

func TestExpect(t *testing.T) {
	t.Parallel()
	p := &Page{}
	p.Expect(func(pr Problem) bool { return pr.Kind == FailedRequest && strings.HasSuffix(pr.URL, "/api") })
	tests := []struct {
		pr   Problem
		want bool
	}{
		{Problem{Kind: FailedRequest, URL: "http://x/api"}, true},
		{Problem{Kind: FailedRequest, URL: "http://x/static/app.js"}, false},
		{Problem{Kind: ConsoleError, URL: "http://x/api"}, false},
	}
	for _, tt := range tests {
		assert.Equalf(t, tt.want, p.isExpected(tt.pr), "isExpected(%v) = %v; want %v", tt.pr, !tt.want, tt.want)
	}
}

// recordingTB is a testing.TB that records Skipf and Fatalf instead of
// ending the goroutine, for testing start's refusal.
type recordingTB struct {
	testing.TB
	skipped, failed string
}

func (r *recordingTB) Helper()                           {}
func (r *recordingTB) Skipf(format string, args ...any)  { r.skipped = fmt.Sprintf(format, args...) }
func (r *recordingTB) Fatalf(format string, args ...any) { r.failed = fmt.Sprintf(format, args...) }

func TestStartWithoutBrowser(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "no-chromium")
	tests := []struct {
		ci                 string
		wantSkip, wantFail bool
	}{
		{ci: "", wantSkip: true},
		{ci: "false", wantSkip: true},
		{ci: "true", wantFail: true},
	}
	for _, tt := range tests {
		t.Run("CI="+tt.ci, func(t *testing.T) {
			t.Setenv("CI", tt.ci)
			rec := &recordingTB{TB: t}
			b := start(rec, missing)
			assert.Nilf(t, b, "start(%q) = %v; want nil", missing, b)
			assert.Equalf(t, tt.wantSkip, rec.skipped != "", "start(%q) with CI=%q skipped: %q; want skip %v", missing, tt.ci, rec.skipped, tt.wantSkip)
			assert.Equalf(t, tt.wantFail, rec.failed != "", "start(%q) with CI=%q failed: %q; want fail %v", missing, tt.ci, rec.failed, tt.wantFail)
		})
	}
}
