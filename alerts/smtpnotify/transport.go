package smtpnotify

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// session is one connection to the relay, for one attempt: go-smtp's
// client over a connection dialled with the caller's context. The step
// under way names the command an error is about.
type session struct {
	s     *settings
	ctx   context.Context
	dc    *deadlineConn
	c     *smtp.Client
	stop  func() bool // stops the context's watch on dc
	step  string
	batch int  // the most recipients of one transaction
	utf8  bool // the relay offers SMTPUTF8
}

// open connects to the relay for one attempt: it dials, reads the
// greeting and sends EHLO, then STARTTLS and AUTH as configured. On error
// the connection is closed.
func (s *settings) open(ctx context.Context) (_ *session, err error) {
	ss := &session{s: s, ctx: ctx, step: "dial"}
	defer func() {
		if err != nil {
			err = ss.wrap(err)
			ss.close()
		}
	}()
	conn, err := ss.dial()
	if err != nil {
		return nil, err
	}
	if err := ss.start(conn); err != nil {
		return nil, err
	}
	return ss, nil
}

// dial connects, with the TLS handshake of ImplicitTLS, within
// DialTimeout and the attempt's limit.
func (ss *session) dial() (net.Conn, error) {
	s := ss.s
	now := time.Now()
	limit := now.Add(s.AttemptTimeout)
	if d, ok := ss.ctx.Deadline(); ok && d.Before(limit) {
		limit = d
	}
	dialBy := now.Add(s.DialTimeout)
	if limit.Before(dialBy) {
		dialBy = limit
	}
	ctx, cancel := context.WithDeadline(ss.ctx, dialBy)
	defer cancel()
	raw, err := new(net.Dialer).DialContext(ctx, "tcp", s.addr)
	if err != nil {
		return nil, err
	}
	// Until go-smtp's timeouts are set (NewClientStartTLS talks at once),
	// no wait is longer than a command's.
	ss.dc = &deadlineConn{Conn: raw, limit: limit, idle: s.CommandTimeout, maxWait: s.CommandTimeout}
	ss.stop = context.AfterFunc(ss.ctx, ss.dc.cancel)
	if s.Security != ImplicitTLS {
		return ss.dc, nil
	}
	ss.step = "TLS handshake"
	tc := tls.Client(ss.dc, s.tls)
	if err := tc.HandshakeContext(ctx); err != nil {
		return nil, err
	}
	ss.dc.setWrote(false)
	return tc, nil
}

// start reads the greeting and sends EHLO, STARTTLS and EHLO again with
// StartTLS, and AUTH when configured; it notes what the relay offers.
func (ss *session) start(conn net.Conn) error {
	s := ss.s
	ss.step = "greeting"
	if s.Security == StartTLS {
		c, err := smtp.NewClientStartTLS(conn, s.tls)
		if err != nil {
			if ss.dc.hasWritten() {
				ss.step = "STARTTLS"
			}
			// go-smtp says so in a plain error; a refused STARTTLS
			// command is a reply.
			if _, isReply := reply(err); !isReply && strings.Contains(err.Error(), "STARTTLS") {
				return ErrNoStartTLS
			}
			return err
		}
		ss.c = c
	} else {
		ss.c = smtp.NewClient(conn)
	}
	ss.c.CommandTimeout, ss.c.SubmissionTimeout = s.CommandTimeout, s.SubmissionTimeout
	ss.dc.setMaxWait(0)
	if err := ss.c.Hello(s.HelloName); err != nil {
		if ss.dc.hasWritten() {
			ss.step = "EHLO"
		}
		return err
	}
	ss.step = "EHLO"
	ss.utf8, _ = ss.c.Extension("SMTPUTF8")
	ss.batch = s.MaxRecipients
	if ok, params := ss.c.Extension("LIMITS"); ok {
		if n := rcptMax(params); n > 0 && n < ss.batch {
			ss.batch = n
		}
	}
	if s.Username == "" {
		return nil
	}
	return ss.auth()
}

// rcptMax reads RCPTMAX from the parameters of the LIMITS extension
// (RFC 9422), such as "RCPTMAX=100 MAILMAX=10"; 0 when absent.
func rcptMax(params string) int {
	for _, p := range strings.Fields(params) {
		name, value, _ := strings.Cut(p, "=")
		if strings.EqualFold(name, "RCPTMAX") {
			n, err := strconv.Atoi(value)
			if err == nil && n > 0 {
				return n
			}
		}
	}
	return 0
}

