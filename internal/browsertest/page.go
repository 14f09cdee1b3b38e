package browsertest

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// ColorScheme is the value of the prefers-color-scheme media feature a page
// emulates.
type ColorScheme string

// The color schemes. The empty ColorScheme emulates nothing: the page sees
// the browser's own preference (light, in headless Chromium).
const (
	Light ColorScheme = "light"
	Dark  ColorScheme = "dark"
)

// PageOptions configure a [Page]. A nil *PageOptions means the defaults.
type PageOptions struct {
	// Width and Height are the viewport's size in CSS pixels; zero means
	// 1280 by 800.
	Width, Height int64

	// ColorScheme is the prefers-color-scheme the page sees; empty means no
	// emulation.
	ColorScheme ColorScheme

	// Timeout bounds everything run on the page's Context, from NewPage on;
	// zero means one minute.
	Timeout time.Duration

	// AllowProblems keeps the page from failing its test for the problems
	// it records; the test reads them with Problems. For testing what a
	// page reports, not for hiding it.
	AllowProblems bool
}

// ProblemKind says what a [Problem] is.
type ProblemKind string

// The kinds of problems a page records.
const (
	ConsoleError  ProblemKind = "console error"      // console.error or console.assert, or an error the browser logged (a failed load)
	Exception     ProblemKind = "uncaught exception" // a throw nothing caught, or an unhandled promise rejection
	CSPViolation  ProblemKind = "CSP violation"      // something the page's Content-Security-Policy refused
	FailedRequest ProblemKind = "failed request"     // a response with an error status, which Chrome logs as a console error
)

// A Problem is something a page reported that a test should not see.
type Problem struct {
	Kind ProblemKind
	Text string // the message, as the DevTools console shows it
	URL  string // where it came from, when the browser says
}

// String returns the kind, the text and the URL.
func (p Problem) String() string {
	if p.URL == "" {
		return fmt.Sprintf("%s: %s", p.Kind, p.Text)
	}
	return fmt.Sprintf("%s: %s (%s)", p.Kind, p.Text, p.URL)
}

// A Page is one tab of a [Browser], for one test. It records the problems
// the browser reports from the moment the tab opens.
//
// A Page is safe for concurrent use, but chromedp runs the actions of one
// tab in order: drive it from one goroutine.
type Page struct {
	tb  testing.TB
	ctx context.Context

	mu       sync.Mutex
	problems []Problem
	expected []func(Problem) bool
}

// NewPage opens a tab for tb, with the viewport and color scheme of opts
// (nil means the defaults). A cleanup fails tb if the page recorded a
// problem (unless opts.AllowProblems) and closes the tab. NewPage fails tb
// when the tab does not open.
func (b *Browser) NewPage(tb testing.TB, opts *PageOptions) *Page {
	tb.Helper()
	o := PageOptions{}
	if opts != nil {
		o = *opts
	}
	if o.Width == 0 {
		o.Width = 1280
	}
	if o.Height == 0 {
		o.Height = 800
	}
	if o.Timeout == 0 {
		o.Timeout = time.Minute
	}
	p := &Page{tb: tb}
	tabCtx, cancelTab := chromedp.NewContext(b.ctx, chromedp.WithListener(p.record))
	// The first Do binds the tab's life to tabCtx; the timeout goes on a
	// child, so it ends actions, not the tab.
	if err := chromedp.Do(tabCtx); err != nil {
		cancelTab()
		tb.Fatalf("browsertest: opening a tab: %v", err)
	}
	ctx, cancelTimeout := context.WithTimeout(tabCtx, o.Timeout)
	p.ctx = ctx
	tb.Cleanup(func() {
		if !o.AllowProblems {
			for _, pr := range p.Problems() {
				if !p.isExpected(pr) {
					tb.Errorf("browsertest: the page reported a %s", pr)
				}
			}
		}
		cancelTimeout()
		cancelTab()
	})
	steps := []chromedp.Action[chromedp.Void]{chromedp.EmulateViewport(o.Width, o.Height)}
	if o.ColorScheme != "" {
		steps = append(steps, emulateColorScheme(o.ColorScheme))
	}
	p.Do(steps...)
	return p
}

// emulateColorScheme sets the prefers-color-scheme media feature.
func emulateColorScheme(s ColorScheme) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
			Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: string(s)}},
		})
		return err
	})
}

// Context returns the context that runs actions in the page's tab, for
// chromedp.Run and chromedp.Do. It ends at the page's timeout or when the
// test ends.
func (p *Page) Context() context.Context { return p.ctx }

