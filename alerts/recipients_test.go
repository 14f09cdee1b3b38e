package alerts

import (
	"errors"
	"net/mail"
	"reflect"
	"strconv"
	"strings"
	"testing"
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
				if err != nil || got != tt.want {
					t.Fatalf("ParseRecipient(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
				}
				// The normal form is a fixed point and a valid RFC 5322
				// address without a name.
				if again, err := ParseRecipient(got); err != nil || again != got {
					t.Errorf("ParseRecipient(%q) = %q, %v; want it unchanged", got, again, err)
				}
				if a, err := mail.ParseAddress(got); err != nil || a.Name != "" {
					t.Errorf("mail.ParseAddress(%q) = %v, %v; want a nameless address", got, a, err)
				}
				return
			}
			var re *RecipientError
			if !errors.As(err, &re) || !errors.Is(err, ErrInvalidRecipient) {
				t.Fatalf("ParseRecipient(%q) = %q, %v; want a *RecipientError wrapping ErrInvalidRecipient", tt.in, got, err)
			}
			if re.Index != -1 || re.Input != tt.in || re.Reason != tt.reason {
				t.Errorf("ParseRecipient(%q) error = %+v; want index -1, reason %q", tt.in, *re, tt.reason)
			}
			if got != "" {
				t.Errorf("ParseRecipient(%q) = %q with an error; want empty", tt.in, got)
			}
		})
	}
}

func TestParseRecipientsSomeDomainErrors(t *testing.T) {
	t.Parallel()
	// IDNA rejects these; the exact text is the idna package's, so only
	// the kind of error is checked.
	for _, in := range []string{"a@-acme.example", "a@ac_me.example", "a@acme..example", "a@xn--zz.example"} {
		if _, err := ParseRecipient(in); !errors.Is(err, ErrInvalidRecipient) || !strings.Contains(err.Error(), "domain") {
			t.Errorf("ParseRecipient(%q) error = %v; want ErrInvalidRecipient about the domain", in, err)
		}
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
			name: "duplicates dropped ignoring case, first spelling kept",
			in:   []string{"Ops@acme.example", "ops@ACME.example", " OPS@acme.example", `"ops"@acme.example`, "soc@acme.example"},
			want: []string{"Ops@acme.example", "soc@acme.example"},
		},
		{
			name: "duplicates do not count against the maximum",
			in:   []string{"a@x.example", "A@x.example", "b@x.example"},
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
				if err != nil || !reflect.DeepEqual(got, tt.want) {
					t.Fatalf("ParseRecipients(%q, %d) = %q, %v; want %q", tt.in, tt.max, got, err, tt.want)
				}
				return
			}
			if !errors.Is(err, tt.wantErr) || err.Error() != tt.wantMsg {
				t.Fatalf("ParseRecipients(%q, %d) error = %v; want %q (%v)", tt.in, tt.max, err, tt.wantMsg, tt.wantErr)
			}
			if got != nil {
				t.Errorf("ParseRecipients(%q, %d) = %q with an error; want nil", tt.in, tt.max, got)
			}
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
			var re *RecipientError
			if !errors.As(err, &re) || re.Index < 0 || re.Index >= len(list) || re.Input != list[re.Index] {
				t.Fatalf("ParseRecipients(%q) error = %#v; want a *RecipientError naming an entry", list, err)
			}
			if got != nil {
				t.Fatalf("ParseRecipients(%q) = %q with an error; want nil", list, got)
			}
			return
		}
		if len(got) > max {
			t.Fatalf("ParseRecipients(%q) = %d addresses; want at most %d", list, len(got), max)
		}
		seen := make(map[string]bool)
		for _, addr := range got {
			if strings.ContainsAny(addr, "\r\n<>,;") && !strings.HasPrefix(addr, `"`) {
				t.Fatalf("accepted %q holds a forbidden character", addr)
			}
			if strings.ContainsAny(addr, "\r\n") {
				t.Fatalf("accepted %q holds CR or LF", addr)
			}
			a, err := mail.ParseAddress(addr)
			if err != nil || a.Name != "" {
				t.Fatalf("accepted %q: mail.ParseAddress = %v, %v; want a nameless address", addr, a, err)
			}
			domain := addr[strings.LastIndexByte(addr, '@')+1:]
			if domain != strings.ToLower(domain) || !isASCII(domain) {
				t.Fatalf("accepted %q: domain %q is not lower-case ASCII", addr, domain)
			}
			key := strings.ToLower(addr)
			if seen[key] {
				t.Fatalf("accepted list %q holds %q twice", got, addr)
			}
			seen[key] = true
		}
		again, err := ParseRecipients(got, max)
		if err != nil || !reflect.DeepEqual(again, got) {
			t.Fatalf("ParseRecipients(%q) = %q, %v; want the accepted list unchanged", got, again, err)
		}
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
		if _, err := ParseRecipients(list, 0); err != nil {
			b.Fatal(err)
		}
	}
}
