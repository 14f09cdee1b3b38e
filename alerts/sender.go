package alerts

import (
	"context"
	"fmt"
	"strings"
)

// A Sender is who an email is from, as a [SenderPolicy] chooses it: the
// From, Reply-To and DKIM signing domain that go on a [Message] together,
// so that one choice drives both the From header and d=. It is a plain
// value; the zero value leaves every choice to the backend.
type Sender struct {
	// From is the From mailbox, with an optional display name, as
	// [Message.From] takes it: "Acme Security <alerts@platform.example>".
	// Empty means the backend's default sender.
	From string
	// ReplyTo is the Reply-To mailbox; empty means none.
	ReplyTo string
	// DKIMDomain is the d= domain the backend signs with; empty means the
	// domain of the From address (see [Message.DKIMDomain]).
	DKIMDomain string
}

// A SenderPolicy chooses the sender of every email the SDK sends: the
// [Dispatcher] asks it for each alert, and the digest's mailer for each
// digest, just before Notify. Package alerts/mailauthsender implements it
// on the sender-domain policy of package mailauth.
//
// Sender is called with the tenant the email goes to and its category,
// which is empty for a digest. It sits on the sending path, so it should
// answer from memory (the mailauth implementation caches its decisions).
// An error stops the email as a temporary failure: its events are kept and
// the send is retried. Implementations must be safe for concurrent use.
type SenderPolicy interface {
	Sender(ctx context.Context, tenant string, category CategoryID) (Sender, error)
}

// SenderPolicyFunc adapts an ordinary function to the [SenderPolicy]
// interface.
type SenderPolicyFunc func(ctx context.Context, tenant string, category CategoryID) (Sender, error)

// Sender returns f(ctx, tenant, category).
func (f SenderPolicyFunc) Sender(ctx context.Context, tenant string, category CategoryID) (Sender, error) {
	return f(ctx, tenant, category)
}

// ApplySender asks p for the sender of msg, by its Tenant and Category, and
// sets msg's From, ReplyTo and DKIMDomain to the choice. A nil p leaves msg
// as it is. The error names the tenant and the category, and wraps p's; a
// choice with a line break in any field (which could forge a header) is an
// error too, and msg is then unchanged. The [Dispatcher] and the digest's
// mailer call it before every Notify; a custom pipeline calls it too.
func ApplySender(ctx context.Context, p SenderPolicy, msg *Message) error {
	if p == nil {
		return nil
	}
	s, err := p.Sender(ctx, msg.Tenant, msg.Category)
	if err != nil {
		return fmt.Errorf("alerts: choosing the sender of tenant %q, category %q: %w", msg.Tenant, msg.Category, err)
	}
	for _, f := range [...]struct{ name, v string }{{"From", s.From}, {"ReplyTo", s.ReplyTo}, {"DKIMDomain", s.DKIMDomain}} {
		if strings.ContainsAny(f.v, "\r\n") {
			return fmt.Errorf("alerts: the sender policy chose %s %q for tenant %q, category %q: it holds a line break", f.name, f.v, msg.Tenant, msg.Category)
		}
	}
	msg.From, msg.ReplyTo, msg.DKIMDomain = s.From, s.ReplyTo, s.DKIMDomain
	return nil
}
