package alertstest_test

import (
	"sync"
	"testing"
	"time"

	"github.com/alertmail/alertmail/alerts"
	"github.com/alertmail/alertmail/alerts/alertstest"
)

var _ alerts.Clock = (*alertstest.Clock)(nil)

func TestClock(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	c := alertstest.NewClock(start)
	if got := c.Now(); !got.Equal(start) {
		t.Fatalf("NewClock(%v).Now() = %v", start, got)
	}
	if got := c.Now(); !got.Equal(start) {
		t.Errorf("Now() moved by itself to %v", got)
	}
	if got, want := c.Advance(90*time.Minute), start.Add(90*time.Minute); !got.Equal(want) || !c.Now().Equal(want) {
		t.Errorf("Advance(90m) = %v, Now() = %v; want %v", got, c.Now(), want)
	}
	if got, want := c.Advance(-24*time.Hour), start.Add(90*time.Minute-24*time.Hour); !got.Equal(want) {
		t.Errorf("Advance(-24h) = %v; want %v", got, want)
	}
	c.Set(start)
	if got := c.Now(); !got.Equal(start) {
		t.Errorf("after Set(%v), Now() = %v", start, got)
	}
}

func TestClockZero(t *testing.T) {
	t.Parallel()
	var c alertstest.Clock
	want := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	if got := c.Now(); !got.Equal(want) {
		t.Errorf("zero Clock.Now() = %v; want %v", got, want)
	}
	var d alertstest.Clock
	if got := d.Advance(time.Hour); !got.Equal(want.Add(time.Hour)) {
		t.Errorf("zero Clock.Advance(1h) = %v; want %v", got, want.Add(time.Hour))
	}
}

func TestClockConcurrent(t *testing.T) {
	t.Parallel()
	c := alertstest.NewClock(time.Unix(0, 0))
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 100 {
				c.Advance(time.Second)
				_ = c.Now()
			}
		})
	}
	wg.Wait()
	if got, want := c.Now(), time.Unix(800, 0); !got.Equal(want) {
		t.Errorf("after 800 concurrent Advance(1s): Now() = %v; want %v", got, want)
	}
}
