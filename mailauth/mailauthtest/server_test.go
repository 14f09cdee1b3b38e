package mailauthtest_test

import (
	"testing"

	"github.com/miekg/dns"

	"github.com/alertmail/alertmail/mailauth/mailauthtest"
)

// TestServerProtocol checks what the server sends on the wire: authoritative
// answers with recursion available, UDP answers truncated to the client's
// buffer, the full answer over TCP, no reply for a timeout.
func TestServerProtocol(t *testing.T) {
	t.Parallel()
	var big []string
	for range 12 {
		big = append(big, string(make([]byte, 200)))
	}
	srv := mailauthtest.NewServer(t, mailauthtest.Zones{
		"big.example":  {mailauthtest.TXT(big...), mailauthtest.TXT(big...)},
		"slow.example": {mailauthtest.Timeout()},
	})
	m := new(dns.Msg)
	m.SetQuestion("big.example.", dns.TypeTXT)

	udp := &dns.Client{Net: "udp"}
	resp, _, err := udp.Exchange(m, srv.Addr())
	if err != nil {
		t.Fatal(err)
	}
	if !resp.Authoritative || !resp.RecursionAvailable || !resp.Truncated || len(resp.Answer) != 0 {
		t.Errorf("UDP answer: aa=%v ra=%v tc=%v answers=%d; want aa ra tc and no answers in 512 octets",
			resp.Authoritative, resp.RecursionAvailable, resp.Truncated, len(resp.Answer))
	}

	m.SetEdns0(4096, false)
	resp, _, err = udp.Exchange(m, srv.Addr())
	if err != nil {
		t.Fatal(err)
	}
	if !resp.Truncated || len(resp.Answer) != 1 {
		t.Errorf("UDP answer with EDNS0 4096: tc=%v answers=%d; want tc and 1 answer", resp.Truncated, len(resp.Answer))
	}

	tcp := &dns.Client{Net: "tcp"}
	resp, _, err = tcp.Exchange(m, srv.Addr())
	if err != nil {
		t.Fatal(err)
	}
	if resp.Truncated || len(resp.Answer) != 2 {
		t.Errorf("TCP answer: tc=%v answers=%d; want 2 answers", resp.Truncated, len(resp.Answer))
	}

	m.SetQuestion("slow.example.", dns.TypeA)
	udp.Timeout = 100_000_000 // 100 ms
	if _, _, err := udp.Exchange(m, srv.Addr()); err == nil {
		t.Errorf("query of a timeout entry got a reply; want none")
	}
	if got := srv.Queries(); got != 4 {
		t.Errorf("Queries() = %d; want 4", got)
	}
}
