package dnsclient_test

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"os"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/alertmail/alertmail/mailauth/dnsclient"
	"github.com/alertmail/alertmail/mailauth/mailauthtest"
)

func zones() mailauthtest.Zones {
	return mailauthtest.Zones{
		"example.com": {
			mailauthtest.TXT("v=spf1 ", "ip4:192.0.2.1 -all"),
			mailauthtest.TXT("other"),
			mailauthtest.A("192.0.2.1"),
			mailauthtest.AAAA("2001:db8::1"),
			mailauthtest.MX(20, "mx2.example.com"),
			mailauthtest.MX(10, "mx1.example.com."),
		},
		"Mixed.Example.COM":        {mailauthtest.A("192.0.2.7")},
		"1.2.0.192.in-addr.arpa":   {mailauthtest.PTR("example.com"), mailauthtest.PTR("www.example.com.")},
		"www.example.com":          {mailauthtest.CNAME("alias.example.com")},
		"alias.example.com":        {mailauthtest.CNAME("example.com")},
		"dangling.example.com":     {mailauthtest.CNAME("nowhere.example.com")},
		"loop1.example.com":        {mailauthtest.CNAME("loop2.example.com")},
		"loop2.example.com":        {mailauthtest.CNAME("LOOP1.example.com")},
		"slow.example.com":         {mailauthtest.A("192.0.2.9"), mailauthtest.Timeout()},
		"slowtxt.example.com":      {mailauthtest.TimeoutOf(mailauthtest.TypeTXT), mailauthtest.A("192.0.2.10")},
		"50% off: a b.example.com": {mailauthtest.TXT("odd")},
		`back\slash.example.com`:   {mailauthtest.TXT(`v=spf1 \ "quoted"`)},
		"bin.example.com":          {mailauthtest.TXT("caf\xc3\xa9 \x00\x7f")},
		"spf.example.com":          {mailauthtest.SPF("v=spf1 -all")},
		"spfnotxt.example.com":     {mailauthtest.SPF("v=spf1 -all"), mailauthtest.NoneOf(mailauthtest.TypeTXT)},
		"big.example.com":          {mailauthtest.TXT(chunks(strings.Repeat("x", 3000))...)},
		"ptr6.example.com":         {mailauthtest.AAAA("2001:db8::53")},
		"3.5.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa": {mailauthtest.PTR("ptr6.example.com")},
	}
}

// chunks splits s into TXT strings of at most 255 octets.
func chunks(s string) []string {
	var out []string
	for len(s) > 255 {
		out = append(out, s[:255])
		s = s[255:]
	}
	return append(out, s)
}

func newResolver(t *testing.T) (*dnsclient.Resolver, *mailauthtest.Server) {
	t.Helper()
	srv := mailauthtest.NewServer(t, zones())
	return srv.Resolver(t), srv
}

func TestLookupTXT(t *testing.T) {
	t.Parallel()
	r, _ := newResolver(t)
	tests := []struct {
		name string
		want []string
	}{
		{"example.com", []string{"v=spf1 ip4:192.0.2.1 -all", "other"}},
		{"EXAMPLE.com.", []string{"v=spf1 ip4:192.0.2.1 -all", "other"}},
		{"www.example.com", []string{"v=spf1 ip4:192.0.2.1 -all", "other"}}, // two CNAMEs
		{"50% off: a b.example.com", []string{"odd"}},
		{`back\slash.example.com`, []string{`v=spf1 \ "quoted"`}},
		{"bin.example.com", []string{"caf\xc3\xa9 \x00\x7f"}},
		{"spf.example.com", []string{"v=spf1 -all"}},
		{"big.example.com", []string{strings.Repeat("x", 3000)}}, // truncated over UDP, retried over TCP
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := r.LookupTXT(context.Background(), tt.name)
			if err != nil || !slices.Equal(got, tt.want) {
				t.Errorf("LookupTXT(%q) = %q, %v; want %q", tt.name, got, err, tt.want)
			}
		})
	}
}

