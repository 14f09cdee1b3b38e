package tally_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"

	"github.com/alertmail/alertmail/internal/metrictest"
	"github.com/alertmail/alertmail/internal/tally"
)

// TestTally counts on a counter and an up-down counter, with a series made
// twice for one attribute set, and reads them through a ManualReader.
func TestTally(t *testing.T) {
	t.Parallel()
	mr := metrictest.NewReader(t)
	tl := tally.New(mr.Provider.Meter("test"))
	sent := tl.Counter("test.sent")
	queue := tl.UpDownCounter("test.queue")
	_, err := tl.Register()
	require.NoError(t, err, "Register")

	a := attribute.NewSet(attribute.String("k", "a"))
	sent.Series(a).Add(2)
	sent.Series(attribute.NewSet(attribute.String("k", "a"))).Add(3) // the same series
	sent.Series(attribute.NewSet(attribute.String("k", "b")))        // made, never counted
	q := queue.Series(attribute.NewSet())
	q.Add(5)
	q.Add(-2)
	var none *tally.Series
	none.Add(1) // a nil Series counts nothing
	assert.Equal(t, int64(0), none.Load(), "nil Series Load")
	assert.Equal(t, int64(5), sent.Series(a).Load(), "Series(a).Load")

	m := mr.Collect(t)
	for _, tc := range []struct {
		name string
		attr []attribute.KeyValue
		want int64
	}{
		{"test.sent", []attribute.KeyValue{attribute.String("k", "a")}, 5},
		{"test.sent", []attribute.KeyValue{attribute.String("k", "b")}, 0},
		{"test.queue", nil, 3},
	} {
		got, ok := m.Sum(tc.name, tc.attr...)
		assert.Truef(t, ok, "%s%v missing; have\n%v", tc.name, tc.attr, m)
		assert.Equalf(t, tc.want, got, "%s%v = %d; want %d", tc.name, tc.attr, got, tc.want)
	}
}

// TestTallyBadName reports an instrument the meter refuses when the
// callback is registered.
func TestTallyBadName(t *testing.T) {
	t.Parallel()
	tl := tally.New(metrictest.NewReader(t).Provider.Meter("test"))
	tl.Counter("not a valid name!")
	_, err := tl.Register()
	assert.Error(t, err, "Register with an invalid instrument name")
}
