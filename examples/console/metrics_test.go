package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestMetricsScrape serves the console as main does, on a free port, fires
// eight Active Threat events at score 8 and one at score 1 from the page's
// form, and scrapes /metrics as Prometheus would: the SDK's instruments
// are there, with the counts of what happened.
func TestMetricsScrape(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	ready := make(chan string, 1)
	errc := make(chan error, 1)
	var stderr bytes.Buffer
	go func() { errc <- run(ctx, []string{"-addr", "127.0.0.1:0"}, io.Discard, &stderr, ready) }()
	var addr string
	select {
	case addr = <-ready:
	case err := <-errc:
		t.Fatalf("run() = %v before serving; stderr: %s", err, &stderr)
	}
	defer func() {
		cancel()
		assert.NoError(t, <-errc, "run after its context ended")
	}()
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, f := range []url.Values{
		{"tenant": {"acme"}, "category": {"active-threat"}, "score": {"8"}, "count": {"8"}, "asset": {"web-01"}, "summary": {"ransomware"}},
		{"tenant": {"acme"}, "category": {"active-threat"}, "score": {"1"}, "count": {"1"}, "asset": {"web-02"}, "summary": {"adware"}},
	} {
		res, err := client.PostForm("http://"+addr+"/events", f)
		require.NoError(t, err, "POST /events")
		res.Body.Close()
		require.Equalf(t, http.StatusSeeOther, res.StatusCode, "POST /events = %d; want 303", res.StatusCode)
	}

	res, err := http.Get("http://" + addr + "/metrics")
	require.NoError(t, err, "GET /metrics")
	body, err := io.ReadAll(res.Body)
	res.Body.Close()
	require.NoError(t, err, "reading /metrics")
	require.Equalf(t, http.StatusOK, res.StatusCode, "GET /metrics = %d; want 200", res.StatusCode)
	assert.Contains(t, res.Header.Get("Content-Type"), "text/plain", "Content-Type of /metrics")
	text := string(body)

	// sample returns the value of the first sample of name whose labels
	// include each of labels.
	sample := func(name string, labels ...string) string {
		for line := range strings.Lines(text) {
			m := regexp.MustCompile(`^([a-z_]+)(\{[^}]*\})? (\S+)`).FindStringSubmatch(line)
			if m == nil || m[1] != name {
				continue
			}
			ok := true
			for _, l := range labels {
				ok = ok && strings.Contains(m[2], l)
			}
			if ok {
				return m[3]
			}
		}
		return ""
	}
	for _, tc := range []struct {
		name   string
		labels []string
		want   string // empty: any value
	}{
		{"alertmail_alerts_outcomes_total", []string{`alertmail_category="active-threat"`, `alertmail_outcome="sent"`}, "5"},
		{"alertmail_alerts_outcomes_total", []string{`alertmail_outcome="suppressed"`}, "3"},
		{"alertmail_alerts_outcomes_total", []string{`alertmail_outcome="below-threshold"`}, "1"},
		{"alertmail_alerts_pending", []string{`alertmail_category="active-threat"`}, "3"},
		{"alertmail_alerts_undelivered", []string{`alertmail_category="active-threat"`}, "0"},
		{"alertmail_alerts_carried_total", []string{`alertmail_category="active-threat"`}, "0"},
		{"alertmail_alerts_email_events_count", []string{`alertmail_category="active-threat"`}, "5"},
		{"alertmail_alerts_limiter_duration_seconds_count", []string{`alertmail_store="memory"`}, ""},
		{"alertmail_smtp_send_duration_seconds_count", []string{`alertmail_smtp_result="delivered"`, `alertmail_smtp_code_class="2xx"`}, "5"},
		{"alertmail_digest_items_appended_total", nil, "1"},
		{"alertmail_spf_checks_total", []string{`alertmail_spf_result="pass"`}, ""},
		{"alertmail_dmarc_evaluations_total", []string{`alertmail_dmarc_result="pass"`}, ""},
	} {
		got := sample(tc.name, tc.labels...)
		assert.NotEmptyf(t, got, "/metrics has no %s%v; it has:\n%s", tc.name, tc.labels, text)
		if tc.want != "" {
			assert.Equalf(t, tc.want, got, "%s%v", tc.name, tc.labels)
		}
	}
	assert.NotContains(t, text, "acme", "/metrics names a tenant")
	assert.NotContains(t, text, "@", "/metrics names an address")
}
