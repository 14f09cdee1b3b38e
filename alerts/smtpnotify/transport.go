package smtpnotify

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/smtp"
	"net/textproto"
	"strings"
	"time"
)

// conn is the state of one SMTP transaction: the step under way names
// the command an error is about.
type conn struct {
	s    *settings
	ctx  context.Context
	raw  net.Conn
	c    *smtp.Client
	step string
}

// deliver runs one SMTP transaction for env on a new connection, which is
// closed when it returns: a connection that saw an error is never reused.
func (s *settings) deliver(ctx context.Context, env *envelope) (err error) {
	cn := &conn{s: s, ctx: ctx, step: "dial"}
	defer func() {
		if err != nil {
			err = cn.wrap(err)
		}
	}()
	if err := cn.dial(); err != nil {
		return err
	}
	defer cn.raw.Close()
	// The context's end interrupts whatever I/O is under way.
	stop := context.AfterFunc(ctx, func() { cn.raw.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	if err := cn.start(); err != nil {
		return err
	}
	if err := cn.sendEnvelope(env); err != nil {
		return err
	}
	return cn.sendData(env.data)
}

// do runs one step of the transaction within its deadline.
func (cn *conn) do(step string, f func() error) error {
	if err := cn.deadline(step); err != nil {
		return err
	}
	return f()
}

// start reads the greeting and sends EHLO, then STARTTLS and AUTH as
// configured.
func (cn *conn) start() error {
	s := cn.s
	err := cn.do("greeting", func() (err error) {
		cn.c, err = smtp.NewClient(cn.raw, s.Host)
		return err
	})
	if err != nil {
		return err
	}
	if err := cn.do("EHLO", func() error { return cn.c.Hello(s.HelloName) }); err != nil {
		return err
	}
	if s.Security == StartTLS {
		if ok, _ := cn.c.Extension("STARTTLS"); !ok {
			return ErrNoStartTLS
		}
		if err := cn.do("STARTTLS", func() error { return cn.c.StartTLS(s.tls) }); err != nil {
			return err
		}
	}
	if s.Username == "" {
		return nil
	}
	return cn.auth()
}

// sendEnvelope sends MAIL and one RCPT per recipient. If the relay refuses
// any recipient, it abandons the transaction and returns a *RefusedError
// naming every refused one: a message goes to all of its recipients or to
// none.
func (cn *conn) sendEnvelope(env *envelope) error {
	if err := cn.do("MAIL", func() error { return cn.c.Mail(env.from) }); err != nil {
		return err
	}
	var refused *RefusedError
	for _, rcpt := range env.to {
		err := cn.do("RCPT", func() error { return cn.c.Rcpt(rcpt) })
		var te *textproto.Error
		if errors.As(err, &te) {
			if refused == nil {
				refused = &RefusedError{}
			}
			refused.Recipients = append(refused.Recipients, rcpt)
			refused.Replies = append(refused.Replies, &ReplyError{Command: "RCPT", Code: te.Code, Message: te.Msg})
			continue
		}
		if err != nil {
			return err
		}
	}
	if refused == nil {
		return nil
	}
	// Abandon the transaction; the error is the refusal whatever RSET and
	// QUIT answer.
	if cn.deadline("RSET") == nil && cn.c.Reset() == nil {
		cn.c.Quit()
	}
	return refused
}

// sendData sends the message and QUIT.
func (cn *conn) sendData(msg []byte) error {
	var w io.WriteCloser
	err := cn.do("DATA", func() (err error) {
		w, err = cn.c.Data()
		return err
	})
	if err != nil {
		return err
	}
	cn.step = "end of data"
	if _, err := w.Write(msg); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	// The message is accepted; a failing QUIT does not change that.
	cn.step = "QUIT"
	cn.c.Quit()
	return nil
}

func (cn *conn) dial() error {
	s := cn.s
	ctx, cancel := context.WithTimeout(cn.ctx, s.DialTimeout)
	defer cancel()
	d := &net.Dialer{}
	raw, err := d.DialContext(ctx, "tcp", s.addr)
	if err != nil {
		return err
	}
	if s.Security == ImplicitTLS {
		cn.step = "TLS handshake"
		tc := tls.Client(raw, s.tls)
		if err := tc.HandshakeContext(ctx); err != nil {
			raw.Close()
			return err
		}
		raw = tc
	}
	cn.raw = raw
	return nil
}

// deadline starts a step: it bounds it by the command timeout and the
// context's deadline. The context is checked after the deadline is set, so
// that a cancellation racing with it is never lost.
func (cn *conn) deadline(step string) error {
	cn.step = step
	d := time.Now().Add(cn.s.CommandTimeout)
	if cd, ok := cn.ctx.Deadline(); ok && cd.Before(d) {
		d = cd
	}
	cn.raw.SetDeadline(d)
	return ctxErr(cn.ctx)
}

// ctxErr returns the context's cause once it is done, and
// context.DeadlineExceeded once its deadline has passed: a connection
// deadline taken from the context's can fire before the context's own
// timer, and the failure is then the context's, not the relay's.
func ctxErr(ctx context.Context) error {
	if err := context.Cause(ctx); err != nil {
		return err
	}
	if dl, ok := ctx.Deadline(); ok && !time.Now().Before(dl) {
		return context.DeadlineExceeded
	}
	return nil
}

func (cn *conn) auth() error {
	s := cn.s
	if _, isTLS := cn.c.TLSConnectionState(); !isTLS && !(s.AllowInsecureAuth && s.loopback) {
		return ErrInsecureAuth
	}
	ok, mechs := cn.c.Extension("AUTH")
	if !ok {
		return ErrNoAuthMechanism
	}
	var a smtp.Auth
	for _, m := range strings.Fields(strings.ToUpper(mechs)) {
		if m == "PLAIN" {
			a = &plainAuth{username: s.Username, password: s.Password}
			break
		}
		if m == "LOGIN" && a == nil {
			a = &loginAuth{username: s.Username, password: s.Password}
		}
	}
	if a == nil {
		return fmt.Errorf("%w (offered: %s)", ErrNoAuthMechanism, mechs)
	}
	return cn.do("AUTH", func() error { return cn.c.Auth(a) })
}

// wrap turns err into what Notify returns: the context's error when the
// context ended, a *ReplyError for a reply, the rest with the step it
// failed at; and scrubs the password from any text the server echoed.
func (cn *conn) wrap(err error) error {
	if cerr := ctxErr(cn.ctx); cerr != nil {
		return fmt.Errorf("smtpnotify: %s: %w", cn.step, cerr)
	}
	var refused *RefusedError
	if errors.As(err, &refused) {
		return err
	}
	var te *textproto.Error
	if errors.As(err, &te) {
		return &ReplyError{Command: cn.step, Code: te.Code, Message: cn.s.scrub(te.Msg)}
	}
	if errors.Is(err, ErrInsecureAuth) || errors.Is(err, ErrNoStartTLS) || errors.Is(err, ErrNoAuthMechanism) {
		return err
	}
	if cn.s.Password != "" && strings.Contains(err.Error(), string(cn.s.Password)) {
		return fmt.Errorf("smtpnotify: %s: %s", cn.step, cn.s.scrub(err.Error()))
	}
	return fmt.Errorf("smtpnotify: %s: %w", cn.step, err)
}

// scrub removes the password, as is and in the base64 forms AUTH sends it
// in, from a text that came from the server.
func (s *settings) scrub(text string) string {
	if s.Password == "" {
		return text
	}
	pw := string(s.Password)
	for _, secret := range []string{
		base64.StdEncoding.EncodeToString([]byte("\x00" + s.Username + "\x00" + pw)),
		base64.StdEncoding.EncodeToString([]byte(pw)),
		pw,
	} {
		text = strings.ReplaceAll(text, secret, redacted)
	}
	return text
}
