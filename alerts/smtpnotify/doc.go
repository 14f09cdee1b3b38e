// Package smtpnotify is the SMTP backend of the alerts SDK: a
// [github.com/alertmail/alertmail/alerts.Notifier] that delivers each
// [github.com/alertmail/alertmail/alerts.Message] to a mail relay.
//
// A [Notifier] composes the message as MIME (RFC 2045, multipart/alternative
// with the plain-text and the HTML part) with github.com/jordan-wright/email,
// writes its address fields, Subject and custom fields itself, folded as
// RFC 5322 section 2.2.3 describes (no line over 998 octets, none over 78
// that could be folded; display names quoted when they hold specials, RFC
// 2047 encoded when not ASCII), optionally signs it with DKIM (RFC 6376)
// through a [Signer], such as mailauth/dkim's, as the message's
// DKIMDomain, and sends it with github.com/emersion/go-smtp's client over a
// connection it dials with the caller's context:
//
//   - STARTTLS (RFC 3207, the default) or implicit TLS (RFC 8314, port
//     465), with the server certificate verified unless the host says
//     otherwise;
//   - AUTH PLAIN or LOGIN (RFC 4954, github.com/emersion/go-sasl), only
//     over TLS unless the host explicitly allows it for a relay on the
//     loopback interface;
//   - SMTPUTF8 (RFC 6531) when an address needs it and the relay offers
//     it;
//   - at most [Config.MaxRecipients] recipients per transaction (fewer if
//     the relay says so): a message to more goes out in several
//     transactions of the same bytes;
//   - dial, command, submission and attempt timeouts, and cancellation by
//     the context at any point, DATA included, so that Notify returns
//     within [Notifier.MaxDuration];
//   - a new connection per attempt, closed on error, so a connection in an
//     unknown state is never reused;
//   - retries with exponential backoff and jitter only when [Config.Retry]
//     asks for them, only after a temporary failure, and only to the
//     recipients the message has not reached.
//
// Failures are classified once, as the alerts.Notifier contract asks: a
// recipient refused with a 5xx reply does not fail the message for the
// others (an [github.com/alertmail/alertmail/alerts.RefusedError] reports
// it); a 5xx reply to the message itself, or the refusal of every
// recipient, is permanent; 4xx replies, timeouts and network errors are
// temporary.
//
// Bad input never reaches the wire: every address, name, subject and custom
// header is checked before composition (CR, LF and NUL are refused with a
// [*FieldError] naming the field, recipients are validated with
// [github.com/alertmail/alertmail/alerts.ParseRecipient]), which closes the
// two header-injection gaps of the composition library (an unparsable To
// value copied raw, and attachment file names copied into
// Content-Disposition and Content-ID).
//
// Passwords ([Secret]) and DKIM keys never appear in errors, logs or the
// formatted value of a [Config], which shows only the signer's type.
package smtpnotify
