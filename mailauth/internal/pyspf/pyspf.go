package pyspf

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
)

// PythonPath is the interpreter that has Debian's python3-spf and
// python3-dnspython; the python3 first on PATH may be another without them.
const PythonPath = "/usr/bin/python3"

// Values pyspf uses in its answers.
const (
	// Receiver is the receiving host's name pyspf is given, the %{r} macro
	// of its explanations.
	Receiver = "receiver.example"
	// DefaultExplanation is pyspf's explanation of a fail whose record has
	// no usable exp= modifier.
	DefaultExplanation = "SPF fail - not authorized"
)

// driver answers one check per line of JSON on stdin with pyspf's check2,
// its DNS (dnspython) pointed at the loopback server whose port is argv[1].
// The timeouts match mailauthtest.Server's: cheap for the suite's TIMEOUT
// entries, patient enough for a loaded machine.
const driver = `
import json, sys
import dns.resolver
import spf

r = dns.resolver.Resolver(configure=False)
r.nameservers = ['127.0.0.1']
r.port = int(sys.argv[1])
r.timeout = 1
r.lifetime = 2.5
dns.resolver.default_resolver = r

for line in sys.stdin:
    c = json.loads(line)
    try:
        res, exp = spf.check2(i=c['ip'], s=c['mailfrom'], h=c['helo'],
                              receiver=sys.argv[2], timeout=2.5, querytime=0)
    except Exception as e:
        res, exp = 'exception', repr(e)
    print(json.dumps({'result': str(res).lower(), 'exp': exp}), flush=True)
`

// A Checker is a running pyspf whose DNS is a server on loopback. Create
// one with [Start]; the zero value is not usable. A Checker is safe for
// concurrent use; checks are answered one at a time.
type Checker struct {
	mu  sync.Mutex
	in  io.WriteCloser
	out *bufio.Scanner
}

// A Result is pyspf's answer to one check.
type Result struct {
	// Result as pyspf's check2 gives it, in lower case ("pass", "fail",
	// "permerror", ...), or "exception" when pyspf raised one.
	Result string `json:"result"`
	// Explanation is pyspf's explanation: the exp= text or
	// DefaultExplanation on a fail, the exception when Result is
	// "exception", what pyspf says otherwise.
	Explanation string `json:"exp"`
}

// Usable reports why pyspf cannot run, or nil when PythonPath imports spf
// and dns.resolver.
func Usable() error {
	out, err := exec.Command(PythonPath, "-c", "import spf, dns.resolver").CombinedOutput()
	if err != nil {
		return fmt.Errorf("pyspf: not usable (%s -c 'import spf, dns.resolver': %v %s); install python3-spf and python3-dnspython",
			PythonPath, err, strings.TrimSpace(string(out)))
	}
	return nil
}

// Start starts pyspf asking the DNS server at dnsAddr (127.0.0.1:port, as
// mailauthtest.Server.Addr gives it), and stops it when the test ends. When
// pyspf is not usable it skips the test, or fails it when the environment
// variable CI is "true"; a test that can do without pyspf checks [Usable]
// first.
func Start(t testing.TB, dnsAddr string) *Checker {
	t.Helper()
	if err := Usable(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	_, port, err := net.SplitHostPort(dnsAddr)
	if err != nil {
		t.Fatalf("pyspf: Start dnsAddr %q: %v", dnsAddr, err)
	}
	script := t.TempDir() + "/driver.py"
	if err := os.WriteFile(script, []byte(driver), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(PythonPath, script, port, Receiver)
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("pyspf: starting %s: %v", PythonPath, err)
	}
	t.Cleanup(func() {
		in.Close() // pyspf ends at the end of its input
		cmd.Wait()
	})
	sc := bufio.NewScanner(out)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	return &Checker{in: in, out: sc}
}

// Check asks pyspf whether ip may send mail from mailFrom introduced with
// helo (an empty mailFrom checks "postmaster@" helo, as RFC 7208 section 2.4
// says). It fails the test if pyspf has stopped.
func (c *Checker) Check(t testing.TB, ip netip.Addr, mailFrom, helo string) Result {
	t.Helper()
	line, err := json.Marshal(map[string]string{"ip": ip.String(), "mailfrom": mailFrom, "helo": helo})
	if err != nil {
		t.Fatal(err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, err := fmt.Fprintf(c.in, "%s\n", line); err != nil {
		t.Fatalf("pyspf: writing to pyspf: %v", err)
	}
	if !c.out.Scan() {
		err := c.out.Err()
		if err == nil {
			err = errors.New("end of output")
		}
		t.Fatalf("pyspf: pyspf stopped: %v", err)
	}
	var r Result
	if err := json.Unmarshal(c.out.Bytes(), &r); err != nil {
		t.Fatalf("pyspf: answer %q: %v", c.out.Bytes(), err)
	}
	return r
}
