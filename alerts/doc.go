// Package alerts decides which security-alert emails go out, when and to
// whom.
//
// It holds the alert categories (Threat, Active Threat, System Status,
// Configuration, and any a service registers beside them), the per-tenant
// settings a user edits on the product's screens (toggles, Enable all,
// Disable all, Reset, an explicit atomic Save, recipients), the score
// threshold (Active Threat fires at score 4 or more), the frequency limiter
// (at most 5 emails, then a 4-hour cooling period, with suppressed events
// carried into the next allowed email), the [Message] every [Notifier]
// delivers, and the [Clock] all time comes from.
//
// Stores sit behind small interfaces so that several replicas can share
// state (see the redisstore package); the in-memory stores are the default.
// Test helpers live in package alertstest.
package alerts
