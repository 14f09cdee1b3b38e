package browsertest

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// chromium is where Debian's chromium package installs the browser.
const chromium = "/usr/bin/chromium"

// A Browser is one headless Chromium process with a fresh profile. Its
// pages are separate tabs, so tests that share it run in parallel.
//
// The zero value is not usable: call [New]. A Browser is safe for
// concurrent use.
type Browser struct {
	ctx context.Context // the browser's chromedp context; its tabs are children
}

// New starts Chromium for tb and returns it; a cleanup closes it and
// removes its profile. It skips tb when /usr/bin/chromium is missing, or
// fails it when the environment variable CI is "true". It fails tb when the
// browser does not start.
func New(tb testing.TB) *Browser {
	tb.Helper()
	return start(tb, chromium)
}

// start is New with the browser's path, so a test can name a missing one.
func start(tb testing.TB, execPath string) *Browser {
	tb.Helper()
	if _, err := os.Stat(execPath); err != nil {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("browsertest: no browser at %s (CI=true, so browser tests must run): %v", execPath, err)
		} else {
			tb.Skipf("browsertest: no browser at %s: %v", execPath, err)
		}
		return nil
	}
	profile := filepath.Join(tb.TempDir(), "profile")
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(execPath),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("hide-scrollbars", true), // screenshots show the page, not the scrollbar
		chromedp.UserDataDir(profile),
	)
	ctx, cancel := chromedp.NewContext(allocCtx)
	tb.Cleanup(func() {
		// Cancel closes the browser gracefully and waits for it; its
		// children can still write to the profile for a moment, and the
		// TempDir cleanup that runs next must find it gone.
		if err := chromedp.Cancel(ctx); err != nil && !errors.Is(err, context.Canceled) {
			tb.Logf("browsertest: closing the browser: %v", err)
		}
		cancel()
		cancelAlloc()
		removeProfile(tb, profile)
	})
	if err := chromedp.Do(ctx); err != nil { // starts the browser
		tb.Fatalf("browsertest: starting %s: %v", execPath, err)
	}
	return &Browser{ctx: ctx}
}

// removeProfile removes the profile directory, retrying for a few seconds
// while the browser's last processes exit and stop writing to it.
func removeProfile(tb testing.TB, dir string) {
	deadline := time.Now().Add(5 * time.Second)
	for {
		err := os.RemoveAll(dir)
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			tb.Errorf("browsertest: removing the browser profile %s: %v", dir, err)
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}
