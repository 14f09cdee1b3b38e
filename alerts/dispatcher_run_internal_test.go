package alerts

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// TestBackoff checks the retry delays: doubled from the first, capped, each
// drawn from the upper half of its step, and the defaults.
func TestBackoff(t *testing.T) {
	t.Parallel()
	b := newBackoff(10*time.Second, time.Minute)
	for n, want := range map[int]time.Duration{1: 10 * time.Second, 2: 20 * time.Second, 3: 40 * time.Second, 4: time.Minute, 50: time.Minute} {
		for range 100 {
			got := b.after(n)
			assert.Truef(t, got >= want/2 && got <= want, "after(%d) = %v; want within [%v, %v]", n, got, want/2, want)
		}
	}
	assert.Equal(t, backoff{first: defaultRetryBackoff, max: defaultMaxRetryBackoff}, newBackoff(0, 0), "newBackoff(0, 0)")
	assert.Equal(t, backoff{first: time.Hour, max: time.Hour}, newBackoff(time.Hour, 0), "newBackoff(1h, 0): the cap is at least the first delay")
}
