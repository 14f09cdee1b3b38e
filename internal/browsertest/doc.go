// Package browsertest drives Debian's headless Chromium from tests, through
// the Chrome DevTools Protocol (github.com/chromedp/chromedp).
//
// A test package starts one [Browser] in a parent test and opens a [Page] (a
// tab) in each subtest, so the browser starts once:
//
//	func TestSettingsPage(t *testing.T) {
//		b := browsertest.New(t)
//		t.Run("toggle", func(t *testing.T) {
//			t.Parallel()
//			p := b.NewPage(t, nil)
//			p.Do(chromedp.Navigate(srv.URL))
//			...
//			p.Screenshot("toggle")
//		})
//	}
//
// A page records what a page must not do — log a console error, throw an
// uncaught exception, violate its Content-Security-Policy, get an error
// status for a request — and fails its test at the end if it saw any, so a
// test asserts "no problem" without saying so; [Page.Expect] accepts the
// failed requests a test causes on purpose. [Page.WaitFor] waits for a
// condition in the page without compiling anything there, so it works
// under a strict CSP, where chromedp.Poll does not.
//
// The browser is /usr/bin/chromium. When it is missing, [New] skips the
// test, or fails it when the environment variable CI is "true": on CI a
// browser test that does not run is a failure, not a pass.
package browsertest
