package dkimpy_test

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/alertmail/alertmail/internal/dkimpy"
	"github.com/alertmail/alertmail/mailauth/dkim"
)

// TestVerify: a message signed here passes with its key served, and fails
// once changed or when dkimpy cannot find the key.
func TestVerify(t *testing.T) {
	t.Parallel()
	_, key, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	s, err := dkim.NewSigner(dkim.SignerConfig{Domain: "example.com", Selector: "s1", Key: key})
	require.NoError(t, err)
	msg := "From: a@example.com\r\nTo: b@example.net\r\nSubject: hi\r\n\r\nhello\r\n"
	var signed bytes.Buffer
	require.NoError(t, s.Sign(&signed, strings.NewReader(msg)))
	name, record := s.DNSRecord()
	records := map[string]string{name: record}

	out, err := dkimpy.Verify(t, signed.Bytes(), records)
	require.NoErrorf(t, err, "Verify(signed) = %q", out)
	assert.Equal(t, "pass "+name, strings.TrimSpace(out), "Verify(signed)")

	tampered := bytes.Replace(signed.Bytes(), []byte("hello"), []byte("hellO"), 1)
	out, err = dkimpy.Verify(t, tampered, records)
	assert.Errorf(t, err, "Verify(tampered) = %q; want a failure", out)
	assert.Truef(t, strings.HasPrefix(out, "fail"), "Verify(tampered) = %q; want fail", out)

	out, err = dkimpy.Verify(t, signed.Bytes(), nil)
	assert.Errorf(t, err, "Verify(no key served) = %q; want a failure", out)
}
