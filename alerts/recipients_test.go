package alerts

import (
	"errors"
	"net/mail"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseRecipient(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("a", 64)
	tests := []struct {
		in     string
		want   string // normal form; empty when rejected
		reason string // RecipientError.Reason when rejected
	}{
		// Accepted, normalised.
		{in: "soc@acme.example", want: "soc@acme.example"},
		{in: "  soc@acme.example  ", want: "soc@acme.example"},
		{in: "SOC@ACME.Example", want: "SOC@acme.example"},
		{in: "first.last+tag@sub.acme.example", want: "first.last+tag@sub.acme.example"},
		{in: "o'brien@acme.example", want: "o'brien@acme.example"},
		{in: "ops@Bücher.example", want: "ops@xn--bcher-kva.example"},
		{in: "ops@BÜCHER.example", want: "ops@xn--bcher-kva.example"},
		{in: "ops@xn--bcher-kva.example", want: "ops@xn--bcher-kva.example"},
		{in: "ops@例え.テスト", want: "ops@xn--r8jz45g.xn--zckzah"},
		{in: "jürgen@acme.example", want: "jürgen@acme.example"},
		{in: `"john doe"@acme.example`, want: `"john doe"@acme.example`},
		{in: `"bob"@acme.example`, want: "bob@acme.example"},
		{in: `"a\"b"@acme.example`, want: `"a\"b"@acme.example`},
		{in: `"a@b"@acme.example`, want: `"a@b"@acme.example`},
		{in: long + "@acme.example", want: long + "@acme.example"},

		// CR, LF and control characters, quoted or not.
		{in: "soc@acme.example\r\nBcc: evil@x.example", reason: "holds a line break (CR or LF)"},
		{in: "soc@acme.example\n", reason: "holds a line break (CR or LF)"},
		{in: "\rsoc@acme.example", reason: "holds a line break (CR or LF)"},
		{in: "\"a\x01b\"@acme.example", reason: "holds control character U+0001"},
		{in: "\"a\tb\"@acme.example", reason: "holds control character U+0009"},
		{in: "\"a\\\x00\"@acme.example", reason: "holds control character U+0000"},
		{in: "soc@acme.example\x7f", reason: "holds control character U+007F"},
		{in: "soc@acme.example\u0085", reason: "holds control character U+0085"},
		{in: "\xff@acme.example", reason: "not valid UTF-8"},
		{in: "evil\u202egro.knab@acme.example", reason: "holds invisible formatting character U+202E"},
		{in: "so\u200bc@acme.example", reason: "holds invisible formatting character U+200B"},
		{in: "soc@acme.example\u2028", reason: "holds invisible formatting character U+2028"},

		// Display-name tricks, comments, groups, lists.
		{in: "Bob <bob@acme.example>", reason: "display names and angle brackets are not allowed"},
		{in: "<bob@acme.example>", reason: "display names and angle brackets are not allowed"},
		{in: `"admin@bank.example" <evil@x.example>`, reason: "display names and angle brackets are not allowed"},
		{in: "bob@acme.example (Bob)", reason: "comments are not allowed"},
		{in: "team: a@acme.example, b@acme.example;", reason: "group syntax is not allowed"},
		{in: "undisclosed-recipients:;", reason: "group syntax is not allowed"},
		{in: "a@acme.example, b@acme.example", reason: "one address per entry"},
		{in: "a@acme.example b@acme.example", reason: "spaces and backslashes are only allowed in a quoted local part"},
		{in: `"a"b@acme.example`, reason: "quotes are only allowed around the whole local part"},
		{in: `a"b"@acme.example`, reason: "quotes are only allowed around the whole local part"},
		{in: `"unterminated@acme.example`, reason: "unterminated quoted local part"},

		// Shape.
		{in: "", reason: "empty address"},
		{in: "   ", reason: "empty address"},
		{in: "bob", reason: "missing @"},
		{in: "@acme.example", reason: "empty local part"},
		{in: "bob@", reason: "empty domain"},
		{in: "a@b@acme.example", reason: "more than one @ outside quotes"},
		{in: "a.@acme.example", reason: "not an RFC 5322 address: missing '@' or angle-addr"},
		{in: "a..b@acme.example", reason: "not an RFC 5322 address: missing '@' or angle-addr"},
		{in: `""@acme.example`, reason: "not an RFC 5322 address: missing '@' or angle-addr"},
		{in: long + "a@acme.example", reason: "local part longer than 64 octets"},

		// Domains.
		{in: "a@[192.0.2.1]", reason: "domain literals are not allowed"},
		{in: "a@localhost", reason: `domain "localhost" needs at least two labels`},
		{in: "a@acme.example.", reason: `domain "acme.example.": empty label`},
		{in: "a@" + strings.Repeat("a", 64) + ".example", reason: `domain "` + strings.Repeat("a", 64) + `.example": label "` + strings.Repeat("a", 64) + `" longer than 63 octets`},
		{in: "a@" + strings.Repeat("abcdefghi.", 26) + "example", reason: `domain "` + strings.Repeat("abcdefghi.", 26) + `example": longer than 253 octets`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, err := ParseRecipient(tt.in)
			if tt.want != "" {
				require.NoErrorf(t, err, "ParseRecipient(%q)", tt.in)
				require.Equalf(t, tt.want, got, "ParseRecipient(%q)", tt.in)
				// The normal form is a fixed point and a valid RFC 5322
				// address without a name.
				again, err := ParseRecipient(got)
				assert.NoErrorf(t, err, "ParseRecipient(%q)", got)
				assert.Equalf(t, got, again, "ParseRecipient(%q); want it unchanged", got)
				a, err := mail.ParseAddress(got)
				if assert.NoErrorf(t, err, "mail.ParseAddress(%q)", got) {
					assert.Emptyf(t, a.Name, "mail.ParseAddress(%q); want a nameless address", got)
				}
				return
			}
			require.ErrorIsf(t, err, ErrInvalidRecipient, "ParseRecipient(%q)", tt.in)
			re, ok := errors.AsType[*RecipientError](err)
			require.Truef(t, ok, "ParseRecipient(%q) = %v; want a *RecipientError", tt.in, err)
			assert.Equalf(t, -1, re.Index, "ParseRecipient(%q): RecipientError.Index", tt.in)
			assert.Equalf(t, tt.in, re.Input, "ParseRecipient(%q): RecipientError.Input", tt.in)
			assert.Equalf(t, tt.reason, re.Reason, "ParseRecipient(%q): RecipientError.Reason", tt.in)
			assert.Emptyf(t, got, "ParseRecipient(%q) with an error", tt.in)
		})
	}
}

