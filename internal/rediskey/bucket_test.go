package rediskey

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/alertmail/alertmail/alerts"
)

func TestBucketKeys(t *testing.T) {
	t.Parallel()
	ks, err := NewSpace("am")
	require.NoError(t, err)
	keys, member, err := ks.BucketKeys("a}b", "category", "active-threat:x*", "lim", "pend")
	require.NoError(t, err)
	tag := "{b:" + string("0123456789abcdef"[Bucket("a}b")>>4]) + string("0123456789abcdef"[Bucket("a}b")&15]) + "}"
	want := []string{"am:" + tag + ":a%7Db:active-threat%3Ax%2A:lim", "am:" + tag + ":a%7Db:active-threat%3Ax%2A:pend"}
	assert.Equalf(t, want, keys, "BucketKeys(%q, %q) = %q; want %q", "a}b", "active-threat:x*", keys, want)
	assert.Equalf(t, "a%7Db:active-threat%3Ax%2A", member, "BucketKeys(%q, %q): member = %q", "a}b", "active-threat:x*", member)
	assert.Equalf(t, 3, cap(keys), "BucketKeys of 2 kinds: cap = %d; want room for one more key", cap(keys))
	assert.Equalf(t, "am:"+tag+":due", ks.BucketIndex(Bucket("a}b"), "due"), "BucketIndex(%d, %q)", Bucket("a}b"), "due")

	_, _, err = ks.BucketKeys("", "category", "c", "lim")
	assert.ErrorIsf(t, err, alerts.ErrInvalidTenant, "BucketKeys of the empty tenant: error = %v; want ErrInvalidTenant", err)
	_, _, err = ks.BucketKeys("acme", "category", strings.Repeat("c", maxComponentLen+1), "lim")
	assert.ErrorIsf(t, err, ErrInvalidKey, "BucketKeys of an over-long category: error = %v; want ErrInvalidKey", err)
}

// TestBucket pins the bucket function, which is part of the key layout,
// and checks that tenants spread over all the buckets.
func TestBucket(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		tenant string
		want   int
	}{{"acme", 0x66}, {"a", 0xed}, {"tenant-0001", 0x91}} { // FNV-1a, folded, computed apart (Python)
		assert.Equalf(t, tt.want, Bucket(tt.tenant), "Bucket(%q) = %#x; want %#x", tt.tenant, Bucket(tt.tenant), tt.want)
	}
	count := make([]int, Buckets)
	for i := range 100 * Buckets {
		count[Bucket("tenant-"+strings.Repeat("x", i%7)+string(rune('a'+i%26))+itoa(i))]++
	}
	for b, n := range count {
		assert.Truef(t, n >= 50 && n <= 150, "bucket %d holds %d of %d tenants; want about 100", b, n, 100*Buckets)
	}
}

func itoa(i int) string {
	var b []byte
	for {
		b = append([]byte{byte('0' + i%10)}, b...)
		if i /= 10; i == 0 {
			return string(b)
		}
	}
}

func TestParseMember(t *testing.T) {
	t.Parallel()
	ks, err := NewSpace("am")
	require.NoError(t, err)
	for _, tt := range []struct{ tenant, comp string }{
		{"acme", "active-threat"}, {"a:b", "c:d"}, {"%41", ""}, {"ü", "*"}, {"x y", "{z}"},
	} {
		_, member, err := ks.BucketKeys(tt.tenant, "category", tt.comp, "lim")
		require.NoError(t, err)
		tenant, comp, err := ParseMember(member)
		if assert.NoErrorf(t, err, "ParseMember(%q)", member) {
			assert.Truef(t, tenant == tt.tenant && comp == tt.comp, "ParseMember(%q) = %q, %q; want %q, %q", member, tenant, comp, tt.tenant, tt.comp)
		}
	}
	for _, bad := range []string{"", "acme", "a:b:c", "a%:b", "a%4:b", "a%zz:b", "%41:b", "a:", ":b", "a*:b", "a%3a:b"} {
		_, _, err := ParseMember(bad)
		assert.ErrorIsf(t, err, errBadMember, "ParseMember(%q) error = %v; want errBadMember", bad, err)
	}
}

// FuzzBucketKeys checks the isolation property of the bucketed layout: for
// any tenant id and component, the key's hash tag is the tenant's bucket,
// the parts after it decode back to exactly the tenant and component, the
// member names them, and the key holds no glob or control character.
func FuzzBucketKeys(f *testing.F) {
	for _, s := range []string{"acme", "a}b", "{x}", "a:b:c", "*", "%7D", "\x00", "ü", "a\r\nDEL *"} {
		f.Add(s, "active-threat")
	}
	ks, err := NewSpace("am:v1")
	require.NoError(f, err)
	f.Fuzz(func(t *testing.T, tenant, comp string) {
		keys, member, err := ks.BucketKeys(tenant, "key", comp, "kind")
		if alerts.ValidateTenant(tenant) != nil || len(comp) > maxComponentLen {
			require.Errorf(t, err, "BucketKeys(%q, %q) of a refused tenant or an over-long component", tenant, comp)
			return
		}
		require.NoErrorf(t, err, "BucketKeys(%q, %q)", tenant, comp)
		key := keys[0]
		index := ks.BucketIndex(Bucket(tenant), "due")
		base := strings.TrimSuffix(index, "due")
		require.Truef(t, strings.HasPrefix(key, base), "key %q is not in the bucket of %q", key, index)
		require.Equalf(t, "{b:"+index[len("am:v1:{b:"):len("am:v1:{b:")+2]+"}", "{"+hashTag(key)+"}", "hash tag of %q", key)
		rest, ok := strings.CutSuffix(key[len(base):], ":kind")
		require.Truef(t, ok && rest == member, "key %q: %q between the tag and the kind; want the member %q", key, rest, member)
		gotTenant, gotComp, err := ParseMember(member)
		require.NoErrorf(t, err, "ParseMember(%q)", member)
		require.Truef(t, gotTenant == tenant && gotComp == comp, "ParseMember(%q) = %q, %q; want %q, %q", member, gotTenant, gotComp, tenant, comp)
		i := strings.IndexAny(key, "*?[]\\ \r\n\x00")
		require.Lessf(t, i, 0, "key %q holds a glob, space or control character", key)
	})
}
