package digest

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/alertmail/alertmail/alerts"
)

// An Item is one occurrence of a notification waiting for a tenant's
// digest. Items with the same [ItemKey] (asset and fingerprint) are one
// notification: in a digest they collapse into one line with a count and
// the times they were first and last seen.
//
// Items are plain values; the package copies them and never modifies one it
// was given.
type Item struct {
	// Tenant is the tenant whose digest the item goes into. Required.
	Tenant string
	// Category is the alert category; the digest groups by it.
	Category alerts.CategoryID
	// Asset names the host, device or resource; the digest groups by it
	// within a category.
	Asset string
	// Fingerprint identifies what is reported independently of when it was
	// seen (a rule id and a file hash, say).
	Fingerprint string
	// Summary is a one-line description for people. Of the items collapsed
	// into one line, the digest shows the summary of the latest.
	Summary string
	// Time is when the occurrence was seen. Required.
	Time time.Time
}

// ItemOf returns the item for an event: its tenant, category, asset,
// fingerprint, summary and time.
func ItemOf(e alerts.Event) Item {
	return Item{
		Tenant:      e.Tenant,
		Category:    e.Category,
		Asset:       e.Asset,
		Fingerprint: e.Fingerprint,
		Summary:     e.Summary,
		Time:        e.Time,
	}
}

// ErrInvalidItem is wrapped by the error for an item that cannot go into a
// digest: one whose tenant id [alerts.ValidateTenant] refuses (an empty one
// included; the error wraps ValidateTenant's too), or without a time.
var ErrInvalidItem = errors.New("digest: invalid item")

// validate reports what makes it unusable, naming the field.
func (it *Item) validate() error {
	if err := alerts.ValidateTenant(it.Tenant); err != nil {
		return fmt.Errorf("%w: Tenant: %w (asset %q, fingerprint %q)", ErrInvalidItem, err, it.Asset, it.Fingerprint)
	}
	switch {
	case it.Time.IsZero():
		return fmt.Errorf("%w: Time is zero (tenant %q, asset %q, fingerprint %q)", ErrInvalidItem, it.Tenant, it.Asset, it.Fingerprint)
	}
	return nil
}

// Key returns ItemKeyOf(it.Asset, it.Fingerprint). Its receiver is a value,
// like the Item's other uses, so that ItemOf(e).Key() works.
func (it Item) Key() ItemKey { return ItemKeyOf(it.Asset, it.Fingerprint) }

// An ItemKey identifies a notification for deduplication: the first 128
// bits of the SHA-256 of its asset and fingerprint. Stores remember keys,
// not the strings, so that dedup state costs a fixed number of bytes per
// notification however long the asset names and fingerprints are.
//
// Two different notifications with the same key would be taken for one: the
// second would be left out of digests as already reported. With 128 bits
// the chance that any two of n notifications collide is about n²/2¹²⁹
// (below 10⁻²⁶ for a million), and because the hash is cryptographic,
// someone who controls asset names or fingerprints cannot craft a
// collision to hide a notification either, which a 64-bit or
// non-cryptographic hash would allow (a 64-bit birthday search takes about
// 2³² tries). The cost is 16 bytes per key instead of 8.
//
// An ItemKey is a plain comparable value, usable as a map key.
type ItemKey [16]byte

// ItemKeyOf returns the key of the notification (asset, fingerprint). The
// two strings are hashed with the length of asset in front, so ("ab", "c")
// and ("a", "bc") have different keys.
func ItemKeyOf(asset, fingerprint string) ItemKey {
	var stack [256]byte
	b := stack[:0]
	b = binary.AppendUvarint(b, uint64(len(asset)))
	b = append(b, asset...)
	b = append(b, fingerprint...)
	sum := sha256.Sum256(b)
	var k ItemKey
	copy(k[:], sum[:len(k)])
	return k
}

// String returns the key in hexadecimal.
func (k ItemKey) String() string { return hex.EncodeToString(k[:]) }
