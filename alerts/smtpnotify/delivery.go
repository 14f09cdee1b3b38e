package smtpnotify

import (
	"context"

	"github.com/emersion/go-smtp"

	"github.com/alertmail/alertmail/alerts"
)

// A delivery is where one message stands with its recipients across the
// attempts of a Notify: which have it, which were refused, which are still
// to do. An attempt goes only to those still to do, so a retry never sends
// a recipient the message twice.
type delivery struct {
	s         *settings
	env       *envelope
	done      []bool           // by index in env.to: delivered or refused
	refused   []alerts.Refusal // by index in env.to; Recipient set when refused
	delivered int
	// failed is the relay's refusal of the message itself (a 5xx reply to
	// MAIL or to the data); the recipients it had not reached are refused
	// with it.
	failed error
}

func newDelivery(s *settings, env *envelope) *delivery {
	return &delivery{s: s, env: env, done: make([]bool, len(env.to)), refused: make([]alerts.Refusal, len(env.to))}
}

// pending returns the indexes of the recipients still to do, in order.
func (d *delivery) pending() []int {
	var p []int
	for i, done := range d.done {
		if !done {
			p = append(p, i)
		}
	}
	return p
}

// refuse records that recipient i was refused for reason err.
func (d *delivery) refuse(i int, err error) {
	d.done[i] = true
	d.refused[i] = refusal(d.env.to[i], err)
}

// fail records that the relay refused the message itself with err, which
// refuses every recipient still to do.
func (d *delivery) fail(err error) {
	d.failed = err
	for _, i := range d.pending() {
		d.refuse(i, err)
	}
}

// attempt delivers to the recipients still to do over one connection, in
// transactions of at most the session's batch of recipients. It returns
// nil once none is left to do, and otherwise the error that left some.
func (d *delivery) attempt(ctx context.Context) error {
	ss, err := d.s.open(ctx)
	if err != nil {
		return err
	}
	defer ss.close()
	if err := d.transactions(ss); err != nil {
		return ss.wrap(err)
	}
	ss.quit()
	return nil
}

// transactions runs the transactions of one attempt. A recipient the
// relay defers (a 4xx reply to RCPT) stays to do, and the first deferral
// is returned once the others are done.
func (d *delivery) transactions(ss *session) error {
	queue := d.pending()
	if !isASCII(d.env.from) && !ss.utf8 {
		ss.step = "MAIL"
		d.fail(ss.stepError(ErrNoSMTPUTF8))
		return nil
	}
	var deferral error
	for len(queue) > 0 && d.failed == nil {
		tried, err := d.transaction(ss, queue[:min(ss.batch, len(queue))], &deferral)
		if err != nil {
			return err
		}
		queue = queue[tried:]
	}
	if len(d.pending()) > 0 {
		return deferral
	}
	return nil
}

// transaction sends the message to recipients txn in one transaction and
// returns how many of them it tried: fewer than all when the relay
// answers that there are too many recipients (452 or 552, RFC 5321
// section 4.5.3.1.10), in which case the session's batch shrinks to what
// it accepted and the rest go in the next transaction. A deferred
// recipient sets *deferral, if not set yet.
func (d *delivery) transaction(ss *session, txn []int, deferral *error) (tried int, err error) {
	env := d.env
	utf8 := env.utf8
	for _, i := range txn {
		utf8 = utf8 || !isASCII(env.to[i])
	}
	ss.step = "MAIL"
	if err := ss.c.Mail(env.from, &smtp.MailOptions{Size: int64(env.size()), UTF8: utf8 && ss.utf8}); err != nil {
		return 0, d.refused5xx(ss, err)
	}
	var accepted []int
	tried = len(txn)
rcpts:
	for k, i := range txn {
		rcpt := env.to[i]
		if !isASCII(rcpt) && !ss.utf8 {
			d.refuse(i, ErrNoSMTPUTF8)
			continue
		}
		ss.step = "RCPT"
		err := ss.c.Rcpt(rcpt, nil)
		if err == nil {
			accepted = append(accepted, i)
			continue
		}
		se, ok := reply(err)
		switch {
		case !ok:
			return 0, err
		case tooManyRecipients(se, len(accepted)):
			if len(accepted) > 0 {
				tried, ss.batch = k, len(accepted)
				break rcpts
			}
			// Nothing accepted yet: the limit is not the count.
			if *deferral == nil {
				*deferral = ss.stepError(err)
			}
		case se.Code/100 == 5:
			d.refuse(i, se)
		default:
			if *deferral == nil {
				*deferral = ss.stepError(err)
			}
		}
	}
	if len(accepted) == 0 {
		ss.step = "RSET"
		return tried, ss.c.Reset()
	}
	if err := d.data(ss); err != nil {
		return 0, d.refused5xx(ss, err)
	}
	for _, i := range accepted {
		d.done[i] = true
	}
	d.delivered += len(accepted)
	return tried, nil
}

// data sends the message data of a transaction.
func (d *delivery) data(ss *session) error {
	ss.step = "DATA"
	w, err := ss.c.Data()
	if err != nil {
		return err
	}
	ss.step = "end of data"
	for _, p := range d.env.data {
		if _, err := w.Write(p); err != nil {
			return err
		}
	}
	return w.Close()
}

// refused5xx records a 5xx reply to MAIL or to the data as the relay's
// refusal of the message, and returns nil; it returns any other error.
func (d *delivery) refused5xx(ss *session, err error) error {
	if se, ok := reply(err); ok && se.Code/100 == 5 {
		d.fail(ss.stepError(err))
		return nil
	}
	return err
}

// tooManyRecipients reports whether a reply to RCPT, after accepted
// recipients, says the transaction has too many: 452 or 552 (which RFC
// 5321 asks clients to read as 452 here) with the enhanced status X.5.3,
// or, from a relay without enhanced status codes, after at least one
// recipient was accepted.
func tooManyRecipients(se *smtp.SMTPError, accepted int) bool {
	if se.Code != 452 && se.Code != 552 {
		return false
	}
	if c := se.EnhancedCode; c[0] > 0 {
		return c[1] == 5 && c[2] == 3
	}
	return accepted > 0
}

// result is what Notify returns once no recipient is left to do: nil, a
// permanent error when the relay refused the message before it reached
// anyone, or the refusals.
func (d *delivery) result() error {
	if d.failed != nil && d.delivered == 0 {
		return alerts.Permanent(d.failed)
	}
	var refused []alerts.Refusal
	for _, r := range d.refused {
		if r.Recipient != "" {
			refused = append(refused, r)
		}
	}
	if refused == nil {
		return nil
	}
	return &alerts.RefusedError{Refused: refused, Delivered: d.delivered > 0}
}

// isASCII reports whether s is ASCII, which an address must be unless the
// relay offers SMTPUTF8.
func isASCII[T string | []byte](s T) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