func TestNotFound(t *testing.T) {
	t.Parallel()
	r, _ := newResolver(t)
	ctx := context.Background()
	tests := []struct {
		name   string
		lookup func() error
		nx     bool
	}{
		{"absent name", func() error { _, err := r.LookupTXT(ctx, "absent.example.com"); return err }, true},
		{"no TXT", func() error { _, err := r.LookupTXT(ctx, "mixed.example.com"); return err }, false},
		{"TXT NONE stops SPF copy", func() error { _, err := r.LookupTXT(ctx, "spfnotxt.example.com"); return err }, false},
		{"no AAAA", func() error { _, err := r.LookupNetIP(ctx, "ip6", "mixed.example.com"); return err }, false},
		{"no MX", func() error { _, err := r.LookupMX(ctx, "mixed.example.com"); return err }, false},
		{"no PTR", func() error { _, err := r.LookupAddr(ctx, "192.0.2.99"); return err }, true},
		{"CNAME to absent", func() error { _, err := r.LookupNetIP(ctx, "ip4", "dangling.example.com"); return err }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.lookup()
			var de *net.DNSError
			if !errors.As(err, &de) || !de.IsNotFound || de.IsTimeout {
				t.Fatalf("lookup error = %#v; want *net.DNSError with IsNotFound", err)
			}
			if got := dnsclient.IsNXDomain(err); got != tt.nx {
				t.Errorf("IsNXDomain(%v) = %v; want %v", err, got, tt.nx)
			}
			if got := dnsclient.IsNoData(err); got == tt.nx {
				t.Errorf("IsNoData(%v) = %v; want %v", err, got, !tt.nx)
			}
		})
	}
}

func TestLookupNetIP(t *testing.T) {
	t.Parallel()
	r, _ := newResolver(t)
	tests := []struct {
		network, host string
		want          []string
	}{
		{"ip4", "example.com", []string{"192.0.2.1"}},
		{"ip6", "example.com", []string{"2001:db8::1"}},
		{"ip", "example.com", []string{"192.0.2.1", "2001:db8::1"}},
		{"ip", "mixed.example.com", []string{"192.0.2.7"}},
		{"ip4", "www.example.com", []string{"192.0.2.1"}},
		{"ip4", "slow.example.com", []string{"192.0.2.9"}}, // the A record comes before TIMEOUT
		{"ip4", "192.0.2.44", []string{"192.0.2.44"}},
	}
	for _, tt := range tests {
		got, err := r.LookupNetIP(context.Background(), tt.network, tt.host)
		var gs []string
		for _, a := range got {
			gs = append(gs, a.String())
		}
		if err != nil || !slices.Equal(gs, tt.want) {
			t.Errorf("LookupNetIP(%q, %q) = %v, %v; want %v", tt.network, tt.host, gs, err, tt.want)
		}
	}
}

func TestLookupMXAndAddr(t *testing.T) {
	t.Parallel()
	r, _ := newResolver(t)
	ctx := context.Background()
	mxs, err := r.LookupMX(ctx, "example.com")
	if err != nil || len(mxs) != 2 || mxs[0].Host != "mx1.example.com." || mxs[0].Pref != 10 || mxs[1].Host != "mx2.example.com." {
		t.Errorf("LookupMX(%q) = %v, %v; want mx1 (10) then mx2 (20)", "example.com", mxs, err)
	}
	for _, tt := range []struct {
		addr string
		want []string
	}{
		{"192.0.2.1", []string{"example.com.", "www.example.com."}},
		{"::ffff:192.0.2.1", []string{"example.com.", "www.example.com."}},
		{"2001:db8::53", []string{"ptr6.example.com."}},
	} {
		got, err := r.LookupAddr(ctx, tt.addr)
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("LookupAddr(%q) = %q, %v; want %q", tt.addr, got, err, tt.want)
		}
	}
	if _, err := r.LookupAddr(ctx, "not-an-ip"); err == nil {
		t.Errorf("LookupAddr(%q) = nil error; want one", "not-an-ip")
	}
}

