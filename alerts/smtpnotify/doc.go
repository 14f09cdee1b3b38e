// Package smtpnotify is the SMTP backend of the alerts SDK: a
// [github.com/alertmail/alertmail/alerts.Notifier] that delivers each
// [github.com/alertmail/alertmail/alerts.Message] to a mail relay.
//
// A [Notifier] composes the message as MIME (RFC 2045, multipart/alternative
// with the plain-text and the HTML part, RFC 5322 headers: Message-ID from
// the message's stable ID, Date, Reply-To) with github.com/jordan-wright/email,
// optionally signs it with DKIM (RFC 6376) through a [Signer], such as
// mailauth/dkim's, as the message's DKIMDomain, and sends it with net/smtp's
// client over a connection it dials with the caller's context:
//
//   - STARTTLS (RFC 3207, the default) or implicit TLS (RFC 8314, port
//     465), with the server certificate verified unless the host says
//     otherwise;
//   - AUTH PLAIN or LOGIN (RFC 4954), only over TLS unless the host
//     explicitly allows it for a relay on the loopback interface;
//   - dial and command timeouts, and cancellation by the context at any
//     point, DATA included;
//   - a new connection per message, closed on error, so a connection in an
//     unknown state is never reused;
//   - retries with exponential backoff and jitter only when [Config.Retry]
//     asks for them, and never after a permanent (5xx) reply.
//
// Bad input never reaches the wire: every address, name, subject and custom
// header is checked before composition (CR, LF and NUL are refused with a
// [*FieldError] naming the field, recipients are validated with
// [github.com/alertmail/alertmail/alerts.ParseRecipient]), which closes the
// two header-injection gaps of the composition library (an unparsable To
// value copied raw, and attachment file names copied into
// Content-Disposition and Content-ID). A message goes to all of its
// recipients or to none: if the relay refuses one, the transaction is
// abandoned and a [*RefusedError] names every refused recipient.
//
// Passwords ([Secret]) and DKIM keys never appear in errors, logs or the
// formatted value of a [Config], which shows only the signer's type.
package smtpnotify
