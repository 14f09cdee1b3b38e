package redisstore_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/alertmail/alertmail/redisstore"
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
		{"negative DigestTTL", redisstore.Config{Client: rdb, DigestTTL: -1}, "Config.DigestTTL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, err := redisstore.New(tt.cfg)
			switch {
			case tt.wantErr == "" && (err != nil || st == nil):
				t.Fatalf("New(%+v) = %v, %v; want a store", tt.cfg, st, err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("New(%+v) error = %v; want one containing %q", tt.cfg, err, tt.wantErr)
			case err != nil && !strings.HasPrefix(err.Error(), "redisstore: "):
				t.Errorf("error %q lacks the package prefix", err)
			}
		})
	}
	if _, err := redisstore.New(redisstore.Config{}); !errors.Is(err, redisstore.ErrNoClient) {
		t.Errorf("New(Config{}) = %v; want ErrNoClient", err)
	}
}