func TestFailures(t *testing.T) {
	t.Parallel()
	r, _ := newResolver(t)
	ctx := context.Background()

	_, err := r.LookupTXT(ctx, "slowtxt.example.com")
	var de *net.DNSError
	if !errors.As(err, &de) || !de.IsTimeout || de.IsNotFound {
		t.Errorf("LookupTXT(timeout) error = %#v; want IsTimeout", err)
	}
	if _, err := r.LookupNetIP(ctx, "ip4", "slowtxt.example.com"); err != nil {
		t.Errorf("LookupNetIP(ip4, slowtxt) = %v; want the A record", err)
	}

	_, err = r.LookupTXT(ctx, "loop1.example.com")
	if !errors.Is(err, dnsclient.ErrServerFailure) || !errors.As(err, &de) || de.IsNotFound || de.IsTimeout {
		t.Errorf("LookupTXT(CNAME loop) error = %#v; want ErrServerFailure", err)
	}

	for _, name := range []string{"a..example.com", strings.Repeat("a", 64) + ".example.com", strings.Repeat("abcdefghi.", 26) + "com", ""} {
		_, err := r.LookupTXT(ctx, name)
		if !errors.Is(err, dnsclient.ErrInvalidName) {
			t.Errorf("LookupTXT(%q) error = %v; want ErrInvalidName", name, err)
		}
	}
}

func TestContextCancel(t *testing.T) {
	t.Parallel()
	srv := mailauthtest.NewServer(t, zones())
	cfg := srv.Config()
	cfg.Timeout = time.Minute
	r, err := dnsclient.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	start := time.Now()
	_, err = r.LookupTXT(ctx, "slow.example.com")
	if !errors.Is(err, context.Canceled) {
		t.Errorf("LookupTXT(cancelled) error = %v; want context.Canceled", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("LookupTXT(cancelled) returned after %v; want soon after cancel", d)
	}

	ctx, cancel2 := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel2()
	_, err = r.LookupTXT(ctx, "slow.example.com")
	var de *net.DNSError
	if !errors.Is(err, context.DeadlineExceeded) || !errors.As(err, &de) || !de.IsTimeout {
		t.Errorf("LookupTXT(deadline) error = %#v; want IsTimeout wrapping DeadlineExceeded", err)
	}
}

func TestServerFallback(t *testing.T) {
	t.Parallel()
	srv := mailauthtest.NewServer(t, zones())
	// A UDP port with nobody listening: the query is refused at once.
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := pc.LocalAddr().String()
	pc.Close()
	cfg := srv.Config()
	cfg.Servers = []string{dead, srv.Addr()}
	r, err := dnsclient.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	got, err := r.LookupNetIP(context.Background(), "ip4", "example.com")
	if err != nil || len(got) != 1 || got[0] != netip.MustParseAddr("192.0.2.1") {
		t.Errorf("LookupNetIP with a dead first server = %v, %v; want [192.0.2.1]", got, err)
	}
}

func TestTruncationNeedsTCP(t *testing.T) {
	t.Parallel()
	srv := mailauthtest.NewServer(t, zones())
	cfg := srv.Config()
	cfg.UDPSize = 512 // no EDNS0
	r, err := dnsclient.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	before := srv.Queries()
	got, err := r.LookupTXT(context.Background(), "big.example.com")
	if err != nil || len(got) != 1 || len(got[0]) != 3000 {
		t.Fatalf("LookupTXT(big) = %d records, %v; want one of 3000 octets", len(got), err)
	}
	if n := srv.Queries() - before; n != 2 {
		t.Errorf("queries for a truncated answer = %d; want 2 (UDP, then TCP)", n)
	}
}

func TestNewValidates(t *testing.T) {
	t.Parallel()
	tests := []struct {
		cfg   dnsclient.Config
		field string
	}{
		{dnsclient.Config{Timeout: -1}, "Config.Timeout"},
		{dnsclient.Config{Attempts: -1}, "Config.Attempts"},
		{dnsclient.Config{UDPSize: 70000}, "Config.UDPSize"},
		{dnsclient.Config{Servers: []string{"1.2.3.4", "no port:"}}, "Config.Servers[1]"},
		{dnsclient.Config{CacheEntries: -5}, "Config.CacheEntries"},
		{dnsclient.Config{MaxTTL: -time.Second}, "Config.MaxTTL"},
	}
	for _, tt := range tests {
		_, err := dnsclient.New(tt.cfg)
		if err == nil || !strings.Contains(err.Error(), tt.field) {
			t.Errorf("New(%+v) error = %v; want one naming %s", tt.cfg, err, tt.field)
		}
	}
	r, err := dnsclient.New(dnsclient.Config{Servers: []string{"192.0.2.53", "[2001:db8::53]:5353", "ns.example.com:53"}})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"192.0.2.53:53", "[2001:db8::53]:5353", "ns.example.com:53"}
	if got := r.Servers(); !slices.Equal(got, want) {
		t.Errorf("Servers() = %q; want %q", got, want)
	}
	if _, err := os.Stat("/etc/resolv.conf"); err == nil {
		if _, err := dnsclient.New(dnsclient.Config{}); err != nil {
			t.Errorf("New(zero Config) = %v; want a working default", err)
		}
	}
}

