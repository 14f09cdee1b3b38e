package redisstore_test

import (
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/alertmail/alertmail/alerts"
	"github.com/alertmail/alertmail/alerts/redisstore"
)

func TestNewConfig(t *testing.T) {
	t.Parallel()
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"}) // never dialled
	t.Cleanup(func() { rdb.Close() })
	tests := []struct {
		name    string
		cfg     redisstore.Config
		wantErr string // substring; "" means success
	}{
		{"zero but the client", redisstore.Config{Client: rdb}, ""},
		{"no client", redisstore.Config{}, "Config.Client is nil"},
		{"prefix with a brace", redisstore.Config{Client: rdb, Prefix: "a{b"}, "invalid prefix"},
		{"prefix with a glob", redisstore.Config{Client: rdb, Prefix: "a*"}, "invalid prefix"},
		{"prefix too long", redisstore.Config{Client: rdb, Prefix: strings.Repeat("p", 65)}, "longer than 64"},
		{"negative SettingsTTL", redisstore.Config{Client: rdb, SettingsTTL: -time.Hour}, "Config.SettingsTTL"},
		{"sub-millisecond PendingTTL", redisstore.Config{Client: rdb, PendingTTL: time.Microsecond}, "Config.PendingTTL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, err := redisstore.New(tt.cfg)
			if tt.wantErr == "" {
				require.NoErrorf(t, err, "New(%+v)", tt.cfg)
				assert.NotNilf(t, st, "New(%+v) = nil; want a store", tt.cfg)
				return
			}
			require.Errorf(t, err, "New(%+v); want an error containing %q", tt.cfg, tt.wantErr)
			assert.Containsf(t, err.Error(), tt.wantErr, "New(%+v) error = %v; want one containing %q", tt.cfg, err, tt.wantErr)
			assert.Truef(t, strings.HasPrefix(err.Error(), "redisstore: "), "error %q lacks the package prefix", err)
		})
	}
	_, err := redisstore.New(redisstore.Config{})
	assert.ErrorIsf(t, err, redisstore.ErrNoClient, "New(Config{}) = %v; want ErrNoClient", err)
}

func TestNewCatalog(t *testing.T) {
	t.Parallel()
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"}) // never dialled
	t.Cleanup(func() { rdb.Close() })
	st, err := redisstore.New(redisstore.Config{Client: rdb})
	require.NoError(t, err)
	assert.Equalf(t, alerts.BuiltinCategories(), st.Catalog().Categories(),
		"Catalog().Categories() of a zero Config.Catalog = %v; want the built-in ones", st.Catalog().Categories())
	cat, err := alerts.NewCatalog(alerts.CatalogConfig{Categories: []alerts.Category{{ID: "billing", Name: "Billing Alerts"}}})
	require.NoError(t, err)
	st, err = redisstore.New(redisstore.Config{Client: rdb, Catalog: cat})
	require.NoError(t, err)
	assert.Samef(t, cat, st.Catalog(), "Catalog() = %p; want Config.Catalog %p", st.Catalog(), cat)
}
