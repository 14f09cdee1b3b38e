package alerts

import (
	"errors"
	"fmt"
	"strings"
)

// ErrPermanent marks a delivery failure that sending the same message again
// cannot mend: the relay refused the message itself (a 5xx reply to MAIL
// FROM or to the data), or refused every recipient. Test with
// errors.Is(err, ErrPermanent).
//
// Every other error of a [Notifier] is temporary (a 4xx reply, a timeout, a
// lost connection, a relay that is down): the SDK keeps the events and
// sends them again later under the same [Message.ID].
var ErrPermanent = errors.New("alerts: permanent delivery failure")

// Permanent returns err marked as permanent: errors.Is(e, ErrPermanent)
// holds for the result, and errors.Is and errors.As still reach err. It
// returns nil for a nil err. Backends call it for failures that retrying
// the same message cannot mend; see [ErrPermanent].
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &permanentError{err}
}

// permanentError is err, marked permanent.
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() []error {
	return []error{ErrPermanent, e.err}
}

// A Refusal is one recipient a backend refused permanently, as the relay
// said it (an SMTP reply such as "550 5.1.1 No such user").
type Refusal struct {
	// Recipient is the address refused.
	Recipient string `json:"recipient"`
	// Code is the reply code (RFC 5321), such as 550; 0 when the backend
	// has none.
	Code int `json:"code,omitempty"`
	// Status is the enhanced status code (RFC 3463), such as "5.1.1";
	// empty when the relay gave none.
	Status string `json:"status,omitempty"`
	// Text is the relay's text, for people.
	Text string `json:"text,omitempty"`
}

// ReplyClass returns the class of an SMTP reply code (RFC 5321): "2xx",
// "4xx" or "5xx", and "none" for 0 (no reply) or any other code. It is the
// value of the attribute alertmail.smtp.code_class in the SDK's metrics,
// the Dispatcher's and smtpnotify's alike.
func ReplyClass(code int) string {
	switch code / 100 {
	case 2:
		return "2xx"
	case 4:
		return "4xx"
	case 5:
		return "5xx"
	}
	return "none"
}

// String returns "recipient: code status text", for logs.
func (r Refusal) String() string {
	var b strings.Builder
	b.WriteString(r.Recipient)
	b.WriteString(":")
	if r.Code != 0 {
		fmt.Fprintf(&b, " %d", r.Code)
	}
	if r.Status != "" {
		b.WriteString(" " + r.Status)
	}
	if r.Text != "" {
		b.WriteString(" " + r.Text)
	}
	return b.String()
}

// A RefusedError reports the recipients a backend refused permanently.
//
// When Delivered is true the message was accepted for its other
// recipients: the SDK counts it as sent (the events are not retried) and
// reports the refusals, so the host can flag the dead addresses.
// When Delivered is false every recipient was refused: the error is
// permanent (errors.Is(err, ErrPermanent) holds) and the events move to
// the key's undelivered list.
type RefusedError struct {
	// Refused are the recipients refused, in the order of Message.To.
	Refused []Refusal
	// Delivered reports whether the message was accepted for at least one
	// recipient.
	Delivered bool
}

// Error names the refused recipients (at most three) and how many there
// were.
func (e *RefusedError) Error() string {
	var b strings.Builder
	b.WriteString("alerts: ")
	if e.Delivered {
		b.WriteString("delivered, but ")
	}
	fmt.Fprintf(&b, "%d recipient(s) refused", len(e.Refused))
	for i, r := range e.Refused {
		if i == 3 {
			fmt.Fprintf(&b, "; and %d more", len(e.Refused)-3)
			break
		}
		b.WriteString("; ")
		b.WriteString(r.String())
	}
	return b.String()
}

// Is reports whether target is ErrPermanent and no recipient accepted the
// message.
func (e *RefusedError) Is(target error) bool {
	return target == ErrPermanent && !e.Delivered
}
