// Package alertmail is the root of an embeddable SDK for security-alert email
// notifications: which alert emails go out, when, to whom, from which sender
// domain, and whether they will pass SPF and DMARC at the customer's gateway.
//
// The root package holds no code; it is the map of the module. Data flows one
// way, and each step is a small type that can be used on its own:
//
//	Event ─> Settings (category on? recipients) ─> Threshold ─> Limiter (tenant+category)
//	                                                              │ allowed     │ suppressed
//	                                                              v             v
//	                              Render (text+HTML) <── carried-over events <── Pending
//	                                      │
//	                                      v
//	                           Notifier.Notify(ctx, msg) ─> SMTP backend (DKIM-signed,
//	                                                        From chosen by the sender-domain policy)
//	Event (no immediate alert) ─> digest.Collector ─> daily digest (tenant TZ, new-only) ─> Notifier
//
// # Packages
//
//   - [github.com/alertmail/alertmail/alerts]: alert categories and their
//     catalog, per-tenant settings edited as drafts and saved atomically with
//     optimistic versioning, recipient validation, the score threshold, the
//     frequency limiter (at most 5 emails, then a 4-hour cooling period) with
//     pending events carried into the next allowed email, the dispatcher that
//     wires these together, the Message and Notifier types every backend
//     implements, and the pluggable Clock.
//   - alerts/alertstest: a fake clock, a recording notifier and a failing
//     notifier for the host's unit tests, in the style of net/http/httptest.
//   - alerts/smtpnotify: the SMTP backend (STARTTLS, implicit TLS, AUTH,
//     DKIM signing, refusal of header injection).
//   - [github.com/alertmail/alertmail/digest]: the daily digest of new
//     notifications only, deduplicated, sent at a local time in each tenant's
//     time zone, with nothing lost and nothing reported twice.
//   - [github.com/alertmail/alertmail/mailauth]: the sender-domain policy
//     (platform bulk domain kept apart from the corporate domain, migration by
//     date, customer From domains only where SPF and DMARC allow, with the
//     exact DNS fix when they don't) and the DMARC preflight; its
//     sub-packages spf (RFC 7208) and dmarc (RFC 7489 and RFC 9989) are the
//     verifiers it trusts, dnsclient the miekg/dns resolver, and
//     mailauthtest a loopback DNS server for tests.
//   - redisstore: the shared state on Redis, so many replicas still send at
//     most N alerts per cooling period and report each digest item once.
//   - examples/: runnable programs; internal/: what users must not import.
//
// Every store has an in-memory implementation, used by default. Time always
// comes from a [github.com/alertmail/alertmail/alerts.Clock]; nothing in the
// SDK sleeps inside a library call or keeps global state.
package alertmail
