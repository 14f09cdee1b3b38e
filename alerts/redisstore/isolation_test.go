package redisstore_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/alertmail/alertmail/alerts"
	"github.com/alertmail/alertmail/alerts/redisstore"
	"github.com/alertmail/alertmail/digest"
	digestredis "github.com/alertmail/alertmail/digest/redisstore"
	"github.com/alertmail/alertmail/internal/rediskey"
	"github.com/alertmail/alertmail/internal/redistest"
)

// TestTenantIsolation tries to reach the keys of tenant "acme" from other
// tenants whose ids hold separators, braces, glob characters, control
// bytes and escapes that spell acme's keys: through every operation of
// this package's store and of digest/redisstore's, which share the prefix
// and the key layout. Acme's keys must be unchanged byte for byte, every
// key must belong to exactly one tenant (its hash tag decodes to it, or,
// for a limiter key, the part after its bucket's tag does, and the bucket
// is the tenant's), and the patterns of acme's keys must match no other
// tenant's key. The due index of acme's bucket is shared with the other
// tenants of the bucket by design: it is not acme's.
func TestTenantIsolation(t *testing.T) {
	t.Parallel()
	srv := redistest.New(t)
	client := srv.Client(t)
	st, prefix := newStore(t, srv, redisstore.Config{Client: client})
	ds, err := digestredis.New(digestredis.Config{Client: client, Prefix: prefix})
	require.NoError(t, err, "digest/redisstore.New")
	const victim = "acme"

	write := func(tenant string) {
		t.Helper()
		writeAlerts(t, st, tenant)
		writeDigest(t, ds, tenant)
	}
	// snapshot returns acme's keys with their serialised values.
	victimPattern := prefix + ":{" + victim + "}:*"
	limiterVictim := limiterPattern(t, prefix, victim)
	snapshot := func() map[string]string {
		t.Helper()
		out := map[string]string{}
		for _, k := range append(srv.Keys(t, victimPattern), srv.Keys(t, limiterVictim)...) {
			v, err := client.Dump(context.Background(), k).Result()
			require.NoErrorf(t, err, "DUMP %q", k)
			out[k] = v
		}
		return out
	}

	write(victim)
	before := snapshot()
	require.GreaterOrEqualf(t, len(before), 8, "acme has %d keys after writing to every store; want at least 8: %v", len(before), before)

	attackers := []string{
		"acme}", "{acme}", "acme}:settings", "acme}:lim:active-threat", "acme:", ":acme",
		"acme*", "acm?", "ac[m]e", "*", "?", "}", "{", "{}", "acme ", // ids with control bytes are refused (alerts.ValidateTenant)
		"%61cme", "acme%7D", "ACME", prefix + ":{acme}", "acme\\",
	}
	for _, a := range attackers {
		write(a)
	}
	assert.Equalf(t, before, snapshot(), "acme's keys changed when other tenants wrote")

	checkKeysOwned(t, srv, prefix, append(attackers, victim))
	for _, k := range srv.Keys(t, victimPattern) {
		assert.Truef(t, strings.HasPrefix(k, prefix+":{acme}:"), "the pattern %q of acme's keys matches %q", victimPattern, k)
	}
	limiterBase := strings.TrimSuffix(limiterVictim, "*")
	for _, k := range srv.Keys(t, limiterVictim) {
		rest := strings.TrimPrefix(k, limiterBase)
		assert.Truef(t, strings.HasPrefix(k, limiterBase) && strings.Count(rest, ":") >= 1,
			"the pattern %q of acme's limiter keys matches %q", limiterVictim, k)
	}
	got := srv.Keys(t, prefix+":{acme}*")
	assert.ElementsMatchf(t, srv.Keys(t, victimPattern), got, "pattern %q matches %q; want only acme's keys", prefix+":{acme}*", got)
}

