// Package alerts decides which security-alert emails go out, when and to
// whom.
//
// An event takes one path, and each step is a type that can be used alone:
//
//   - Settings. A [Catalog] holds the alert categories (Threat, Active
//     Threat, System Status, Configuration, and any a service registers
//     beside them). Each tenant's [Settings] (which categories are on, the
//     recipients, validated by [ParseRecipients]) are edited as a [Draft],
//     the way the settings screen works: toggles, Enable all, Disable all,
//     Reset, a [Change] to confirm; nothing takes effect until
//     [SettingsStore.Save], which refuses a stale save with [ErrConflict].
//     [MemorySettingsStore] is the in-memory store; package
//     alerts/settingshttp serves the settings API and the Email Alerts page.
//   - Threshold. Active Threat fires at score 4 or more ([Threshold]).
//   - Frequency limit. At most 5 emails per tenant and category, then a
//     4-hour cooling period ([FrequencyLimit], [Limiter]); the events held
//     back are kept and carried into the next allowed email. The state sits
//     in a [LimitStore] ([MemoryLimitStore] by default).
//   - Content. [Content] renders the plain-text and HTML parts of a
//     [Message] from built-in or host templates, with the host's [Brand]
//     and each score's severity [Band].
//   - Delivery. A [Notifier] sends the Message: package smtpnotify for SMTP
//     (DKIM-signed as the Message's DKIMDomain), or a [NotifierFunc] of the
//     host's own.
//
// A [Dispatcher] wires these together: [Dispatcher.Dispatch] takes an
// [Event] end to end, and nothing is lost on the way (a failed send keeps
// its events; one refused for good ([ErrPermanent]) puts them on the key's
// undelivered list, for [Dispatcher.Requeue]; a disabled category drops
// them). What it may do is in its
// [DispatcherConfig]: with a Saver, settings saved through
// [Dispatcher.Save] take effect on the alerts already queued at once; with
// a Catalog, events are checked against the service's own categories (an
// unknown one is an error) and the default renderer names them; with a
// Digest ([Digester]), events under the threshold go to the daily digest;
// with a Sender ([SenderPolicy]), every email's From, Reply-To and DKIM
// domain are chosen per tenant. [Event] and [Result] have JSON forms for a
// host's API. All time comes from a [Clock].
//
// The pipeline runs itself: the [LimitStore] knows when each key next
// needs attention (cooling over with events pending, a failed send's
// retry, a lease left by a replica that died), and [Dispatcher.Run], one
// per replica, sends what falls due ([Dispatcher.FlushDue] is one pass),
// so no host keeps a timer per key. With [DispatcherConfig.Async],
// Dispatch records the event and returns at once ([Queued]); events are
// idempotent by ID, so a redelivered one is a [Duplicate], not a second
// email.
//
// Stores sit behind small interfaces so that several replicas can share
// state (see package alerts/redisstore). Test helpers (a fake clock, a
// recording notifier, the store conformance tests) live in package
// alertstest.
package alerts
