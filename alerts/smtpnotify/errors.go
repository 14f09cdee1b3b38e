package smtpnotify

import (
	"errors"
	"fmt"
	"strings"

	"github.com/emersion/go-smtp"

	"github.com/alertmail/alertmail/alerts"
)

// Sentinel errors. The errors the notifier returns wrap one of them, the
// relay's reply (a *smtp.SMTPError of github.com/emersion/go-smtp, found
// with errors.As), a network error, or the context's error; or they are an
// [alerts.RefusedError]. See [Notifier.Notify].
var (
	// ErrHeaderInjection means a field that goes into a header holds CR, LF
	// or NUL. Nothing was sent.
	ErrHeaderInjection = errors.New("smtpnotify: CR, LF or NUL in a header field")
	// ErrInvalidField means a field of the configuration or the message is
	// malformed or missing. Nothing was sent.
	ErrInvalidField = errors.New("smtpnotify: invalid field")
	// ErrInsecureAuth means AUTH was configured but the connection has no
	// TLS (and Config.AllowInsecureAuth does not apply). The credentials
	// were not sent.
	ErrInsecureAuth = errors.New("smtpnotify: AUTH refused on a connection without TLS")
	// ErrNoStartTLS means the relay does not offer STARTTLS, which
	// Security StartTLS requires. Nothing was sent.
	ErrNoStartTLS = errors.New("smtpnotify: the relay does not offer STARTTLS")
	// ErrNoAuthMechanism means the relay offers neither AUTH PLAIN nor AUTH
	// LOGIN.
	ErrNoAuthMechanism = errors.New("smtpnotify: the relay offers no AUTH mechanism the notifier knows (PLAIN, LOGIN)")
	// ErrNoSMTPUTF8 means an address with a non-ASCII local part needs
	// SMTPUTF8 (RFC 6531) and the relay does not offer it: a recipient is
	// refused, a sender fails the message.
	ErrNoSMTPUTF8 = errors.New("smtpnotify: the relay does not offer SMTPUTF8, which a non-ASCII address needs")
)

// A FieldError reports a bad field of the configuration or of the message:
// Field names it ("Message.To[1]", "Config.Headers[X-Tag]"), Value is what
// it held (empty for secrets), Err is [ErrHeaderInjection],
// [ErrInvalidField], or the recipient error of
// [github.com/alertmail/alertmail/alerts.ParseRecipient].
type FieldError struct {
	Field  string // the field, as a Go expression
	Value  string // what it held; empty for secrets
	Reason string // what is wrong, for people; may be empty
	Err    error  // the sentinel or the recipient error
}

// Error names the field, its value (shortened) and what is wrong.
func (e *FieldError) Error() string {
	var b strings.Builder
	b.WriteString("smtpnotify: ")
	b.WriteString(e.Field)
	if e.Value != "" {
		v := e.Value
		if len(v) > 80 {
			v = v[:80] + "..."
		}
		fmt.Fprintf(&b, " %q", v)
	}
	if e.Reason != "" {
		b.WriteString(": ")
		b.WriteString(e.Reason)
	} else if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(strings.TrimPrefix(e.Err.Error(), "smtpnotify: "))
	}
	return b.String()
}

// Unwrap returns Err.
func (e *FieldError) Unwrap() error { return e.Err }

// A stepError is a failure at one step of the SMTP session: a reply of
// the relay (a *smtp.SMTPError of github.com/emersion/go-smtp, with its
// code, enhanced status code and text), a network error or a timeout.
type stepError struct {
	step string // "greeting", "EHLO", "STARTTLS", "AUTH", "MAIL", "RCPT", "DATA", "end of data"...
	err  error
}

// Error gives the step and the relay's reply as it said it ("550 5.1.1
// no such user") or the error.
func (e *stepError) Error() string {
	var se *smtp.SMTPError
	if errors.As(e.err, &se) {
		return "smtpnotify: " + e.step + ": " + replyText(se)
	}
	return "smtpnotify: " + e.step + ": " + strings.TrimPrefix(e.err.Error(), "smtpnotify: ")
}

// Unwrap returns the cause: errors.As finds the *smtp.SMTPError of a reply.
func (e *stepError) Unwrap() error { return e.err }

// replyText is a reply as the relay gave it: "550 5.1.1 no such user".
func replyText(se *smtp.SMTPError) string {
	if st := status(se); st != "" {
		return fmt.Sprintf("%d %s %s", se.Code, st, se.Message)
	}
	return fmt.Sprintf("%d %s", se.Code, se.Message)
}

// status is the enhanced status code of a reply (RFC 3463), or "".
func status(se *smtp.SMTPError) string {
	c := se.EnhancedCode
	if c[0] <= 0 {
		return ""
	}
	return fmt.Sprintf("%d.%d.%d", c[0], c[1], c[2])
}

// refusal is the refusal of recipient by a reply, or by err when it is
// not one.
func refusal(recipient string, err error) alerts.Refusal {
	var se *smtp.SMTPError
	if errors.As(err, &se) {
		return alerts.Refusal{Recipient: recipient, Code: se.Code, Status: status(se), Text: se.Message}
	}
	return alerts.Refusal{Recipient: recipient, Text: strings.TrimPrefix(err.Error(), "smtpnotify: ")}
}

// reply returns the relay's reply that err is, if it is one.
func reply(err error) (*smtp.SMTPError, bool) {
	var se *smtp.SMTPError
	ok := errors.As(err, &se)
	return se, ok
}
