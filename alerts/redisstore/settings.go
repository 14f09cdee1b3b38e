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
// fails with an *[OpError] when Redis does, and with the *[alerts.TenantError]
// of [alerts.ValidateTenant] (wrapping [alerts.ErrInvalidTenant]) for a
// tenant id it refuses, the empty id included, without asking Redis.
// Stored settings are read by [alerts.Catalog.RestoreSettings], so they
// load under a catalog that changed since they were saved (see
// [Config.Catalog]).
func (s *Store) Load(ctx context.Context, tenant string) (*alerts.Settings, error) {
	key, err := s.settingsKey(tenant)
	if err != nil {
		return nil, err
	}
	r, err := s.conn.Run(ctx, "settings load", s.load, []string{key}, redisscript.Millis(s.settingsTTL))
	if err != nil {
		return nil, err
	}
	a, err := r.Array(0)
	if err != nil {
		return nil, err
	}
	if a.Len() == 0 {
		return s.catalog.Defaults(tenant), nil
	}
	return s.decodeSettings(tenant, &a)
}

// The elements of the reply of the settings scripts: {version, document}
// of settings_load.lua, {stored, version} of settings_save.lua.
const (
	loadVersion  = iota // the stored version, in decimal
	loadDocument        // the stored JSON document
	loadLen
)
const (
	saveStored  = iota // 1 when stored, 0 on a conflict
	saveVersion        // the version now stored, in decimal
	saveLen
)

// decodeSettings decodes a reply of settings_load.lua that holds tenant's
// settings, and checks that the document and the hash agree.
func (s *Store) decodeSettings(tenant string, a *redisscript.Array) (*alerts.Settings, error) {
	if a.Len() != loadLen {
		return nil, fmt.Errorf("redisstore: settings load: the reply has %d elements; want %d", a.Len(), loadLen)
	}
	ver := a.Text(loadVersion, "the version")
	doc := a.Text(loadDocument, "the document")
	if err := a.Err(); err != nil {
		return nil, err
	}
	set, err := s.catalog.RestoreSettings([]byte(doc))
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
	if next == nil {
		return nil, alerts.ErrNoTenant
	}
	key, err := s.settingsKey(next.Tenant) // the tenant rule: alerts.ValidateTenant
	if err != nil {
		return nil, err
	}
	set, data, err := s.nextVersion(next)
	if err != nil {
		return nil, err
	}
	r, err := s.conn.Decide(ctx, "settings save", s.save, []string{key},
		strconv.FormatUint(next.Version, 10), strconv.FormatUint(set.Version, 10), data, redisscript.Millis(s.settingsTTL))
	if err != nil {
		return nil, err
	}
	stored, cur, err := decodeSaved(r)
	if err != nil {
		return nil, err
	}
	if !stored {
		return nil, &alerts.ConflictError{Tenant: next.Tenant, Base: next.Version, Current: cur}
	}
	return set, nil
}

// nextVersion returns the settings Save stores for next, validated against
// the store's catalog at next.Version+1, and their JSON document.
func (s *Store) nextVersion(next *alerts.Settings) (*alerts.Settings, []byte, error) {
	doc := next.Document()
	doc.Version = next.Version + 1
	set, err := s.catalog.NewSettings(doc)
	if err != nil {
		return nil, nil, err
	}
	data, err := json.Marshal(set.Document())
	if err != nil {
		return nil, nil, fmt.Errorf("redisstore: encoding settings of tenant %q: %w", next.Tenant, err)
	}
	return set, data, nil
}

// decodeSaved decodes the reply of settings_save.lua: whether the new
// settings were stored, and the version stored now (the new one, or on a
// conflict the one that made it).
func decodeSaved(r redisscript.Reply) (stored bool, version uint64, err error) {
	a, err := r.Array(saveLen)
	if err != nil {
		return false, 0, err
	}
	flag := a.Int(saveStored, "stored")
	ver := a.Text(saveVersion, "the version")
	if err := a.Err(); err != nil {
		return false, 0, err
	}
	if flag != 0 && flag != 1 {
		return false, 0, fmt.Errorf("redisstore: settings save: stored is %d; want 0 or 1", flag)
	}
	version, err = strconv.ParseUint(ver, 10, 64)
	if err != nil {
		return false, 0, fmt.Errorf("redisstore: settings save: the stored version %q: %w", ver, err)
	}
	return flag == 1, version, nil
}

// settingsKey returns the key of tenant's settings.
func (s *Store) settingsKey(tenant string) (string, error) {
	base, err := s.conn.Keys.Tenant(tenant)
	if err != nil {
		return "", err
	}
	return base + ":settings", nil
}
