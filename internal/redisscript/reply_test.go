package redisscript_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/alertmail/alertmail/internal/redisscript"
)

func TestReplyInt(t *testing.T) {
	t.Parallel()
	n, err := redisscript.NewReply("op", int64(7)).Int()
	require.NoError(t, err, "Int() of 7")
	assert.EqualValuesf(t, 7, n, "Int() = %d; want 7", n)

	_, err = redisscript.NewReply("limiter drop", "7").Int()
	require.Error(t, err, `Int() of "7"`)
	assert.Equalf(t, `redisstore: limiter drop: the reply is string 7; want an integer`, err.Error(), "Int() of %q: error = %q", "7", err)
}

func TestReplyArray(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		v       any
		min     int
		wantErr string
	}{
		{"array", []any{int64(1)}, 1, ""},
		{"empty array", []any{}, 0, ""},
		{"too short", []any{int64(1)}, 2, "redisstore: op: the reply has 1 elements; want at least 2"},
		{"not an array", int64(1), 0, "redisstore: op: the reply is int64 1; want an array"},
		{"nil", nil, 0, "redisstore: op: the reply is <nil> <nil>; want an array"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := redisscript.NewReply("op", tt.v).Array(tt.min)
			if tt.wantErr == "" {
				require.NoErrorf(t, err, "Array(%d) of %#v", tt.min, tt.v)
				assert.Equalf(t, len(tt.v.([]any)), a.Len(), "Array(%d) of %#v: Len() = %d", tt.min, tt.v, a.Len())
				return
			}
			require.Errorf(t, err, "Array(%d) of %#v", tt.min, tt.v)
			assert.Equalf(t, tt.wantErr, err.Error(), "Array(%d) of %#v: error = %q; want %q", tt.min, tt.v, err, tt.wantErr)
		})
	}
}

func TestArrayElements(t *testing.T) {
	t.Parallel()
	a, err := redisscript.NewReply("op", []any{int64(1), "two", nil, "x", "y"}).Array(5)
	require.NoError(t, err)
	assert.EqualValues(t, 1, a.Int(0, "one"), "Int(0)")
	assert.Equal(t, "two", a.Text(1, "two"), "Text(1)")
	s, ok := a.OptionalText(2, "three")
	assert.Falsef(t, ok, "OptionalText(2) of nil = %q, true; want false", s)
	s, ok = a.OptionalText(1, "two")
	assert.Truef(t, ok && s == "two", "OptionalText(1) = %q, %v; want %q, true", s, ok, "two")
	assert.Equal(t, []string{"x", "y"}, a.Texts(3, "letter"), "Texts(3)")
	assert.Nil(t, a.Texts(5, "letter"), "Texts(5) past the end")
	require.NoError(t, a.Err(), "Err() after reads of the right types")
}

// TestArrayFirstErrorSticks checks that the first element of a wrong type
// is the error reported, and that later reads return zero values.
func TestArrayFirstErrorSticks(t *testing.T) {
	t.Parallel()
	a, err := redisscript.NewReply("limiter take", []any{"x", int64(2), "z"}).Array(3)
	require.NoError(t, err)
	assert.Zero(t, a.Int(0, "leased"), "Int(0) of a string")
	assert.Zero(t, a.Int(1, "seconds"), "Int(1) after an error")
	assert.Nil(t, a.Texts(2, "event"), "Texts(2) after an error")
	require.Error(t, a.Err())
	assert.Equal(t, "redisstore: limiter take: leased is string x; want an integer", a.Err().Error())

	a, err = redisscript.NewReply("op", []any{"a", int64(5)}).Array(2)
	require.NoError(t, err)
	assert.Nil(t, a.Texts(0, "event"), "Texts(0) with an integer among them")
	assert.EqualError(t, a.Err(), "redisstore: op: event is int64 5; want a string")
	_, ok := a.OptionalText(0, "event")
	assert.False(t, ok, "OptionalText after an error")
}
