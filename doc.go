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
// An alerts.Event enters an alerts.Dispatcher, which reads the tenant's
// alerts.Settings (is the category on, who receives it), applies the
// alerts.Threshold (Active Threat fires at score 4 or more), asks the
// alerts.LimitStore in one atomic step whether a send is allowed (at most
// 5 emails, then a 4-hour cooling period; otherwise the event waits as
// pending, and the store knows when it falls due, for Dispatcher.Run to
// send), renders the allowed email with alerts.Content — carrying the
// pending events into it — and hands the alerts.Message to an
// alerts.Notifier. Events that do not warrant an immediate alert (the
// Dispatcher hands them to its Digest), or that a host drains from the
// pending list, go to a digest.Mailer, which sends each tenant one email a
// day at its local time listing only what is new, to the recipients of the
// same settings. Before a message leaves, mailauth.Policy.Sender chooses
// its From, Reply-To and DKIM domain (through alerts/mailauthsender, the
// Sender of both), trusting the SPF and DMARC verdicts of
// mailauth.Preflight.
//
// # Packages
//
//   - alerts: categories and their catalog, per-tenant settings edited as
//     drafts and saved atomically with optimistic versioning, recipient
//     validation, the threshold, the frequency limiter and its store, the
//     dispatcher, the email content, and the Message, Notifier and Clock
//     types every other package shares.
//   - alerts/alertstest: a fake clock, a recording notifier, a failing
//     notifier, a checker of the limiter's leases, valid and invalid tenant
//     ids, and the limiter store's conformance suite, for the host's tests,
//     in the style of net/http/httptest.
//   - alerts/smtpnotify: the SMTP backend (STARTTLS, implicit TLS, AUTH,
//     timeouts, retry with backoff, DKIM signing, refusal of header
//     injection).
//   - alerts/mailauthsender: the sender of every alert and digest chosen by
//     mailauth's policy, cached per tenant (no DNS lookup per email).
//   - digest: the daily digest of new notifications only, deduplicated, sent
//     at a local time in each tenant's zone, nothing lost, nothing reported
//     twice; digest/digesttest holds its store's conformance suite.
//   - mailauth: the sender-domain policy (platform bulk domain kept apart
//     from the corporate domain, migration by date, customer From domains
//     only where SPF and DMARC allow, with the exact DNS fix when they
//     don't), the DMARC preflight and Authentication-Results.
//   - mailauth/spf (RFC 7208), mailauth/dmarc (RFC 7489 and RFC 9989) and
//     mailauth/dkim (RFC 6376): the verifiers, one package per RFC;
//     mailauth/dnsclient: the resolver on github.com/miekg/dns;
//     mailauth/mailauthtest: a real DNS server on loopback and an in-memory
//     resolver, serving zones from a map, for tests.
//   - alerts/redisstore and digest/redisstore: the stores on Redis, each
//     beside the package whose interfaces it implements (one Lua script per
//     decision that must hold across replicas), so many replicas still send
//     at most N alerts per cooling period and report each digest item once.
//   - alerts/settingshttp: the settings API (an http.Handler with ETags,
//     If-Match and 412 conflicts, previews and the bulk edits) and the
//     embeddable Email Alerts page, under a strict Content-Security-Policy.
//   - examples/console (the main example: the whole SDK in memory behind a
//     web page, with an outbox of the emails sent), examples/quickstart (the
//     same story in the terminal), examples/custombackend (a webhook
//     notifier), examples/preflight (the DMARC preflight against real DNS).
//   - internal/: what users must not import — render (the templates and
//     escaping both emails share), domain (IDNA conversion), rediskey and
//     redisscript (the Redis stores' key layout and script calls), storetest
//     (the store conformance suites run on memory and Redis), redistest (a
//     real redis-server for tests), browsertest (headless Chromium for the
//     settings page's and the emails' tests), bench (the benchmark modules,
//     side by side with other libraries).
//
// Every store has an in-memory implementation, used by default. Time always
// comes from an alerts.Clock; nothing in the SDK sleeps inside a library
// call or keeps global state.
package alertmail
