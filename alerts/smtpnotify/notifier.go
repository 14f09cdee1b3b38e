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
// for concurrent use: each Notify uses a connection of its own.
type Notifier struct {
	s *settings
}

var _ alerts.Notifier = (*Notifier)(nil)

// New returns a Notifier for cfg, after checking every field: the error is
// a [*FieldError] naming the bad one. New does not connect.
func New(cfg Config) (*Notifier, error) {
	s, err := cfg.validate()
	if err != nil {
		return nil, err
	}
	return &Notifier{s: s}, nil
}

// Notify composes msg and delivers it to every recipient in msg.To. It
// returns nil once the relay has accepted the message.
//
// Every field is checked before anything is sent: a bad one is a
// [*FieldError] ([ErrHeaderInjection] for CR, LF or NUL). The relay's
// refusal of a recipient is a [*RefusedError] and the message then goes to
// no one; other refusals are [*ReplyError]s. When the context ends, the
// error wraps its cause. With [Config.Retry], temporary failures are retried
// with backoff; the error is then the last attempt's.
func (n *Notifier) Notify(ctx context.Context, msg *alerts.Message) error {
	env, err := n.s.compose(msg)
	if err != nil {
		return err
	}
	r := n.s.backoff
	wait := r.InitialBackoff
	for attempt := 1; ; attempt++ {
		err := n.s.deliver(ctx, env)
		if err == nil {
			if attempt > 1 && n.s.Logger != nil {
				n.s.Logger.LogAttrs(ctx, slog.LevelInfo, "smtpnotify: delivered after retry",
					slog.String("message_id", env.id), slog.Int("attempt", attempt))
			}
			return nil
		}
		if attempt >= r.MaxAttempts || !retryable(ctx, err) {
			if r.MaxAttempts > 1 {
				return &attemptError{id: env.id, attempt: attempt, max: r.MaxAttempts, err: err}
			}
			return err
		}
		// Full backoff halved, plus jitter up to the other half, so that
		// many senders failing at once do not retry in step.
		d := wait/2 + rand.N(wait/2+1)
		if n.s.Logger != nil {
			n.s.Logger.LogAttrs(ctx, slog.LevelWarn, "smtpnotify: send failed, retrying",
				slog.String("message_id", env.id), slog.Int("attempt", attempt),
				slog.Duration("backoff", d), slog.String("error", err.Error()))
		}
		t := time.NewTimer(d)
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

// retryable reports whether err is a temporary failure worth another
// attempt: a 4xx reply, a network error or timeout, or a connection the
// relay closed, unless the context ended.
func retryable(ctx context.Context, err error) bool {
	if ctxErr(ctx) != nil {
		return false
	}
	var temp interface{ Temporary() bool }
	if errors.As(err, &temp) {
		if _, isNet := temp.(net.Error); !isNet {
			return temp.Temporary() // a *ReplyError or *RefusedError
		}
	}
	var fe *FieldError
	if errors.As(err, &fe) || errors.Is(err, ErrInsecureAuth) || errors.Is(err, ErrNoStartTLS) || errors.Is(err, ErrNoAuthMechanism) {
		return false
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
