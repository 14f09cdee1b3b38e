package alerts

import (
	"context"
	"time"
)

// A Message is one email ready to be delivered by a [Notifier]: its
// addressing, its rendered content and the events it covers.
//
// A Message is a plain value. The [Dispatcher] fills its identity, events
// and Location, a [Renderer] its Subject, Text and HTML; the zero value is
// an empty message that no backend accepts. It is not safe for concurrent
// modification, and a Notifier must not keep or modify it.
type Message struct {
	// ID is the stable identity of the message: the same alert or digest,
	// retried, has the same ID. Backends use it for the Message-ID header (as
	// "<ID@sender-domain>") and may use it to drop duplicates. It holds only
	// characters that are valid in the local part of a Message-ID.
	ID string
	// Tenant is the tenant the message is for.
	Tenant string
	// Category is the alert category; empty for a digest.
	Category CategoryID
	// From is the sender address; empty means the backend's default.
	From string
	// ReplyTo is the Reply-To address; empty means none.
	ReplyTo string
	// DKIMDomain is the signing domain (d=) of the message's DKIM
	// signature, for backends that sign; empty means the domain of the
	// From address. The sender decision that sets From and ReplyTo sets
	// it too, so that one choice drives both the From and d=.
	DKIMDomain string
	// To holds the validated recipient addresses.
	To []string
	// Subject is the subject line, without CR or LF.
	Subject string
	// Text and HTML are the two bodies of the email, with the same content.
	Text, HTML string
	// Events are the events the message covers, the carried-over ones
	// included; backends that post data (a webhook) can use them directly.
	Events []Event
	// Carried is how many of Events were held back by the frequency limit
	// and carried into this message; the rendered email says so. The
	// Dispatcher counts every event that was waiting before the call that
	// composed the message (held back by the limit, or returned by a failed
	// send); they come first in Events, oldest first.
	Carried int
	// Time is when the message was composed; backends use it for the Date
	// header.
	Time time.Time
	// Location is the recipients' time zone: the rendered email shows event
	// times in it. Nil means the renderer's default (UTC unless configured).
	Location *time.Location
}

// A Notifier delivers messages: the SMTP backend, a webhook, a chat bot, or a
// recorder in tests. It is the one interface a custom backend implements.
//
// Notify returns nil only once the message has been accepted for delivery
// to every recipient. Its error says, once for every backend, what the SDK
// does next:
//
//   - a [*RefusedError] with Delivered set: the message went to the other
//     recipients; it counts as sent and the refusals are reported;
//   - an error that errors.Is [ErrPermanent] (wrap it with [Permanent], or
//     a [*RefusedError] without Delivered): sending the same message again
//     cannot succeed; its events are kept aside as undelivered, for the host
//     to list and send again once it has fixed the cause;
//   - any other error is temporary: the SDK keeps the message's events
//     (nothing is lost) and calls Notify again later with the same
//     Message.ID.
//
// Notify returns by the time ctx is done. Implementations must be safe for
// concurrent use, should not modify msg (the events of a failed send are
// retried as the SDK kept them, whatever Notify did to msg), and must not
// keep msg after returning.
type Notifier interface {
	Notify(ctx context.Context, msg *Message) error
}

// NotifierFunc adapts an ordinary function to the Notifier interface.
type NotifierFunc func(ctx context.Context, msg *Message) error

// Notify returns f(ctx, msg).
func (f NotifierFunc) Notify(ctx context.Context, msg *Message) error { return f(ctx, msg) }
