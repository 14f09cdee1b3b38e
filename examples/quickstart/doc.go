// Quickstart configures one tenant's alert settings the way the settings
// screen does (a catalog, a draft, the pending change, Save), then sends
// events through the real pipeline: an alerts.Dispatcher with the default
// renderer and frequency limit, a clock the program advances by hand, and a
// notifier that prints what it would send. It shows an Active Threat below
// the threshold, five emails then the cooling period with the held-back
// events sent in one email by Dispatcher.Run when the period ends (the
// program only moves the clock), and a disable, saved through the
// dispatcher, that drops a queued event at once, so that turning the
// category on again does not send it. The event under the threshold goes
// to the daily digest (a digest.Mailer, the dispatcher's Digest), which the
// next morning goes to the recipients of the same settings. Everything
// runs in memory: no servers, no network.
//
//	go run ./examples/quickstart
package main