// Do runs the steps in the page's tab, in order, and fails the test at the
// first error.
func (p *Page) Do(steps ...chromedp.Action[chromedp.Void]) {
	p.tb.Helper()
	if err := chromedp.Do(p.ctx, steps...); err != nil {
		p.tb.Fatalf("browsertest: %v", err)
	}
}

// WaitFor evaluates the JavaScript expression in the page until it is
// truthy, and fails the test when the page's timeout comes first, with the
// last evaluation's error if it threw. Unlike chromedp.Poll, it compiles
// nothing in the page (Poll builds its predicate with new Function, which a
// Content-Security-Policy without 'unsafe-eval' refuses), so it works on
// pages with a strict policy.
func (p *Page) WaitFor(expr string) {
	p.tb.Helper()
	var last error
	for {
		ok, err := chromedp.Run(p.ctx, chromedp.Evaluate[bool]("!!("+expr+")"))
		if err == nil && ok {
			return
		}
		if err != nil {
			last = err
		}
		select {
		case <-p.ctx.Done():
			p.tb.Fatalf("browsertest: waiting for %s: %v (last error: %v)", expr, p.ctx.Err(), last)
		case <-time.After(25 * time.Millisecond):
		}
	}
}

// Expect marks the problems match accepts as expected: they are recorded,
// but do not fail the test. It is for a page that fails requests by design,
// such as an API answering 412 to a stale save, whose failed response
// Chrome logs as an error:
//
//	p.Expect(func(pr browsertest.Problem) bool {
//		return pr.Kind == browsertest.FailedRequest && strings.HasSuffix(pr.URL, "/api/settings")
//	})
func (p *Page) Expect(match func(Problem) bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.expected = append(p.expected, match)
}

func (p *Page) isExpected(pr Problem) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, match := range p.expected {
		if match(pr) {
			return true
		}
	}
	return false
}

// Problems returns the problems recorded so far, oldest first, the
// expected ones included.
func (p *Page) Problems() []Problem {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.problems)
}

// Screenshot saves a PNG of the whole page as name.png in the test's
// temporary directory, logs and returns its path. It fails the test when
// the browser or the file system does.
func (p *Page) Screenshot(name string) string {
	p.tb.Helper()
	png, err := chromedp.Run(p.ctx, chromedp.FullScreenshot(100)) // quality 100 is PNG
	if err != nil {
		p.tb.Fatalf("browsertest: screenshot %q: %v", name, err)
	}
	path := filepath.Join(p.tb.TempDir(), name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		p.tb.Fatalf("browsertest: screenshot %q: %v", name, err)
	}
	p.tb.Logf("browsertest: screenshot %s", path)
	return path
}

// record keeps the events that are problems. It runs in the tab's event
// loop, so it only classifies and appends.
func (p *Page) record(ev any) {
	var pr Problem
	switch ev := ev.(type) {
	case *runtime.EventConsoleAPICalled:
		if ev.Type != runtime.ConsoleAPICalledTypeError && ev.Type != runtime.ConsoleAPICalledTypeAssert {
			return
		}
		pr = Problem{Kind: ConsoleError, Text: argsText(ev.Args)}
		if st := ev.StackTrace; st != nil && len(st.CallFrames) > 0 {
			pr.URL = st.CallFrames[0].URL
		}
	case *runtime.EventExceptionThrown:
		d := ev.ExceptionDetails
		pr = Problem{Kind: Exception, Text: d.Text, URL: d.URL}
		if d.Exception != nil && d.Exception.Description != "" {
			desc, _, _ := strings.Cut(d.Exception.Description, "\n")
			pr.Text += " " + desc
		}
	case *log.EventEntryAdded:
		e := ev.Entry
		switch {
		case strings.Contains(e.Text, "Content Security Policy"):
			pr = Problem{Kind: CSPViolation, Text: e.Text, URL: e.URL}
		case e.Level == log.EntryLevelError && e.Source == log.EntrySourceNetwork:
			pr = Problem{Kind: FailedRequest, Text: e.Text, URL: e.URL}
		case e.Level == log.EntryLevelError:
			pr = Problem{Kind: ConsoleError, Text: e.Text, URL: e.URL}
		default:
			return
		}
	default:
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.problems = append(p.problems, pr)
}

// argsText renders the arguments of a console call: strings as they are,
// other values by their description.
func argsText(args []*runtime.RemoteObject) string {
	parts := make([]string, 0, len(args))
	for _, a := range args {
		var s string
		switch {
		case a.Type == runtime.RemoteObjectTypeString && json.Unmarshal([]byte(a.Value), &s) == nil:
		case a.Description != "":
			s = a.Description
		case a.UnserializableValue != "":
			s = string(a.UnserializableValue)
		default:
			s = string(a.Value)
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, " ")
}