func TestParseRecipientsSomeDomainErrors(t *testing.T) {
	t.Parallel()
	// IDNA rejects these; the exact text is the idna package's, so only
	// the kind of error is checked.
	for _, in := range []string{"a@-acme.example", "a@ac_me.example", "a@acme..example", "a@xn--zz.example"} {
		_, err := ParseRecipient(in)
		assert.ErrorIsf(t, err, ErrInvalidRecipient, "ParseRecipient(%q)", in)
		assert.ErrorContainsf(t, err, "domain", "ParseRecipient(%q): want an error about the domain", in)
	}
}

func TestParseRecipients(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		in      []string
		max     int
		want    []string
		wantErr error
		wantMsg string
	}{
		{name: "nil", in: nil, want: nil},
		{name: "empty", in: []string{}, want: nil},
		{
			name: "normalised, order kept",
			in:   []string{"B@Acme.Example", "a@acme.example"},
			want: []string{"B@acme.example", "a@acme.example"},
		},
		{
			name: "duplicates dropped, the domain's case ignored, the local part's not",
			in:   []string{"Ops@acme.example", "Ops@ACME.example", " Ops@acme.example", `"Ops"@acme.example`, "ops@acme.example", "soc@acme.example"},
			want: []string{"Ops@acme.example", "ops@acme.example", "soc@acme.example"},
		},
		{
			name: "duplicates do not count against the maximum",
			in:   []string{"a@x.example", "a@X.example", "b@x.example"},
			max:  2,
			want: []string{"a@x.example", "b@x.example"},
		},
		{
			name:    "over the maximum",
			in:      []string{"a@x.example", "b@x.example", "c@x.example"},
			max:     2,
			wantErr: ErrTooManyRecipients,
			wantMsg: `alerts: too many recipients at position 3, "c@x.example": the maximum is 2 distinct addresses`,
		},
		{
			name:    "default maximum",
			in:      manyAddresses(DefaultMaxRecipients + 1),
			wantErr: ErrTooManyRecipients,
			wantMsg: `alerts: too many recipients at position 26, "user25@x.example": the maximum is 25 distinct addresses`,
		},
		{
			name: "default maximum reached",
			in:   manyAddresses(DefaultMaxRecipients),
			want: manyAddresses(DefaultMaxRecipients),
		},
		{
			name:    "invalid entry named with its position",
			in:      []string{"a@x.example", "Bob <bob@x.example>", "also bad"},
			wantErr: ErrInvalidRecipient,
			wantMsg: `alerts: invalid recipient at position 2, "Bob <bob@x.example>": display names and angle brackets are not allowed`,
		},
		{
			name:    "injection",
			in:      []string{"a@x.example\r\nBcc: all@x.example"},
			wantErr: ErrInvalidRecipient,
			wantMsg: `alerts: invalid recipient at position 1, "a@x.example\r\nBcc: all@x.example": holds a line break (CR or LF)`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseRecipients(tt.in, tt.max)
			if tt.wantErr == nil {
				require.NoErrorf(t, err, "ParseRecipients(%q, %d)", tt.in, tt.max)
				assert.Equalf(t, tt.want, got, "ParseRecipients(%q, %d)", tt.in, tt.max)
				return
			}
			require.ErrorIsf(t, err, tt.wantErr, "ParseRecipients(%q, %d)", tt.in, tt.max)
			assert.EqualErrorf(t, err, tt.wantMsg, "ParseRecipients(%q, %d)", tt.in, tt.max)
			assert.Nilf(t, got, "ParseRecipients(%q, %d) with an error", tt.in, tt.max)
		})
	}
}

