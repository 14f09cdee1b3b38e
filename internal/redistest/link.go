package redistest

import (
	"bytes"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// A link is the network between a cluster node and everyone who connects
// to it, for a cluster of [StartProxiedCluster]: a proxy in the test
// process that the node announces as its address. It forwards every
// connection as it is, but for the replication stream that the node sends
// a replica (a connection that sent PSYNC), which it can delay by a lag;
// when the node goes away, what it sent but the link has not yet
// delivered is lost with it, as on a crashed host.
type link struct {
	ln     net.Listener
	target atomic.Pointer[string] // the node's address, once it runs
	lag    atomic.Int64           // nanoseconds

	mu    sync.Mutex
	conns map[net.Conn]bool
}

// newLink listens on a free loopback port.
func newLink() (*link, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	l := &link{ln: ln, conns: map[net.Conn]bool{}}
	go l.serve()
	return l, nil
}

// addr returns the link's "host:port".
func (l *link) addr() string { return l.ln.Addr().String() }

// port returns the link's port.
func (l *link) port() int { return l.ln.Addr().(*net.TCPAddr).Port }

func (l *link) serve() {
	for {
		c, err := l.ln.Accept()
		if err != nil {
			return
		}
		go l.handle(c)
	}
}

// close stops the link and cuts its connections.
func (l *link) close() {
	l.ln.Close()
	l.mu.Lock()
	defer l.mu.Unlock()
	for c := range l.conns {
		c.Close()
	}
}

func (l *link) track(c net.Conn, on bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if on {
		l.conns[c] = true
	} else {
		delete(l.conns, c)
	}
}

// handle forwards the connection down to the node.
func (l *link) handle(down net.Conn) {
	target := l.target.Load()
	if target == nil {
		down.Close()
		return
	}
	up, err := net.Dial("tcp", *target)
	if err != nil {
		down.Close()
		return
	}
	for _, c := range []net.Conn{down, up} {
		l.track(c, true)
		defer l.track(c, false)
		defer c.Close()
	}
	replica := make(chan struct{}) // closed once the peer sent PSYNC
	go func() {
		defer up.Close()
		defer down.Close()
		buf := make([]byte, 32<<10)
		// The start of what the peer sent, until it is known to be a
		// replica (its handshake ends with PSYNC) or a client.
		var head []byte
		sniffing := true
		for {
			n, err := down.Read(buf)
			if n > 0 {
				if sniffing {
					head = append(head, buf[:n]...)
					switch {
					case bytes.Contains(bytes.ToUpper(head), []byte("PSYNC")):
						sniffing = false
						close(replica)
					case len(head) > 4096:
						sniffing = false
					}
				}
				if _, werr := up.Write(buf[:n]); werr != nil {
					return
				}
			}
			if err != nil {
				return
			}
		}
	}()
	l.forward(up, down, replica)
}

// A chunk is data the node sent, to be delivered at due.
type chunk struct {
	data []byte
	due  time.Time
}

// forward copies what the node sends (up) to the peer (down), through a
// queue that holds it for the lag once the peer is a replica. When up
// ends, the queue is dropped: the node's host is gone.
func (l *link) forward(up, down net.Conn, replica <-chan struct{}) {
	queue := make(chan chunk, 4096)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for c := range queue {
			if d := time.Until(c.due); d > 0 {
				time.Sleep(d)
			}
			if _, err := down.Write(c.data); err != nil {
				for range queue { // drain, so that forward never blocks
				}
				return
			}
		}
	}()
	buf := make([]byte, 32<<10)
	for {
		n, err := up.Read(buf)
		if n > 0 {
			c := chunk{data: bytes.Clone(buf[:n])}
			select {
			case <-replica:
				c.due = time.Now().Add(time.Duration(l.lag.Load()))
			default:
			}
			queue <- c
		}
		if err != nil {
			select {
			case <-replica:
				// The node is gone: the stream the queue holds is lost.
				down.Close()
			default:
				// A client's connection: its last replies still arrive.
			}
			close(queue)
			<-done
			return
		}
	}
}
