package spf

import (
	"fmt"
	"strings"
	"sync"
	"testing"
)

func TestParseCache(t *testing.T) {
	t.Parallel()
	c := &parseCache{max: 4}
	r1, err := c.parse("v=spf1 ip4:192.0.2.1 -all")
	if err != nil {
		t.Fatal(err)
	}
	r2, _ := c.parse("v=spf1 ip4:192.0.2.1 -all")
	if r1 != r2 {
		t.Errorf("parse of the same text twice gave two records; want the cached one")
	}
	if _, err := c.parse("v=spf1 bogus"); err == nil {
		t.Errorf("parse(bogus) = nil error")
	}
	if r, err := c.parse("v=spf1 bogus"); err == nil || r == nil {
		t.Errorf("parse(bogus) again = %v, %v; want the error again (errors are not cached)", r, err)
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 100 {
				txt := fmt.Sprintf("v=spf1 ip4:192.0.2.%d -all", (g*100+i)%256)
				r, err := c.parse(txt)
				if err != nil || r.String() != txt {
					t.Errorf("parse(%q) = %v, %v", txt, r, err)
				}
			}
		})
	}
	wg.Wait()
	n := 0
	c.m.Range(func(any, any) bool { n++; return true })
	if n > int(c.max)+4 { // concurrent stores may overshoot by one each
		t.Errorf("cache holds %d records; want at most about %d", n, c.max)
	}
	var nilCache *parseCache
	if r, err := nilCache.parse("v=spf1 -all"); err != nil || len(r.Terms) != 1 {
		t.Errorf("nil cache parse = %v, %v", r, err)
	}
}

// TestParseCacheSkipsHugeRecords checks that records over maxCachedRecord
// are parsed every time rather than kept.
func TestParseCacheSkipsHugeRecords(t *testing.T) {
	t.Parallel()
	c := &parseCache{max: 4}
	huge := "v=spf1" + strings.Repeat(" ip4:192.0.2.1", maxCachedRecord/14+1)
	r1, err := c.parse(huge)
	if err != nil {
		t.Fatal(err)
	}
	if r2, _ := c.parse(huge); r1 == r2 {
		t.Errorf("parse of a %d-octet record gave the cached record; want records over %d not kept", len(huge), maxCachedRecord)
	}
	if n := c.n.Load(); n != 0 {
		t.Errorf("cache counts %d records; want 0", n)
	}
}
