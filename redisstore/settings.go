package redisstore

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/redis/go-redis/v9"

	"github.com/alertmail/alertmail/alerts"
)

var (
	//go:embed lua/settings_load.lua
	settingsLoadLua string
	//go:embed lua/settings_save.lua
	settingsSaveLua string
)

// SettingsStore is an [alerts.SettingsStore] on Redis: each tenant's
// settings are one hash (version and JSON document) under
// "<prefix>:{<tenant>}:settings", and Save is a compare-and-swap on the
// version done by one Lua script, so that of several replicas saving from
// the same version exactly one wins and every other gets an
// *[alerts.ConflictError].
//
// The key lives [Config.SettingsTTL] after the last Save or Load.
//
// A SettingsStore is safe for concurrent use. Get one from
// [Store.Settings].
type SettingsStore struct {
	s       *Store
	catalog *alerts.Catalog
	load    *redis.Script
	save    *redis.Script
}

var _ alerts.SettingsStore = (*SettingsStore)(nil)

// Settings returns the store of tenants' settings, which follow catalog;
// nil means [alerts.DefaultCatalog]. Stored settings always load, read by
// [alerts.Catalog.RestoreSettings], also where the catalog changed since
// they were saved (a replica deployed with another catalog, a category
// removed, a lower recipient maximum): the categories the catalog lacks
// are dropped, and its limits apply to new saves only.
func (s *Store) Settings(catalog *alerts.Catalog) *SettingsStore {
	if catalog == nil {
		catalog = alerts.DefaultCatalog()
	}
	return &SettingsStore{
		s:       s,
		catalog: catalog,
		load:    redis.NewScript(settingsLoadLua),
		save:    redis.NewScript(settingsSaveLua),
	}
}

// Catalog returns the catalog the store's settings follow.
func (st *SettingsStore) Catalog() *alerts.Catalog { return st.catalog }

// Load returns the tenant's current settings, or the catalog's defaults at
// Version 0 if the tenant never saved any (or its settings expired). It
// fails with an *[OpError] when Redis does, and with the *[alerts.TenantError]
// of [alerts.ValidateTenant] (wrapping [alerts.ErrInvalidTenant]) for a
// tenant id it refuses, the empty id included, without asking Redis.
func (st *SettingsStore) Load(ctx context.Context, tenant string) (*alerts.Settings, error) {
	key, err := st.key(tenant)
	if err != nil {
		return nil, err
	}
	v, err := st.s.run(ctx, "settings load", st.load, []string{key}, ms(st.s.settingsTTL))
	if err != nil {
		return nil, err
	}
	r, _ := v.([]any)
	if len(r) == 0 {
		return st.catalog.Defaults(tenant), nil
	}
	if len(r) != 2 {
		return nil, fmt.Errorf("redisstore: settings load: unexpected reply %v", v)
	}
	ver, _ := r[0].(string)
	doc, _ := r[1].(string)
	set, err := st.catalog.RestoreSettings([]byte(doc))
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
func (st *SettingsStore) Save(ctx context.Context, next *alerts.Settings) (*alerts.Settings, error) {
	if next == nil {
		return nil, alerts.ErrNoTenant
	}
	key, err := st.key(next.Tenant) // the tenant rule: alerts.ValidateTenant
	if err != nil {
		return nil, err
	}
	doc := next.Document()
	doc.Version = next.Version + 1
	stored, err := st.catalog.NewSettings(doc)
	if err != nil {
		return nil, err
	}
	data, err := json.Marshal(stored.Document())
	if err != nil {
		return nil, fmt.Errorf("redisstore: encoding settings of tenant %q: %w", next.Tenant, err)
	}
	v, err := st.s.run(ctx, "settings save", st.save, []string{key},
		strconv.FormatUint(next.Version, 10), strconv.FormatUint(doc.Version, 10), data, ms(st.s.settingsTTL))
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

func (st *SettingsStore) key(tenant string) (string, error) {
	base, err := st.s.keys.tenant(tenant)
	if err != nil {
		return "", err
	}
	return base + ":settings", nil
}