// auth authenticates with PLAIN, or LOGIN when the relay lacks PLAIN,
// only over TLS unless AllowInsecureAuth applies.
func (ss *session) auth() error {
	s := ss.s
	if _, isTLS := ss.c.TLSConnectionState(); !isTLS && !(s.AllowInsecureAuth && s.loopback) {
		return ErrInsecureAuth
	}
	ok, mechs := ss.c.Extension("AUTH")
	if !ok {
		return ErrNoAuthMechanism
	}
	var a sasl.Client
	switch {
	case ss.c.SupportsAuth(sasl.Plain):
		a = sasl.NewPlainClient("", s.Username, string(s.Password))
	case ss.c.SupportsAuth(sasl.Login):
		a = sasl.NewLoginClient(s.Username, string(s.Password))
	default:
		return fmt.Errorf("%w (offered: %s)", ErrNoAuthMechanism, mechs)
	}
	ss.step = "AUTH"
	return ss.c.Auth(a)
}

// quit ends the session politely; the message is already accepted, so
// its reply does not matter.
func (ss *session) quit() {
	ss.step = "QUIT"
	ss.c.Quit()
}

// close closes the connection and stops watching the context.
func (ss *session) close() {
	if ss.stop != nil {
		ss.stop()
	}
	if ss.c != nil {
		ss.c.Close()
	} else if ss.dc != nil {
		ss.dc.Close()
	}
}

// wrap turns err into what Notify returns: the context's error when the
// context ended, the rest with the step it failed at, the password
// scrubbed from any text the relay echoed.
func (ss *session) wrap(err error) error {
	if err == nil {
		return nil
	}
	if cerr := ctxErr(ss.ctx); cerr != nil {
		return fmt.Errorf("smtpnotify: %s: %w", ss.step, cerr)
	}
	var se *stepError
	if errors.As(err, &se) || errors.Is(err, ErrInsecureAuth) || errors.Is(err, ErrNoStartTLS) || errors.Is(err, ErrNoAuthMechanism) {
		return err
	}
	return ss.stepError(err)
}

// stepError is err at the current step, the password scrubbed.
func (ss *session) stepError(err error) error {
	s := ss.s
	if se, ok := reply(err); ok {
		scrubbed := *se
		scrubbed.Message = s.scrub(se.Message)
		return &stepError{step: ss.step, err: &scrubbed}
	}
	if s.Password != "" && strings.Contains(err.Error(), string(s.Password)) {
		return &stepError{step: ss.step, err: errors.New(s.scrub(err.Error()))}
	}
	return &stepError{step: ss.step, err: err}
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

// deadlineConn is the connection under go-smtp's client, which sets a
// deadline before each command and clears it after. deadlineConn keeps
// every deadline within the attempt's limit (AttemptTimeout and the
// context's deadline); turns a cleared one into CommandTimeout from now,
// so that writing the message data is bounded too; and, once the context
// is done, makes every deadline one in the past, so that a cancellation is
// never lost to a deadline set after it.
type deadlineConn struct {
	net.Conn
	limit time.Time     // the attempt's end
	idle  time.Duration // what a cleared deadline becomes

	mu        sync.Mutex
	maxWait   time.Duration // caps every deadline from now; 0 for none
	cancelled bool
	wrote     bool // something was written: the greeting was read
}

// aLongTimeAgo is a deadline that has passed.
var aLongTimeAgo = time.Unix(1, 0)

func (c *deadlineConn) SetDeadline(t time.Time) error { return c.set(t, c.Conn.SetDeadline) }

func (c *deadlineConn) SetReadDeadline(t time.Time) error { return c.set(t, c.Conn.SetReadDeadline) }

func (c *deadlineConn) SetWriteDeadline(t time.Time) error { return c.set(t, c.Conn.SetWriteDeadline) }

func (c *deadlineConn) set(t time.Time, set func(time.Time) error) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cancelled {
		return set(aLongTimeAgo)
	}
	now := time.Now()
	if t.IsZero() {
		t = now.Add(c.idle)
	}
	if c.maxWait > 0 && t.After(now.Add(c.maxWait)) {
		t = now.Add(c.maxWait)
	}
	if t.After(c.limit) {
		t = c.limit
	}
	return set(t)
}

func (c *deadlineConn) Write(b []byte) (int, error) {
	c.setWrote(true)
	return c.Conn.Write(b)
}

// cancel interrupts whatever I/O is under way, and all to come.
func (c *deadlineConn) cancel() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.cancelled = true
	c.Conn.SetDeadline(aLongTimeAgo)
}

func (c *deadlineConn) setMaxWait(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.maxWait = d
}

func (c *deadlineConn) setWrote(w bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.wrote = w
}

func (c *deadlineConn) hasWritten() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.wrote
}
