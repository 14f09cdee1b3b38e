package digest

import (
	"context"
	"errors"
)

// Append adds items straight to the pending lists of their tenants in
// store, in order, one [Store.Append] per tenant, and returns once the
// store holds them: unlike items buffered by a [Collector], they survive a
// crash of the process right after. It is the durable way in, for a host
// that cannot afford to lose what a collector holds between flushes; it
// costs a store call per call (per tenant), where a collector batches.
//
// Every item is checked first: if one lacks a Tenant or a Time, nothing is
// appended and the error wraps [ErrInvalidItem], naming the field. The
// items of a tenant whose append fails are not in the store (each tenant's
// append is atomic); the error joins a [*FlushError] per such tenant, and
// the other tenants' items are in. To retry, pass again the items of the
// tenants named, not the whole batch, or the others would be pending twice
// (their notification still reported once, with its count doubled).
//
// Append is safe for concurrent use if store is, as every Store must be.
func Append(ctx context.Context, store Store, items ...Item) error {
	for i := range items {
		if err := items[i].validate(); err != nil {
			return err
		}
	}
	if len(items) == 0 {
		return nil
	}
	// Most calls carry one tenant's items: no grouping then.
	byTenant := map[string][]Item{items[0].Tenant: items}
	order := []string{items[0].Tenant}
	for i := range items {
		if items[i].Tenant != items[0].Tenant {
			byTenant, order = groupByTenant(items)
			break
		}
	}
	var errs []error
	for _, tenant := range order {
		err := ctx.Err()
		if err == nil {
			err = store.Append(ctx, tenant, byTenant[tenant])
		}
		if err != nil {
			errs = append(errs, &FlushError{Tenant: tenant, Items: len(byTenant[tenant]), Err: err})
		}
	}
	return errors.Join(errs...)
}

// groupByTenant splits items by tenant, keeping their order, and returns
// the tenants in the order they first appear.
func groupByTenant(items []Item) (map[string][]Item, []string) {
	by := make(map[string][]Item)
	var order []string
	for _, it := range items {
		if _, ok := by[it.Tenant]; !ok {
			order = append(order, it.Tenant)
		}
		by[it.Tenant] = append(by[it.Tenant], it)
	}
	return by, order
}
