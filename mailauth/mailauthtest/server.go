package mailauthtest

import (
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/alertmail/alertmail/mailauth/dnsclient"
	"github.com/alertmail/alertmail/mailauth/internal/dnsname"
)

// A Server is a DNS server on 127.0.0.1, UDP and TCP on the same free port,
// answering authoritatively (with recursion available, as a resolver the
// client trusts) from [Zones]. UDP answers larger than the client's buffer
// (512 octets, or its EDNS0 size) are truncated so that the client retries
// over TCP. Timeout entries get no reply at all.
//
// Create one with [NewServer]; the zero value is not usable. A Server is
// safe for concurrent use; [Server.Set] may change the zones while it
// serves.
type Server struct {
	addr    string
	udp     *dns.Server
	tcp     *dns.Server
	queries atomic.Int64

	mu sync.RWMutex
	ix index

	closeOnce sync.Once
}

// NewServer starts a Server for zones and stops it when the test ends. It
// fails the test if the server cannot start.
func NewServer(t testing.TB, zones Zones) *Server {
	t.Helper()
	s, err := StartServer(zones)
	if err != nil {
		t.Fatalf("mailauthtest: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

// StartServer starts a Server for zones outside a test (in an example, a
// TestMain or a program); the caller must Close it. Tests use [NewServer].
func StartServer(zones Zones) (*Server, error) {
	s := &Server{ix: newIndex(zones)}
	var err error
	for range 20 { // the free UDP port may be taken for TCP: try another
		if err = s.listen(); err == nil {
			return s, nil
		}
	}
	return nil, fmt.Errorf("mailauthtest: starting DNS server: %w", err)
}

func (s *Server) listen() error {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", pc.LocalAddr().String())
	if err != nil {
		pc.Close()
		return err
	}
	s.addr = pc.LocalAddr().String()
	h := dns.HandlerFunc(s.serve)
	s.udp = &dns.Server{PacketConn: pc, Handler: h}
	s.tcp = &dns.Server{Listener: ln, Handler: h}
	for _, srv := range []*dns.Server{s.udp, s.tcp} {
		started := make(chan struct{})
		srv.NotifyStartedFunc = func() { close(started) }
		go srv.ActivateAndServe()
		<-started
	}
	return nil
}

// Addr returns the address of the server, "127.0.0.1:port", the same for UDP
// and TCP.
func (s *Server) Addr() string { return s.addr }

// Queries returns the number of queries received so far, answered or not.
func (s *Server) Queries() int { return int(s.queries.Load()) }

// Set replaces the records of name; no records removes the name.
func (s *Server) Set(name string, records ...Record) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(records) == 0 {
		delete(s.ix, canon(name))
		return
	}
	s.ix[canon(name)] = append([]Record(nil), records...)
}

// Config returns a dnsclient configuration that asks only this server,
// with a 1-second timeout and two attempts: short enough that the zones'
// timeout entries cost little test time, long enough that a loaded machine
// running the race detector does not turn a slow answer into a timeout.
// Change its fields before passing it to dnsclient.New to test other
// settings.
func (s *Server) Config() dnsclient.Config {
	return dnsclient.Config{
		Servers:  []string{s.addr},
		Timeout:  time.Second,
		Attempts: 2,
	}
}

// Resolver returns a dnsclient.Resolver built from [Server.Config].
func (s *Server) Resolver(t testing.TB) *dnsclient.Resolver {
	t.Helper()
	r, err := dnsclient.New(s.Config())
	if err != nil {
		t.Fatalf("mailauthtest: %v", err)
	}
	return r
}

// Close stops the server and waits for it to stop. It is called by the
// cleanup of the test that made the server with [NewServer]; calling it
// again does nothing.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		s.udp.Shutdown()
		s.tcp.Shutdown()
	})
}

var rrTypes = map[uint16]Type{
	dns.TypeA:     TypeA,
	dns.TypeAAAA:  TypeAAAA,
	dns.TypeMX:    TypeMX,
	dns.TypeTXT:   TypeTXT,
	dns.TypeSPF:   TypeSPF,
	dns.TypePTR:   TypePTR,
	dns.TypeCNAME: TypeCNAME,
}

