package smtpnotify_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"log"
	"math/big"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// serverOptions shape a test SMTP server.
type serverOptions struct {
	// implicitTLS makes the listener speak TLS from the first byte;
	// startTLS offers STARTTLS on a plain listener.
	implicitTLS, startTLS bool
	// users enables AUTH with these user names and passwords; mechs are
	// the mechanisms offered (default PLAIN and LOGIN).
	users map[string]string
	mechs []string
	// allowInsecureAuth lets AUTH run without TLS.
	allowInsecureAuth bool
	// maxRecipients is the server's limit of recipients per transaction,
	// announced as LIMITS RCPTMAX (0 for none); smtputf8 offers SMTPUTF8.
	maxRecipients int
	smtputf8      bool
	// mail, rcpt and data, when set, decide the reply to MAIL, to RCPT
	// and to the data of the n-th transaction (from 1); data has read the
	// message already. rcpt is also told how many recipients the
	// transaction has so far.
	mail func(n int, from string) error
	rcpt func(n int, to string, accepted int) error
	data func(n int, msg []byte) error
}

// received is one message the server accepted.
type received struct {
	From     string
	To       []string
	Data     []byte
	TLS      bool
	AuthUser string
	UTF8     bool // MAIL asked for SMTPUTF8
}

// testServer is a github.com/emersion/go-smtp server on 127.0.0.1 with a
// self-signed certificate for 127.0.0.1.
type testServer struct {
	Host  string
	Port  int
	Roots *x509.CertPool // trusts the server's certificate

	opts     serverOptions
	conns    atomic.Int32 // connections accepted
	txns     atomic.Int32 // MAIL commands
	authSeen atomic.Int32 // AUTH attempts
	mu       sync.Mutex
	msgs     []received
}

func startServer(t *testing.T, opts serverOptions) *testServer {
	t.Helper()
	cert, roots := selfSigned(t)
	ts := &testServer{Roots: roots, opts: opts}
	if ts.opts.mechs == nil {
		ts.opts.mechs = []string{sasl.Plain, sasl.Login}
	}
	s := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &session{ts: ts, conn: c}, nil
	}))
	s.Domain = "mx.test"
	s.AllowInsecureAuth = opts.allowInsecureAuth
	s.MaxRecipients = opts.maxRecipients
	s.EnableSMTPUTF8 = opts.smtputf8
	s.ErrorLog = log.New(io.Discard, "", 0)
	s.ReadTimeout = 10 * time.Second
	s.WriteTimeout = 10 * time.Second
	if opts.startTLS || opts.implicitTLS {
		s.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	if opts.implicitTLS {
		l = tls.NewListener(l, s.TLSConfig)
	}
	l = &countingListener{Listener: l, n: &ts.conns}
	go s.Serve(l)
	t.Cleanup(func() { s.Close() })
	addr := l.Addr().(*net.TCPAddr)
	ts.Host, ts.Port = addr.IP.String(), addr.Port
	return ts
}

// messages returns the messages accepted so far.
func (ts *testServer) messages() []received {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return append([]received(nil), ts.msgs...)
}

type countingListener struct {
	net.Listener
	n *atomic.Int32
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.n.Add(1)
	}
	return c, err
}

type session struct {
	ts   *testServer
	conn *smtp.Conn
	n    int
	cur  received
	user string
}

func (s *session) AuthMechanisms() []string {
	if s.ts.opts.users == nil {
		return nil
	}
	return s.ts.opts.mechs
}

func (s *session) Auth(mech string) (sasl.Server, error) {
	s.ts.authSeen.Add(1)
	check := func(user, pass string) error {
		if want, ok := s.ts.opts.users[user]; !ok || want != pass {
			// Echo the password back, as some broken servers do, so the
			// client must scrub it.
			return &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 8}, Message: "bad credentials for " + user + ":" + pass}
		}
		s.user = user
		return nil
	}
	switch mech {
	case sasl.Plain:
		return sasl.NewPlainServer(func(_, user, pass string) error { return check(user, pass) }), nil
	case sasl.Login:
		return &loginServer{check: check}, nil
	}
	return nil, smtp.ErrAuthUnknownMechanism
}

func (s *session) Mail(from string, opts *smtp.MailOptions) error {
	if s.ts.opts.users != nil && s.user == "" {
		return smtp.ErrAuthRequired
	}
	s.n = int(s.ts.txns.Add(1))
	if s.ts.opts.mail != nil {
		if err := s.ts.opts.mail(s.n, from); err != nil {
			return err
		}
	}
	_, isTLS := s.conn.TLSConnectionState()
	s.cur = received{From: from, TLS: isTLS, AuthUser: s.user, UTF8: opts != nil && opts.UTF8}
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if s.ts.opts.rcpt != nil {
		if err := s.ts.opts.rcpt(s.n, to, len(s.cur.To)); err != nil {
			return err
		}
	}
	s.cur.To = append(s.cur.To, to)
	return nil
}

func (s *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if s.ts.opts.data != nil {
		if err := s.ts.opts.data(s.n, b); err != nil {
			return err
		}
	}
	s.cur.Data = b
	s.ts.mu.Lock()
	s.ts.msgs = append(s.ts.msgs, s.cur)
	s.ts.mu.Unlock()
	return nil
}

func (s *session) Reset()        { s.cur = received{} }
func (s *session) Logout() error { return nil }

// loginServer is the server side of AUTH LOGIN, which go-sasl lacks. Like
// Dovecot or Postfix with Cyrus SASL, it takes the user name as the
// initial response when the client gives it one (go-sasl's client does),
// and asks for it otherwise.
type loginServer struct {
	step  int
	user  string
	check func(user, pass string) error
}

func (l *loginServer) Next(resp []byte) ([]byte, bool, error) {
	l.step++
	if l.step == 1 && resp != nil {
		l.step++ // the initial response is the user name
	}
	switch l.step {
	case 1:
		return []byte("Username:"), false, nil
	case 2:
		l.user = string(resp)
		return []byte("Password:"), false, nil
	case 3:
		return nil, true, l.check(l.user, string(resp))
	}
	return nil, false, errors.New("unexpected response")
}

// selfSigned makes a certificate for 127.0.0.1 and a pool that trusts it.
func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "alertmail test relay"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, roots
}

// hangingServer accepts connections and never says anything; it counts
// them.
func hangingServer(t *testing.T) (host string, port int, conns *atomic.Int32) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	conns = new(atomic.Int32)
	var held []net.Conn
	var mu sync.Mutex
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			conns.Add(1)
			mu.Lock()
			held = append(held, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range held {
			c.Close()
		}
	})
	a := l.Addr().(*net.TCPAddr)
	return a.IP.String(), a.Port, conns
}
