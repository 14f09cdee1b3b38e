package fleettest

import (
	"io"
	"log"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// A Sink is an SMTP server (go-smtp) on a loopback port that accepts every
// message and keeps only their number: the relay of the [SMTP] notifier.
// Its methods are safe for concurrent use.
type Sink struct {
	// Addr is the sink's "host:port".
	Addr string

	n atomic.Int64
}

// StartSink starts a Sink, closed when tb ends.
func StartSink(tb testing.TB) *Sink {
	tb.Helper()
	sk := &Sink{}
	s := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &sinkSession{sink: sk}, nil }))
	s.Domain = "sink.test"
	s.ErrorLog = log.New(io.Discard, "", 0)
	s.ReadTimeout, s.WriteTimeout = 10*time.Second, 10*time.Second
	s.MaxRecipients = 100
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("fleettest: %v", err)
	}
	go s.Serve(l)
	tb.Cleanup(func() { s.Close() })
	sk.Addr = l.Addr().String()
	return sk
}

// Messages returns the number of messages accepted so far.
func (s *Sink) Messages() int { return int(s.n.Load()) }

type sinkSession struct{ sink *Sink }

func (s *sinkSession) Reset()                               {}
func (s *sinkSession) Logout() error                        { return nil }
func (s *sinkSession) Mail(string, *smtp.MailOptions) error { return nil }
func (s *sinkSession) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (s *sinkSession) Data(r io.Reader) error {
	if _, err := io.Copy(io.Discard, r); err != nil {
		return err
	}
	s.sink.n.Add(1)
	return nil
}