// TestIgnoresForgedUDPAnswers checks that a UDP answer is taken only when
// its ID and question match the query (RFC 5452): a server (or forger) that
// first sends a wrong ID, a wrong question and a non-response is waited out
// until the true answer comes.
func TestIgnoresForgedUDPAnswers(t *testing.T) {
	t.Parallel()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	go func() {
		buf := make([]byte, 4096)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			q := new(dns.Msg)
			if q.Unpack(buf[:n]) != nil {
				continue
			}
			answer := func(edit func(m *dns.Msg)) {
				m := new(dns.Msg)
				m.SetReply(q)
				m.Answer = []dns.RR{&dns.TXT{Hdr: dns.RR_Header{Name: q.Question[0].Name, Rrtype: dns.TypeTXT, Class: dns.ClassINET, Ttl: 60}, Txt: []string{"true"}}}
				edit(m)
				b, _ := m.Pack()
				pc.WriteTo(b, from)
			}
			answer(func(m *dns.Msg) { m.Id++; m.Answer[0].(*dns.TXT).Txt[0] = "wrong id" })
			answer(func(m *dns.Msg) {
				m.Question[0].Name = "other.example."
				m.Answer[0].Header().Name = "other.example."
				m.Answer[0].(*dns.TXT).Txt[0] = "wrong question"
			})
			answer(func(m *dns.Msg) { m.Response = false; m.Answer[0].(*dns.TXT).Txt[0] = "not a response" })
			answer(func(*dns.Msg) {})
		}
	}()
	r, err := dnsclient.New(dnsclient.Config{Servers: []string{pc.LocalAddr().String()}, Timeout: 5 * time.Second, Attempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	got, err := r.LookupTXT(context.Background(), "forged.example")
	if err != nil || !slices.Equal(got, []string{"true"}) {
		t.Errorf("LookupTXT(forged.example) = %q, %v; want [\"true\"]", got, err)
	}
}

// TestNoGoroutineLeak runs lookups that succeed, fail, time out, are
// cancelled and retry over TCP, then checks that the goroutine count comes
// back to what it was (the server's own goroutines included in both).
func TestNoGoroutineLeak(t *testing.T) {
	// Not parallel: the count must not see other tests' goroutines come
	// and go.
	srv := mailauthtest.NewServer(t, zones())
	cfg := srv.Config()
	cfg.Timeout = 100 * time.Millisecond
	cfg.CacheEntries = 16
	r, err := dnsclient.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	r.LookupTXT(ctx, "example.com") // warm up the runtime's network poller
	before := runtime.NumGoroutine()
	for range 3 {
		r.LookupTXT(ctx, "example.com")
		r.LookupTXT(ctx, "big.example.com")
		r.LookupTXT(ctx, "absent.example.com")
		r.LookupTXT(ctx, "slowtxt.example.com")
		r.LookupTXT(ctx, "loop1.example.com")
		cctx, cancel := context.WithCancel(ctx)
		time.AfterFunc(10*time.Millisecond, cancel)
		r.LookupNetIP(cctx, "ip", "slow.example.com")
		dctx, cancel2 := context.WithTimeout(ctx, 20*time.Millisecond)
		r.LookupMX(dctx, "slow.example.com")
		cancel2()
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		n := runtime.NumGoroutine()
		if n <= before {
			return
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("goroutines: %d before the lookups, %d after; leaked:\n%s", before, n, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(20 * time.Millisecond)
	}
}
