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

// maxCachedRecord is the longest record text kept: real records are a few
// hundred octets, and a bound keeps domains that publish 64 KiB records from
// filling the cache with megabytes each.
const maxCachedRecord = 4 << 10

// parse returns the parsed record of txt, from the cache when it is there.
// Records with syntax errors, and records over maxCachedRecord, are not
// cached.
func (c *parseCache) parse(txt string) (*Record, error) {
	if c == nil || len(txt) > maxCachedRecord {
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