// serve answers one query from the zones, as an authoritative server
// that also follows CNAMEs would.
func (s *Server) serve(w dns.ResponseWriter, req *dns.Msg) {
	s.queries.Add(1)
	resp := new(dns.Msg)
	resp.SetReply(req)
	resp.Authoritative = true
	resp.RecursionAvailable = true
	if len(req.Question) != 1 {
		resp.Rcode = dns.RcodeFormatError
		w.WriteMsg(resp)
		return
	}
	q := req.Question[0]
	t, ok := rrTypes[q.Qtype]
	if !ok || q.Qclass != dns.ClassINET {
		// Known names have no data of other types; unknown ones do not exist.
		s.mu.RLock()
		_, known := s.ix[canon(dnsname.Raw(q.Name))]
		s.mu.RUnlock()
		if !known {
			resp.Rcode = dns.RcodeNameError
		}
		w.WriteMsg(resp)
		return
	}
	if !s.answer(resp, q, t) {
		return // to time out is to send no reply
	}
	if opt := req.IsEdns0(); opt != nil {
		resp.SetEdns0(opt.UDPSize(), false)
	}
	resp.Truncate(replySize(w, req))
	w.WriteMsg(resp) // an error means the client went away: nothing to tell it
}

// answer fills resp with the answer to q, of type t: the CNAME chain, then
// the records, or the error code. It reports false for a name that times
// out, which gets no reply.
func (s *Server) answer(resp *dns.Msg, q dns.Question, t Type) bool {
	s.mu.RLock()
	a := s.ix.resolve(dnsname.Raw(q.Name), t)
	s.mu.RUnlock()
	switch a.code {
	case rcodeTimeout:
		return false
	case rcodeServFail:
		resp.Rcode = dns.RcodeServerFailure
	case rcodeNXDomain:
		resp.Rcode = dns.RcodeNameError
	}
	owner := q.Name
	for _, st := range a.chain {
		resp.Answer = append(resp.Answer, &dns.CNAME{
			Hdr:    header(owner, dns.TypeCNAME, st.ttl),
			Target: dnsname.Text(st.target),
		})
		owner = dnsname.Text(st.target)
	}
	if a.code == rcodeSuccess {
		for _, r := range a.records {
			resp.Answer = append(resp.Answer, toRR(owner, q.Qtype, r))
		}
	}
	return true
}

// replySize is the largest reply the client of req takes: the UDP size
// its EDNS0 record offers (512 octets without one), 64 KiB over TCP.
func replySize(w dns.ResponseWriter, req *dns.Msg) int {
	if _, isUDP := w.RemoteAddr().(*net.UDPAddr); !isUDP {
		return dns.MaxMsgSize
	}
	if opt := req.IsEdns0(); opt != nil {
		return max(int(opt.UDPSize()), dns.MinMsgSize)
	}
	return dns.MinMsgSize
}

func header(owner string, t uint16, ttl uint32) dns.RR_Header {
	return dns.RR_Header{Name: owner, Rrtype: t, Class: dns.ClassINET, Ttl: ttl}
}

func toRR(owner string, qtype uint16, r Record) dns.RR {
	h := header(owner, qtype, ttlOf(r))
	switch r.Type {
	case TypeA:
		return &dns.A{Hdr: h, A: r.Addr.AsSlice()}
	case TypeAAAA:
		return &dns.AAAA{Hdr: h, AAAA: r.Addr.AsSlice()}
	case TypeMX:
		return &dns.MX{Hdr: h, Preference: r.Pref, Mx: dnsname.Text(r.Host)}
	case TypePTR:
		return &dns.PTR{Hdr: h, Ptr: dnsname.Text(r.Host)}
	case TypeCNAME:
		return &dns.CNAME{Hdr: h, Target: dnsname.Text(r.Host)}
	}
	txt := make([]string, len(r.Text))
	for i, s := range r.Text {
		txt[i] = strings.ReplaceAll(s, `\`, `\\`)
	}
	if qtype == dns.TypeSPF {
		return &dns.SPF{Hdr: h, Txt: txt}
	}
	return &dns.TXT{Hdr: h, Txt: txt}
}
