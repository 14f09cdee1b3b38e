package smtpnotify

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors. The errors the notifier returns wrap one of them, or are
// a [*ReplyError] or [*RefusedError], or the context's error.
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

// A ReplyError is a 4xx or 5xx reply of the relay to a command.
type ReplyError struct {
	// Command is the command that was refused: "EHLO", "STARTTLS", "AUTH",
	// "MAIL", "RCPT", "DATA" or "end of data" (the reply to the message).
	Command string
	// Code is the reply code, such as 451 or 550; Message its text.
	Code    int
	Message string
}

// Error gives the command and the relay's reply.
func (e *ReplyError) Error() string {
	return fmt.Sprintf("smtpnotify: %s: %d %s", e.Command, e.Code, e.Message)
}

// Temporary reports whether the reply is a transient (4xx) failure, worth
// trying again later; a 5xx reply is permanent.
func (e *ReplyError) Temporary() bool { return e.Code >= 400 && e.Code < 500 }

// A RefusedError reports the recipients the relay refused. The transaction
// was abandoned, so the message went to none of its recipients.
type RefusedError struct {
	// Recipients are the refused addresses and Replies the relay's reply
	// for each, in the same order.
	Recipients []string
	Replies    []*ReplyError
}

// Error lists the refused recipients with the relay's reply for each.
func (e *RefusedError) Error() string {
	var b strings.Builder
	b.WriteString("smtpnotify: recipients refused, message not sent: ")
	for i, r := range e.Recipients {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s (%d %s)", r, e.Replies[i].Code, e.Replies[i].Message)
	}
	return b.String()
}

// Temporary reports whether every refusal was transient (4xx).
func (e *RefusedError) Temporary() bool {
	for _, r := range e.Replies {
		if !r.Temporary() {
			return false
		}
	}
	return len(e.Replies) > 0
}
