package redisstore

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/alertmail/alertmail/alerts"
	"github.com/alertmail/alertmail/internal/redisscript"
)

var (
	//go:embed lua/settings_load.lua
	settingsLoadLua string
	//go:embed lua/settings_save.lua
	settingsSaveLua string
)

// Catalog returns the catalog the store's settings follow.
func (s *Store) Catalog() *alerts.Catalog { return s.catalog }

// Load returns the tenant's current settings, or the catalog's defaults at
// Version 0 if the tenant never saved any (or its settings expired). It
// fails with an *[OpError] when Redis does, and with an error wrapping
// [ErrInvalidKey] for an empty or over-long tenant id.
func (s *Store) Load(ctx context.Context, tenant string) (*alerts.Settings, error) {
	key, err := s.settingsKey(tenant)
	if err != nil {
		return nil, err
	}
	v, err := redisscript.Run(ctx, s.client, "settings load", s.load, []string{key}, ms(s.settingsTTL))
	if err != nil {
		return nil, err
	}
	r, _ := v.([]any)
	if len(r) == 0 {
		return s.catalog.Defaults(tenant), nil
	}
	if len(r) != 2 {
		return nil, fmt.Errorf("redisstore: settings load: unexpected reply %v", v)
	}
	ver, _ := r[0].(string)
	doc, _ := r[1].(string)
	set, err := s.catalog.ParseSettings([]byte(doc))
	if err != nil {
		return nil, fmt.Errorf("redisstore: settings of tenant %q: %w", tenant, err)
	}
	if set.Tenant != tenant || strconv.FormatUint(set.Version, 10) != ver {
		return nil, fmt.Errorf("redisstore: settings of tenant %q: stored document says tenant %q version %d, hash says version %s",
			tenant, set.Tenant, set.Version, ver)
	}
	return set, nil
}

// Save stores next if the tenant's stored settings are still at
// next.Version; see [alerts.SettingsStore]. next is re-validated against
// the store's catalog first. On a conflict nothing is written and the
// error is an *[alerts.ConflictError] naming both versions. On an
// *[OpError] the save may or may not have happened (the reply was lost):
// Load to find out.
func (s *Store) Save(ctx context.Context, next *alerts.Settings) (*alerts.Settings, error) {
	if next == nil || next.Tenant == "" {
		return nil, alerts.ErrNoTenant
	}
	key, err := s.settingsKey(next.Tenant)
	if err != nil {
		return nil, err
	}
	doc := next.Document()
	doc.Version = next.Version + 1
	stored, err := s.catalog.NewSettings(doc)
	if err != nil {
		return nil, err
	}
	data, err := json.Marshal(stored.Document())
	if err != nil {
		return nil, fmt.Errorf("redisstore: encoding settings of tenant %q: %w", next.Tenant, err)
	}
	v, err := redisscript.Run(ctx, s.client, "settings save", s.save, []string{key},
		strconv.FormatUint(next.Version, 10), strconv.FormatUint(doc.Version, 10), data, ms(s.settingsTTL))
	if err != nil {
		return nil, err
	}
	r, _ := v.([]any)
	if len(r) != 2 {
		return nil, fmt.Errorf("redisstore: settings save: unexpected reply %v", v)
	}
	ok, _ := r[0].(int64)
	ver, _ := r[1].(string)
	if ok == 1 {
		return stored, nil
	}
	cur, err := strconv.ParseUint(ver, 10, 64)
	if err != nil {
		return nil, fmt.Errorf("redisstore: settings of tenant %q: stored version %q: %w", next.Tenant, ver, err)
	}
	return nil, &alerts.ConflictError{Tenant: next.Tenant, Base: next.Version, Current: cur}
}

// settingsKey returns the key of tenant's settings.
func (s *Store) settingsKey(tenant string) (string, error) {
	base, err := s.keys.Tenant(tenant)
	if err != nil {
		return "", err
	}
	return base + ":settings", nil
}
