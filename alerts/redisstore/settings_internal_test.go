package redisstore

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/alertmail/alertmail/internal/redisscript"
)

// TestDecodeSaved decodes replies of settings_save.lua and refuses
// replies of another shape.
func TestDecodeSaved(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		reply       any
		wantStored  bool
		wantVersion uint64
		wantErr     string
	}{
		{"stored", []any{int64(1), "4"}, true, 4, ""},
		{"conflict", []any{int64(0), "18446744073709551615"}, false, 18446744073709551615, ""},
		{"not an array", "OK", false, 0, "the reply is string OK; want an array"},
		{"too short", []any{int64(1)}, false, 0, "the reply has 1 elements; want at least 2"},
		{"flag as text", []any{"1", "4"}, false, 0, "stored is string 1; want an integer"},
		{"version as integer", []any{int64(1), int64(4)}, false, 0, "the version is int64 4; want a string"},
		{"flag neither 0 nor 1", []any{int64(2), "4"}, false, 0, "stored is 2; want 0 or 1"},
		{"version not a number", []any{int64(0), "x"}, false, 0, `the stored version "x"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stored, version, err := decodeSaved(redisscript.NewReply("settings save", tt.reply))
			if tt.wantErr != "" {
				require.Errorf(t, err, "decodeSaved(%#v)", tt.reply)
				assert.Containsf(t, err.Error(), tt.wantErr, "decodeSaved(%#v) error = %q; want it to contain %q", tt.reply, err, tt.wantErr)
				return
			}
			require.NoErrorf(t, err, "decodeSaved(%#v)", tt.reply)
			assert.Truef(t, stored == tt.wantStored && version == tt.wantVersion,
				"decodeSaved(%#v) = %v, %d; want %v, %d", tt.reply, stored, version, tt.wantStored, tt.wantVersion)
		})
	}
}
