package alerts

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
)

var _ SettingsStore = (*Dispatcher)(nil)

// Load returns the tenant's current settings from the dispatcher's
// [DispatcherConfig.Settings]. With [Dispatcher.Save] (and
// [DispatcherConfig.Saver]) it makes a Dispatcher a [SettingsStore], which a host hands to its settings screen or API in
// place of the store itself, so that every save takes effect on the queued
// alerts at once.
func (d *Dispatcher) Load(ctx context.Context, tenant string) (*Settings, error) {
	if err := ValidateTenant(tenant); err != nil {
		return nil, err
	}
	return d.settings.Load(ctx, tenant)
}

// Save saves next through [DispatcherConfig.Saver] (an error without one),
// with the store's optimistic versioning, and makes the save take effect
// on the alerts already queued: "once saved, a disabled category sends
// nothing more, immediately".
//
//   - Right after the save, the pending events of every category that is
//     off in the saved settings are dropped: those the save turned off, and
//     any an earlier save made elsewhere left behind. So a category turned
//     off and then on again, with no event in between, does not send what
//     was queued before it was turned off.
//   - Before the save, the pending events of every category the save turns
//     back on are dropped: they were queued before the category was turned
//     off (by a save that did not go through a Dispatcher, say) and must not
//     be sent once it is on again.
//
// The result is the stored settings, as [SettingsStore.Save] returns them.
// A refused save (a *[ConflictError]) or a store error is returned as the
// store gave it, and nothing was saved. When the pending events of a
// category to be turned on cannot be dropped, nothing is saved either: the
// error names the category and the host may try again.
//
// When the save succeeded but dropping afterwards failed, Save returns the
// stored settings and a *[DropError]: the save took effect and is not
// undone, and the events it names may still be queued (until the next
// Dispatch or Flush of their key finds the category off, or a later Save or
// [Dispatcher.DropDisabled] drops them). The drops run even if ctx is done
// once the settings are saved.
//
// The drops are separate store calls around the save, not one atomic step
// with it (the [LimitStore] and the [SettingsStore] are separate stores).
// Only saves racing each other show it: an event dispatched for a category
// that another save has just turned on may be dropped by this one, as it
// turns the category off, or as it turns it on while being refused.
func (d *Dispatcher) Save(ctx context.Context, next *Settings) (*Settings, error) {
	if d.saver == nil {
		return nil, errors.New("alerts: Dispatcher.Save: DispatcherConfig.Saver is nil")
	}
	if next == nil {
		return nil, ErrNoTenant
	}
	if err := ValidateTenant(next.Tenant); err != nil {
		return nil, err
	}
	cur, err := d.settings.Load(ctx, next.Tenant)
	if err != nil {
		return nil, fmt.Errorf("alerts: loading the settings of tenant %q before saving: %w", next.Tenant, err)
	}
	// With another version stored, the save is refused: let the store say
	// so, and drop nothing for a category it does not turn on.
	if cur.Version == next.Version {
		var on []CategoryID
		for _, f := range Diff(cur, next).Flips {
			if f.Enabled {
				on = append(on, f.Category.ID)
			}
		}
		if _, failed, err := d.dropKeys(ctx, next.Tenant, on); err != nil {
			return nil, fmt.Errorf("alerts: settings of tenant %q not saved: the pending events of %s, queued before they were turned off, could not be dropped before turning them on: %w",
				next.Tenant, joinIDs(failed), err)
		}
	}
	saved, err := d.saver.Save(ctx, next)
	if err != nil {
		return nil, err
	}
	if _, err := d.dropDisabled(context.WithoutCancel(ctx), saved); err != nil {
		return saved, err
	}
	return saved, nil
}

// DropDisabled loads tenant's current settings and drops the pending events
// of every category that is off in them, returning how many it dropped.
//
// [Dispatcher.Save] does this after every save. A host that saves settings
// another way (straight through its [SettingsStore], or from a process
// without a Dispatcher) calls DropDisabled right after each such save, on
// any replica, so that the events queued for a category it turned off are
// not sent if the category is turned on again before the next Dispatch or
// Flush of its key. A host also calls it to retry after a *[DropError].
//
// If some drops fail, the others are still made, and the error is a
// *[DropError] naming the categories whose events may remain.
func (d *Dispatcher) DropDisabled(ctx context.Context, tenant string) (int, error) {
	if err := ValidateTenant(tenant); err != nil {
		return 0, err
	}
	set, err := d.settings.Load(ctx, tenant)
	if err != nil {
		return 0, fmt.Errorf("alerts: loading the settings of tenant %q: %w", tenant, err)
	}
	return d.dropDisabled(ctx, set)
}

// dropDisabled drops the pending events of every category of set's catalog
// that is off in set.
func (d *Dispatcher) dropDisabled(ctx context.Context, set *Settings) (int, error) {
	var off []CategoryID
	if set.catalog != nil {
		for i, cat := range set.catalog.cats {
			if !set.on[i] {
				off = append(off, cat.ID)
			}
		}
	}
	n, failed, err := d.dropKeys(ctx, set.Tenant, off)
	if err != nil {
		return n, &DropError{Tenant: set.Tenant, Version: set.Version, Categories: failed, Err: err}
	}
	return n, nil
}

// dropKeys drops the pending events of tenant's categories ids, going on
// after a failure. It returns how many events it dropped, and the
// categories that failed with their errors joined.
func (d *Dispatcher) dropKeys(ctx context.Context, tenant string, ids []CategoryID) (int, []CategoryID, error) {
	var (
		n      int
		failed []CategoryID
		errs   []error
	)
	for _, id := range ids {
		key := LimitKey{Tenant: tenant, Category: id}
		m, err := d.store.Drop(ctx, key, d.limit, d.clock.Now())
		if err != nil {
			d.log.LogAttrs(ctx, slog.LevelError, "alerts: pending events of a disabled category not dropped", slog.String("key", key.String()), slog.Any("error", err))
			failed = append(failed, id)
			errs = append(errs, fmt.Errorf("%v: %w", key, err))
			continue
		}
		n += m
	}
	return n, failed, errors.Join(errs...)
}

// A DropError reports that the pending events of some disabled categories
// could not be dropped, after the settings that turn them off were saved
// ([Dispatcher.Save]) or loaded ([Dispatcher.DropDisabled]). The settings
// are saved all the same; the events of Categories may still be queued,
// until the next Dispatch or Flush of their key finds the category off, or
// until [Dispatcher.DropDisabled] is called again and succeeds.
type DropError struct {
	Tenant     string       // the tenant whose settings were saved
	Version    uint64       // the version of the settings that turn Categories off
	Categories []CategoryID // the categories whose pending events may remain, in catalog order
	Err        error        // the store's errors, one per category
}

// Error describes the problem, naming the tenant, the version and the
// categories.
func (e *DropError) Error() string {
	return fmt.Sprintf("alerts: settings of tenant %q version %d are saved, but the pending events of its disabled categories %s were not dropped: %v",
		e.Tenant, e.Version, joinIDs(e.Categories), e.Err)
}

// Unwrap returns the store's errors.
func (e *DropError) Unwrap() error { return e.Err }

// joinIDs lists ids for an error message: "threat, active-threat".
func joinIDs(ids []CategoryID) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = string(id)
	}
	return strings.Join(s, ", ")
}
