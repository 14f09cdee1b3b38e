package rediskey

import (
	"errors"
	"fmt"
	"strings"

	"github.com/alertmail/alertmail/alerts"
)

// Buckets is the number of buckets the limiter keys of all tenants are
// spread over. Each bucket is one Redis Cluster hash tag, "{b:<xx>}"
// with <xx> its number in two lower-case hex digits, and holds its own
// index of due keys, which the limiter's scripts update in the same
// script as each decision because it shares the bucket's hash slot. The
// number is part of the key layout: changing it moves every tenant's
// limiter keys.
//
// 256 tags spread over the 16,384 slots of a cluster land on every master
// of any cluster of a few dozen masters, and a flush visits 256 small
// indexes, one script each, pipelined per node.
const Buckets = 256

// bucketTagLen is the length of a bucket's hash tag, "{b:<xx>}".
const bucketTagLen = len("{b:xx}")

// Bucket returns the bucket of tenant: its 32-bit FNV-1a hash, the four
// bytes folded into one. It is stable (part of the key layout) and
// depends on the tenant id only, so all the limiter keys of a tenant are
// in one bucket.
func Bucket(tenant string) int {
	h := uint32(2166136261)
	for i := 0; i < len(tenant); i++ {
		h ^= uint32(tenant[i])
		h *= 16777619
	}
	return int(byte(h ^ h>>8 ^ h>>16 ^ h>>24))
}

// BucketIndex returns the key of bucket b's own index called name:
// "<prefix>:{b:<xx>}:<name>". name is written as it is: callers pass a
// constant such as "due". Its form cannot be a tenant's key, which has
// two more parts (see [Space.BucketKeys]).
func (k Space) BucketIndex(b int, name string) string {
	var buf strings.Builder
	buf.Grow(len(k.prefix) + 1 + bucketTagLen + 1 + len(name))
	buf.WriteString(k.prefix)
	buf.WriteByte(':')
	writeBucketTag(&buf, b)
	buf.WriteByte(':')
	buf.WriteString(name)
	return buf.String()
}

// BucketKeys returns, for each kind, the key
//
//	<prefix>:{b:<bucket>}:<tenant>:<comp>:<kind>
//
// of tenant's comp (field names comp in errors: "category") in tenant's
// bucket, and the member that names tenant's comp in the bucket's
// indexes, "<tenant>:<comp>", which [ParseMember] reads back. The tenant
// and comp are escaped as in every key, so neither holds a ':' and the
// member is unambiguous. The keys and the member are slices of one
// string, built in one allocation, and the returned slice has room for
// one more key (the caller's bucket index): this sits on the limiter's
// hot path.
func (k Space) BucketKeys(tenant, field, comp string, kinds ...string) (keys []string, member string, err error) {
	if err := alerts.ValidateTenant(tenant); err != nil {
		return nil, "", err
	}
	if len(comp) > maxComponentLen {
		return nil, "", &KeyError{Field: field, Value: comp, Reason: fmt.Sprintf("longer than %d bytes", maxComponentLen)}
	}
	b := Bucket(tenant)
	var buf strings.Builder
	buf.Grow(len(kinds) * (len(k.prefix) + bucketTagLen + 3*len(tenant) + 3*len(comp) + 16))
	var endsBuf [8]int // on the stack for the limiter's kinds
	ends := endsBuf[:0]
	var mstart, mend int
	for i, kind := range kinds {
		buf.WriteString(k.prefix)
		buf.WriteByte(':')
		writeBucketTag(&buf, b)
		buf.WriteByte(':')
		if i == 0 {
			mstart = buf.Len()
		}
		escapeKeyPart(&buf, tenant)
		buf.WriteByte(':')
		escapeKeyPart(&buf, comp)
		if i == 0 {
			mend = buf.Len()
		}
		buf.WriteByte(':')
		buf.WriteString(kind)
		ends = append(ends, buf.Len())
	}
	all := buf.String()
	keys = make([]string, len(kinds), len(kinds)+1)
	start := 0
	for i, end := range ends {
		keys[i], start = all[start:end], end
	}
	return keys, all[mstart:mend], nil
}

// errBadMember reports a member of a bucket index that is not of the form
// [Space.BucketKeys] writes.
var errBadMember = errors.New("redisstore: malformed member of a bucket index")

// ParseMember returns the tenant and the component that a member of a
// bucket index names (see [Space.BucketKeys]).
func ParseMember(member string) (tenant, comp string, err error) {
	t, c, ok := strings.Cut(member, ":")
	if !ok {
		return "", "", errBadMember
	}
	if tenant, ok = unescapeKeyPart(t); !ok {
		return "", "", errBadMember
	}
	if comp, ok = unescapeKeyPart(c); !ok {
		return "", "", errBadMember
	}
	return tenant, comp, nil
}

// writeBucketTag writes the hash tag of bucket b, "{b:<xx>}".
func writeBucketTag(buf *strings.Builder, b int) {
	const hex = "0123456789abcdef"
	buf.WriteString("{b:")
	buf.WriteByte(hex[b>>4&0xF])
	buf.WriteByte(hex[b&0xF])
	buf.WriteByte('}')
}

// unescapeKeyPart inverts escapeKeyPart, and reports false for a string
// it never writes.
func unescapeKeyPart(s string) (string, bool) {
	if s == "%" {
		return "", true
	}
	if s == "" {
		return "", false
	}
	if !strings.Contains(s, "%") {
		for i := 0; i < len(s); i++ {
			if !plain(s[i]) {
				return "", false
			}
		}
		return s, true
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '%' {
			if !plain(c) {
				return "", false
			}
			b.WriteByte(c)
			continue
		}
		if i+2 >= len(s) {
			return "", false
		}
		hi, ok1 := unhex(s[i+1])
		lo, ok2 := unhex(s[i+2])
		if !ok1 || !ok2 {
			return "", false
		}
		v := hi<<4 | lo
		if plain(v) {
			return "", false // escapeKeyPart writes a plain byte as itself
		}
		b.WriteByte(v)
		i += 2
	}
	return b.String(), true
}

// unhex returns the value of an upper-case hex digit.
func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}
