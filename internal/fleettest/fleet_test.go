package fleettest_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/alertmail/alertmail/alerts"
	"github.com/alertmail/alertmail/alerts/redisstore"
	"github.com/alertmail/alertmail/internal/fleettest"
	"github.com/alertmail/alertmail/internal/redistest"
)

// TestSmoke runs the load benchmark's setup small (internal/bench/load):
// 4 workers on one Redis with a replica, durability on, 1,000 tenants,
// Dispatch queueing and Run sending through smtpnotify to a go-smtp sink.
// Every event is acknowledged, and every email the workers count reached
// the sink.
func TestSmoke(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	srv.StartReplica(t)
	sink := fleettest.StartSink(t)
	r := fleettest.Start(t, fleettest.Config{
		Addrs: []string{srv.Addr}, Prefix: srv.Prefix(t),
		Durability: redisstore.Durability{Replicas: 1, Timeout: 500 * time.Millisecond},
		Tenants:    1000, Events: 100, Async: true,
		Notifier: fleettest.SMTP, SMTPAddr: sink.Addr, Drain: 500 * time.Millisecond,
	}).Wait(t, time.Minute)
	t.Log(r)
	require.Equalf(t, 400, r.Events, "events acknowledged = %d; want 400 (errors: %q)", r.Events, r.FirstErrors)
	assert.Equalf(t, 400, r.Outcomes[alerts.Queued], "events queued = %d; want 400 (outcomes %v)", r.Outcomes[alerts.Queued], r.Outcomes)
	assert.Positivef(t, r.Emails, "emails = %d; want some", r.Emails)
	assert.Equalf(t, r.Emails, sink.Messages(), "emails the workers sent = %d, the sink accepted %d; want the same", r.Emails, sink.Messages())
}
