package spf

import (
	"sync"
	"sync/atomic"
)

// parseCache keeps parsed records by their text. The records it returns are
// shared and only read. A nil *parseCache parses every time. It is safe for
// concurrent use.
type parseCache struct {
	m   sync.Map // string -> *Record
	n   atomic.Int64
	max int64
}

// parse returns the parsed record of txt, from the cache when it is there.
// Records with syntax errors are not cached.
func (c *parseCache) parse(txt string) (*Record, error) {
	if c == nil {
		r, err := parse(txt)
		return &r, err
	}
	if r, ok := c.m.Load(txt); ok {
		return r.(*Record), nil
	}
	r, err := parse(txt)
	if err != nil {
		return &r, err
	}
	if c.n.Add(1) > c.max {
		// Full: start again rather than track recency; a working set
		// larger than the cache costs a parse, as without it.
		c.m.Clear()
		c.n.Store(1)
	}
	c.m.Store(txt, &r)
	return &r, nil
}
