package alerts

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// A SettingsStore keeps each tenant's [Settings]. Implementations must be
// safe for concurrent use, and several replicas may share one (see the
// alerts/redisstore package).
type SettingsStore interface {
	// Load returns the tenant's current settings. A tenant that never saved
	// any gets its catalog's defaults ([Catalog.Defaults]) at Version 0, not
	// an error. Saved settings always load, also under a catalog changed
	// since (a store that persists documents reads them with
	// [Catalog.RestoreSettings]). A tenant id that [ValidateTenant]
	// refuses, the empty one included, is its error, and the store does
	// nothing. The result is shared: callers must not modify it.
	Load(ctx context.Context, tenant string) (*Settings, error)

	// Save stores next as the new settings of next.Tenant, atomically and
	// only if the stored settings are still at next.Version, the version
	// next was drafted from (see [Draft.Settings]). It returns the stored
	// settings, whose Version is next.Version+1. Nil settings are
	// [ErrNoTenant]; a next.Tenant that [ValidateTenant] refuses is its
	// error (which for the empty id matches ErrNoTenant too).
	//
	// If the stored version differs, someone else saved in between: Save
	// stores nothing and returns a *[ConflictError], which errors.Is
	// [ErrConflict]. The caller loads again, re-applies its edit and asks
	// the user. A store backed by a database performs the compare and the
	// write as one server-side operation.
	Save(ctx context.Context, next *Settings) (*Settings, error)
}

// ErrConflict means a save was based on a version of the settings that is
// no longer current. A [ConflictError] wraps it.
var ErrConflict = errors.New("alerts: settings changed since they were loaded")

// A ConflictError reports a save refused by optimistic versioning: the
// draft was based on version Base but the store holds version Current.
// Nothing was written.
type ConflictError struct {
	Tenant  string // the tenant whose settings were saved
	Base    uint64 // the version the rejected save was based on
	Current uint64 // the version the store holds
}

// Error describes the problem, naming the input.
func (e *ConflictError) Error() string {
	return fmt.Sprintf("alerts: settings of tenant %q changed since they were loaded: the save was based on version %d but version %d is stored",
		e.Tenant, e.Base, e.Current)
}

// Unwrap returns [ErrConflict].
func (e *ConflictError) Unwrap() error { return ErrConflict }

// ErrNoTenant means settings were saved without a tenant (or nil settings
// were saved). The *[TenantError] of the empty tenant id matches it too.
var ErrNoTenant = errors.New("alerts: settings have no tenant")

// MemorySettingsStore is a [SettingsStore] in memory, for a single process;
// it is the default store. Load returns the stored snapshot itself, so the
// "is this category on" check on the sending path costs a map lookup and
// no allocation. For that, the first Load of a tenant that never saved
// settings keeps its defaults snapshot (about 100 bytes) for later calls:
// hosts should load only tenant ids they know, not ids from untrusted
// input.
//
// A MemorySettingsStore is safe for concurrent use. Create one with
// [NewMemorySettingsStore]; the zero value is not usable.
type MemorySettingsStore struct {
	catalog *Catalog
	// tenants maps a tenant to its current *Settings. sync.Map suits a
	// read-mostly map, and its CompareAndSwap makes Save a true
	// compare-and-swap without a store-wide lock.
	tenants sync.Map
}

// NewMemorySettingsStore returns an empty store whose settings follow
// catalog; nil means [DefaultCatalog].
func NewMemorySettingsStore(catalog *Catalog) *MemorySettingsStore {
	if catalog == nil {
		catalog = DefaultCatalog()
	}
	return &MemorySettingsStore{catalog: catalog}
}

// Catalog returns the catalog the store's settings follow.
func (m *MemorySettingsStore) Catalog() *Catalog { return m.catalog }

// Load returns the tenant's current settings, or the catalog's defaults at
// Version 0 if the tenant never saved any. It fails only when ctx is done
// or [ValidateTenant] refuses the tenant id.
func (m *MemorySettingsStore) Load(ctx context.Context, tenant string) (*Settings, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if v, ok := m.tenants.Load(tenant); ok {
		return v.(*Settings), nil // only valid ids are stored
	}
	if err := ValidateTenant(tenant); err != nil {
		return nil, err
	}
	v, _ := m.tenants.LoadOrStore(tenant, m.catalog.Defaults(tenant))
	return v.(*Settings), nil
}

// Save stores next if the tenant's settings are still at next.Version; see
// [SettingsStore.Save]. next is re-validated against the store's catalog
// (a category it does not know is an error wrapping [ErrUnknownCategory])
// and copied, so the caller keeps no handle on the stored snapshot.
func (m *MemorySettingsStore) Save(ctx context.Context, next *Settings) (*Settings, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if next == nil {
		return nil, ErrNoTenant
	}
	if err := ValidateTenant(next.Tenant); err != nil {
		return nil, err
	}
	doc := next.Document()
	doc.Version = next.Version + 1
	stored, err := m.catalog.NewSettings(doc)
	if err != nil {
		return nil, err
	}
	// Each turn of the loop either returns or observes another writer's
	// change: a save (the next turn reports the conflict) or, at most once,
	// a Load that cached the defaults.
	for {
		cur, ok := m.tenants.Load(next.Tenant)
		if !ok {
			if next.Version != 0 {
				return nil, &ConflictError{Tenant: next.Tenant, Base: next.Version, Current: 0}
			}
			if _, loaded := m.tenants.LoadOrStore(next.Tenant, stored); !loaded {
				return stored, nil
			}
			continue
		}
		if v := cur.(*Settings).Version; v != next.Version {
			return nil, &ConflictError{Tenant: next.Tenant, Base: next.Version, Current: v}
		}
		if m.tenants.CompareAndSwap(next.Tenant, cur, stored) {
			return stored, nil
		}
	}
}