// checkKeysOwned checks that every key under prefix belongs to one of
// tenants: its hash tag is the escaped id of one of them, or it is a
// limiter key "{b:<bucket>}:<escaped tenant>:..." of one of them in that
// tenant's bucket, or the due index of a bucket; and no tag or tenant part
// holds a separator, brace, glob or control character.
func checkKeysOwned(t *testing.T, srv *redistest.Server, prefix string, tenants []string) {
	t.Helper()
	escaped := map[string]string{}
	for _, tn := range tenants {
		escaped[escape(tn)] = tn
	}
	bad := func(s string) bool {
		return strings.ContainsAny(s, "{}*?[]\\:") || strings.ContainsFunc(s, func(r rune) bool { return r < 0x21 || r > 0x7e })
	}
	for _, k := range srv.Keys(t, prefix+":*") {
		open, end := strings.IndexByte(k, '{'), strings.IndexByte(k, '}')
		if !assert.Truef(t, open >= 0 && end > open, "key %q has no hash tag", k) {
			continue
		}
		tag, rest := k[open+1:end], strings.TrimPrefix(k[end+1:], ":")
		bucket, ok := strings.CutPrefix(tag, "b:")
		if !ok {
			assert.Containsf(t, escaped, tag, "key %q: hash tag %q is no tenant's", k, tag)
			assert.Falsef(t, bad(tag), "key %q: hash tag %q holds a separator, brace, glob or control character", k, tag)
			continue
		}
		owner, _, ok := strings.Cut(rest, ":")
		if !ok {
			assert.Equalf(t, "due", rest, "key %q in bucket %s: neither a tenant's nor the due index", k, bucket)
			continue
		}
		tn, ok := escaped[owner]
		if !assert.Truef(t, ok, "key %q: %q after the bucket's tag is no tenant's", k, owner) {
			continue
		}
		assert.Equalf(t, fmt.Sprintf("%02x", rediskey.Bucket(tn)), bucket, "key %q of tenant %q: bucket", k, tn)
		assert.Falsef(t, bad(owner), "key %q: tenant %q holds a separator, brace, glob or control character", k, owner)
	}
}

// writeAlerts writes tenant's settings and limiter keys of three
// categories, some of them pending.
func writeAlerts(t *testing.T, st *redisstore.Store, tenant string) {
	t.Helper()
	ctx := context.Background()
	now := time.Now()
	policy := alerts.FrequencyLimit{Max: 1}
	saveRecipients(t, st, tenant)
	for _, cat := range []alerts.CategoryID{alerts.ActiveThreat, "active-threat}", "*"} {
		key := alerts.LimitKey{Tenant: tenant, Category: cat}
		for _, id := range []string{"a", "b"} {
			ev := alerts.Event{ID: id, Tenant: tenant, Category: cat, Time: now}
			_, err := st.Take(ctx, key, policy, now, time.Minute, []alerts.Event{ev})
			require.NoErrorf(t, err, "Take(%v)", key)
		}
	}
	_, err := st.Drop(ctx, alerts.LimitKey{Tenant: tenant, Category: "*"}, policy, now)
	require.NoError(t, err, "Drop")
}

// writeDigest appends two items to tenant's digest, claims a day and
// commits one of them.
func writeDigest(t *testing.T, ds *digestredis.Store, tenant string) {
	t.Helper()
	ctx := context.Background()
	now := time.Now()
	item := digest.Item{Tenant: tenant, Category: alerts.Threat, Asset: "h", Fingerprint: "f", Time: now}
	require.NoError(t, ds.Append(ctx, tenant, []digest.Item{item, item}), "Append")
	day := digest.DayOf(now)
	_, err := ds.Claim(ctx, tenant, digest.Claim{Day: day, Token: "tok-" + tenant, Now: now, Until: now.Add(time.Hour)})
	require.NoError(t, err, "Claim")
	require.NoError(t, ds.Commit(ctx, tenant, digest.Commit{Day: day, Token: "tok-" + tenant, Through: 1,
		Reported: []digest.ItemKey{item.Key()}, Now: now, ExpireBefore: now.Add(-time.Hour)}), "Commit")
}

// escape is the documented escaping of key parts: bytes outside
// [A-Za-z0-9._-] as %XX, the empty string as "%".
func escape(s string) string {
	if s == "" {
		return "%"
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' {
			b.WriteByte(c)
			continue
		}
		b.WriteString("%" + strings.ToUpper(string("0123456789abcdef"[c>>4])+string("0123456789abcdef"[c&15])))
	}
	return b.String()
}
