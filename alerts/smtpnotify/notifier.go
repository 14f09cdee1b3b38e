package smtpnotify

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"strings"
	"time"

	"github.com/alertmail/alertmail/alerts"
)

// A Notifier delivers alert messages through an SMTP relay. It implements
// [alerts.Notifier].
//
// A Notifier is built by [New]; its zero value is not usable. It is safe
// for concurrent use: each Notify uses connections of its own.
type Notifier struct {
	s   *settings
	tel *telemetry // nil: no providers
}

var _ alerts.Notifier = (*Notifier)(nil)

// New returns a Notifier for cfg, after checking every field: the error is
// a [*FieldError] naming the bad one. New does not connect.
func New(cfg Config) (*Notifier, error) {
	s, err := cfg.validate()
	if err != nil {
		return nil, err
	}
	tel, err := newTelemetry(&cfg)
	if err != nil {
		return nil, err
	}
	return &Notifier{s: s, tel: tel}, nil
}

// Notify composes msg and delivers it to every recipient in msg.To, in
// transactions of at most [Config.MaxRecipients] recipients each, all
// with the same bytes. Its error follows the contract of [alerts.Notifier]:
//
//   - nil: every recipient's server accepted the message;
//   - an [*alerts.RefusedError] with Delivered: the relay refused some
//     recipients (a 5xx reply to RCPT; each [alerts.Refusal] has its code,
//     enhanced status code and text) and accepted the message for the
//     others;
//   - an error that errors.Is [alerts.ErrPermanent]: the relay refused
//     the message itself (a 5xx reply to MAIL or to the data; errors.As
//     finds go-smtp's *smtp.SMTPError) before it reached anyone, or a
//     field of msg is invalid (a [*FieldError], [ErrHeaderInjection] for
//     CR, LF or NUL: nothing was sent), or an [*alerts.RefusedError]
//     without Delivered: every recipient was refused;
//   - any other error is temporary: a 4xx reply (errors.As finds the
//     *smtp.SMTPError), a network error or a timeout, the context's end
//     (the error wraps its cause), or a problem of the relay's or the
//     configuration's (AUTH refused, [ErrNoStartTLS]...).
//
// Delivery is at least once: a temporary failure after the message
// reached some recipients (another transaction, or a recipient deferred
// with a 4xx reply) is still temporary, and the message sent again later
// reaches them a second time, with the same Message-ID.
//
// With [Config.Retry], temporary failures are retried with backoff, each
// time to the recipients still to do; the error is then the last
// attempt's. Notify returns within [Notifier.MaxDuration].
func (n *Notifier) Notify(ctx context.Context, msg *alerts.Message) error {
	ctx, span, start := n.tel.start(ctx, msg)
	err := n.notify(ctx, msg)
	n.tel.sent(ctx, span, start, err)
	return err
}

// notify is Notify without telemetry.
func (n *Notifier) notify(ctx context.Context, msg *alerts.Message) error {
	env, err := n.s.compose(msg)
	if err != nil {
		if fe := (*FieldError)(nil); errors.As(err, &fe) {
			// The same message can never be composed.
			return alerts.Permanent(err)
		}
		return err
	}
	d := newDelivery(n.s, env)
	r := n.s.backoff
	wait := r.InitialBackoff
	for attempt := 1; ; attempt++ {
		err := d.attempt(ctx)
		if err == nil {
			if attempt > 1 && n.s.Logger != nil {
				n.s.Logger.LogAttrs(ctx, slog.LevelInfo, "smtpnotify: delivered after retry",
					slog.String("message_id", env.id), slog.Int("attempt", attempt))
			}
			n.s.logSent(ctx, env.id, d.delivered, attempt)
			return d.result()
		}
		if attempt >= r.MaxAttempts || !retryable(ctx, err) {
			if r.MaxAttempts > 1 {
				return &attemptError{id: env.id, attempt: attempt, max: r.MaxAttempts, err: err}
			}
			return err
		}
		// Full backoff halved, plus jitter up to the other half, so that
		// many senders failing at once do not retry in step.
		pause := wait/2 + rand.N(wait/2+1)
		if n.s.Logger != nil {
			n.s.Logger.LogAttrs(ctx, slog.LevelWarn, "smtpnotify: send failed, retrying",
				slog.String("message_id", env.id), slog.Int("attempt", attempt),
				slog.Duration("backoff", pause), slog.String("error", err.Error()))
		}
		t := time.NewTimer(pause)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("smtpnotify: message %s, waiting to retry after attempt %d: %w (last error: %s)",
				env.id, attempt, context.Cause(ctx), strings.TrimPrefix(err.Error(), "smtpnotify: "))
		case <-t.C:
		}
		wait = min(wait*2, r.MaxBackoff)
	}
}

// MaxDuration is the longest a Notify call takes, whatever the relay does:
// [Retry.MaxAttempts] attempts of at most [Config.AttemptTimeout] each,
// and the backoff between them (InitialBackoff, doubled each time, at most
// MaxBackoff), plus the time to compose and sign the message, which is
// small. A context with an earlier deadline ends Notify earlier.
//
// It is for the dispatcher, which holds a message's events under a lease
// while Notify runs: a lease shorter than MaxDuration could run out before
// Notify returns, and the events be taken again, or the frequency limit
// charged for a send that then fails. The dispatcher requires its LeaseTTL
// to exceed the MaxDuration of a notifier that has the method.
func (n *Notifier) MaxDuration() time.Duration {
	r := n.s.backoff
	total := time.Duration(r.MaxAttempts) * n.s.AttemptTimeout
	wait := r.InitialBackoff
	for range r.MaxAttempts - 1 {
		total += wait
		wait = min(wait*2, r.MaxBackoff)
	}
	return total
}

// retryable reports whether err is a temporary failure worth another
// attempt now: a 4xx reply, a network error or timeout, or a connection
// the relay closed, unless the context ended. A 5xx reply to EHLO,
// STARTTLS or AUTH and a configuration the relay does not support are
// not: trying again at once would meet the same answer.
func retryable(ctx context.Context, err error) bool {
	if ctxErr(ctx) != nil {
		return false
	}
	var fe *FieldError
	if errors.As(err, &fe) || errors.Is(err, ErrInsecureAuth) || errors.Is(err, ErrNoStartTLS) || errors.Is(err, ErrNoAuthMechanism) {
		return false
	}
	if se, ok := reply(err); ok {
		return se.Code/100 == 4
	}
	// The relay closing the connection mid-transaction is transient too.
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne)
}

// attemptError is the error of the last attempt, saying which it was.
type attemptError struct {
	id           string
	attempt, max int
	err          error
}

func (e *attemptError) Error() string {
	return fmt.Sprintf("smtpnotify: message %s, attempt %d of %d: %s", e.id, e.attempt, e.max, strings.TrimPrefix(e.err.Error(), "smtpnotify: "))
}

func (e *attemptError) Unwrap() error { return e.err }
