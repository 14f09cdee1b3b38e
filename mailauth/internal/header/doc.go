// Package header splits the header of an Internet message (RFC 5322
// section 2.2) into its unfolded fields. Package mailauth reads the From
// field with it and package dkim the DKIM-Signature fields, so that both
// see the same fields in the same way.
package header
