package redisstore_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/alertmail/alertmail/alerts"
	"github.com/alertmail/alertmail/digest"
	"github.com/alertmail/alertmail/internal/redistest"
	"github.com/alertmail/alertmail/redisstore"
)

// TestTenantIsolation tries to reach the keys of tenant "acme" from other
// tenants whose ids hold separators, braces, glob characters, control
// bytes and escapes that spell acme's keys: through every store
// operation, and by the glob pattern of acme's keys. Acme's keys must be
// unchanged byte for byte, every key must belong to exactly one tenant
// (its hash tag decodes to it), and the pattern of acme's keys must match
// no other tenant's key.
func TestTenantIsolation(t *testing.T) {
	t.Parallel()
	srv := redistest.New(t)
	client := srv.Client(t)
	prefix := srv.Prefix(t)
	st, err := redisstore.New(redisstore.Config{Client: client, Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	now := time.Now()
	policy := alerts.FrequencyLimit{Max: 1}
	const victim = "acme"

	// write does something with every store for tenant.
	write := func(tenant string) {
		t.Helper()
		saveRecipients(t, st, tenant)
		ls := st.Limits()
		for _, cat := range []alerts.CategoryID{alerts.ActiveThreat, "active-threat}", "*"} {
			key := alerts.LimitKey{Tenant: tenant, Category: cat}
			for _, id := range []string{"a", "b"} {
				ev := alerts.Event{ID: id, Tenant: tenant, Category: cat, Time: now}
				if _, err := ls.Take(ctx, key, policy, now, time.Minute, []alerts.Event{ev}); err != nil {
					t.Fatalf("Take(%v): %v", key, err)
				}
			}
		}
		if _, err := ls.Drop(ctx, alerts.LimitKey{Tenant: tenant, Category: "*"}, policy, now); err != nil {
			t.Fatal(err)
		}
		ds := st.Digest()
		item := digest.Item{Tenant: tenant, Category: alerts.Threat, Asset: "h", Fingerprint: "f", Time: now}
		if err := ds.Append(ctx, tenant, []digest.Item{item, item}); err != nil {
			t.Fatal(err)
		}
		day := digest.DayOf(now)
		if _, err := ds.Claim(ctx, tenant, digest.Claim{Day: day, Token: "tok-" + tenant, Now: now, Until: now.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		if err := ds.Commit(ctx, tenant, digest.Commit{Day: day, Token: "tok-" + tenant, Through: 1,
			Reported: []digest.ItemKey{item.Key()}, Now: now, ExpireBefore: now.Add(-time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}

	// snapshot returns acme's keys with their serialised values.
	victimPattern := prefix + ":{" + victim + "}:*"
	snapshot := func() map[string]string {
		t.Helper()
		out := map[string]string{}
		for _, k := range keys(t, client, victimPattern) {
			v, err := client.Dump(ctx, k).Result()
			if err != nil {
				t.Fatalf("DUMP %q: %v", k, err)
			}
			out[k] = v
		}
		return out
	}

	write(victim)
	before := snapshot()
	if len(before) < 5 {
		t.Fatalf("acme has %d keys after writing to every store; want at least 5: %v", len(before), before)
	}

	attackers := []string{
		"acme}", "{acme}", "acme}:settings", "acme}:lim:active-threat", "acme:", ":acme",
		"acme*", "acm?", "ac[m]e", "*", "?", "}", "{", "{}", "acme ", // ids with control bytes are refused (alerts.ValidateTenant)
		"%61cme", "acme%7D", "ACME", prefix + ":{acme}", "acme\\",
	}
	for _, a := range attackers {
		write(a)
	}
	after := snapshot()
	if len(after) != len(before) {
		t.Errorf("acme's keys: %d before the other tenants wrote, %d after", len(before), len(after))
	}
	for k, v := range before {
		if after[k] != v {
			t.Errorf("acme's key %q changed when other tenants wrote", k)
		}
	}

	// Every key belongs to one tenant: its hash tag is the escaped id of
	// a tenant that wrote, and the pattern of acme's keys matches only
	// keys whose tag is acme's.
	escaped := map[string]string{}
	for _, tn := range append(attackers, victim) {
		escaped[escape(tn)] = tn
	}
	for _, k := range keys(t, client, prefix+":*") {
		open, end := strings.IndexByte(k, '{'), strings.IndexByte(k, '}')
		if open < 0 || end < open {
			t.Errorf("key %q has no hash tag", k)
			continue
		}
		tag := k[open+1 : end]
		if _, ok := escaped[tag]; !ok {
			t.Errorf("key %q: hash tag %q is no tenant's", k, tag)
		}
		if strings.ContainsAny(tag, "{}*?[]\\:") || strings.ContainsFunc(tag, func(r rune) bool { return r < 0x21 || r > 0x7e }) {
			t.Errorf("key %q: hash tag %q holds a separator, brace, glob or control character", k, tag)
		}
	}
	for _, k := range keys(t, client, victimPattern) {
		if !strings.HasPrefix(k, prefix+":{acme}:") {
			t.Errorf("the pattern %q of acme's keys matches %q", victimPattern, k)
		}
	}
	if got := keys(t, client, prefix+":{acme}*"); !slices.Equal(sorted(got), sorted(keys(t, client, victimPattern))) {
		t.Errorf("pattern %q matches %q; want only acme's keys", prefix+":{acme}*", got)
	}
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

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}