func manyAddresses(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = "user" + strconv.Itoa(i) + "@x.example"
	}
	return out
}

// FuzzParseRecipients feeds arbitrary lists (entries separated by NUL) to
// ParseRecipients: it never panics, and whatever it accepts is a fixed
// point that satisfies every rule.
func FuzzParseRecipients(f *testing.F) {
	for _, seed := range []string{
		"soc@acme.example",
		"a@x.example\x00A@X.EXAMPLE\x00b@x.example",
		"ops@Bücher.example",
		`"john doe"@acme.example`,
		`"a\"b"@acme.example`,
		"Bob <bob@acme.example>",
		"team: a@acme.example;",
		"a@acme.example\r\nBcc: b@x.example",
		"a@[192.0.2.1]",
		"jürgen@例え.テスト",
		"a@xn--bcher-kva.example",
		"",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, in string) {
		const max = 5
		list := strings.Split(in, "\x00")
		got, err := ParseRecipients(list, max)
		if err != nil {
			re, ok := errors.AsType[*RecipientError](err)
			require.Truef(t, ok, "ParseRecipients(%q) error = %#v; want a *RecipientError", list, err)
			require.Truef(t, re.Index >= 0 && re.Index < len(list) && re.Input == list[re.Index],
				"ParseRecipients(%q) error = %#v; want a *RecipientError naming an entry", list, err)
			require.Nilf(t, got, "ParseRecipients(%q) with an error", list)
			return
		}
		require.LessOrEqualf(t, len(got), max, "ParseRecipients(%q): number of addresses", list)
		seen := make(map[string]bool)
		for _, addr := range got {
			if !strings.HasPrefix(addr, `"`) {
				require.Falsef(t, strings.ContainsAny(addr, "<>,;"), "accepted %q holds a forbidden character", addr)
			}
			require.Falsef(t, strings.ContainsAny(addr, "\r\n"), "accepted %q holds CR or LF", addr)
			a, err := mail.ParseAddress(addr)
			require.NoErrorf(t, err, "accepted %q: mail.ParseAddress", addr)
			require.Emptyf(t, a.Name, "accepted %q: mail.ParseAddress; want a nameless address", addr)
			domain := addr[strings.LastIndexByte(addr, '@')+1:]
			require.Truef(t, domain == strings.ToLower(domain) && isASCII(domain), "accepted %q: domain %q is not lower-case ASCII", addr, domain)
			// The local part's case tells addresses apart (RFC 5321
			// section 2.4), so only equal addresses are duplicates.
			require.Falsef(t, seen[addr], "accepted list %q holds %q twice", got, addr)
			seen[addr] = true
		}
		again, err := ParseRecipients(got, max)
		require.NoErrorf(t, err, "ParseRecipients(%q)", got)
		require.Equalf(t, got, again, "ParseRecipients(%q); want the accepted list unchanged", got)
	})
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

func BenchmarkParseRecipients(b *testing.B) {
	list := []string{"soc@acme.example", "Ops@Bücher.example", `"john doe"@acme.example`, "alerts+edr@sub.acme.example"}
	b.ReportAllocs()
	for b.Loop() {
		_, err := ParseRecipients(list, 0)
		require.NoError(b, err)
	}
}

// TestParseRecipientsLocalPartCase: addresses that differ only in the case
// of the local part are two recipients, since RFC 5321 section 2.4 makes
// local parts case-sensitive; the domain's case does not matter. Before,
// "A@EXAMPLE.COM" was silently merged into "a@example.com".
func TestParseRecipientsLocalPartCase(t *testing.T) {
	t.Parallel()
	in := []string{"a@example.com", "A@EXAMPLE.COM", "a@Example.COM", "A@example.com"}
	got, err := ParseRecipients(in, 2)
	require.NoErrorf(t, err, "ParseRecipients(%q, 2)", in)
	assert.Equalf(t, []string{"a@example.com", "A@example.com"}, got, "ParseRecipients(%q, 2)", in)
}
