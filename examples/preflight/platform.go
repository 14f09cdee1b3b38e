package main

import (
	"bytes"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/alertmail/alertmail/mailauth"
)

// platformFile is the platform file of the audit and check subcommands:
// YAML, or JSON (which YAML reads too), with these keys.
//
//	corporate_domain: corp.example
//	platform_domain: platform.example
//	sending_ips: [192.0.2.16/29, 2001:db8:25::1]
//	spf_include: _spf.platform.example
//	customer_dkim:
//	  selector: pf1
//	  public_key: |            # PEM, or the base64 of the DER
//	    -----BEGIN PUBLIC KEY-----
//	    ...
//	applications:
//	  - id: scan-notifications
//	    name: Scan Notifications
//	    migration: {old: corp.example, at: 2026-12-31}
//	contact: https://platform.example/support
type platformFile struct {
	CorporateDomain string          `yaml:"corporate_domain"`
	PlatformDomain  string          `yaml:"platform_domain"`
	SendingIPs      []string        `yaml:"sending_ips"`
	SPFInclude      string          `yaml:"spf_include"`
	DKIMDomain      string          `yaml:"dkim_domain"`
	BounceDomain    string          `yaml:"bounce_domain"`
	CustomerDKIM    *dkimKeyFile    `yaml:"customer_dkim"`
	Applications    []applicationIn `yaml:"applications"`
	Contact         string          `yaml:"contact"`
}

type dkimKeyFile struct {
	Selector  string `yaml:"selector"`
	PublicKey string `yaml:"public_key"`
}

type applicationIn struct {
	ID        string       `yaml:"id"`
	Name      string       `yaml:"name"`
	LocalPart string       `yaml:"local_part"`
	Domain    string       `yaml:"domain"`
	Migration *migrationIn `yaml:"migration"`
}

type migrationIn struct {
	Old string `yaml:"old"`
	New string `yaml:"new"`
	// At is a date (2026-12-31, midnight UTC) or an RFC 3339 instant.
	At string `yaml:"at"`
}

// readPlatform reads a platform file into the policy configuration of an
// audit and the notices' contact line. Unknown keys are errors, so that a
// misspelt key does not silently leave a default in place; the policy
// itself is validated by mailauth.NewAudit.
func readPlatform(r io.Reader) (mailauth.PolicyConfig, string, error) {
	var f platformFile
	dec := yaml.NewDecoder(r)
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		if errors.Is(err, io.EOF) {
			err = errors.New("the file is empty")
		}
		return mailauth.PolicyConfig{}, "", err
	}
	pc := mailauth.PolicyConfig{
		CorporateDomain: f.CorporateDomain,
		PlatformDomain:  f.PlatformDomain,
		SPFInclude:      f.SPFInclude,
		DKIMDomain:      f.DKIMDomain,
		BounceDomain:    f.BounceDomain,
	}
	for i, s := range f.SendingIPs {
		p, err := parseNetwork(s)
		if err != nil {
			return pc, "", fmt.Errorf("sending_ips[%d] %q: %v", i, s, err)
		}
		pc.SendingIPs = append(pc.SendingIPs, p)
	}
	if k := f.CustomerDKIM; k != nil {
		pub, err := parsePublicKey(k.PublicKey)
		if err != nil {
			return pc, "", fmt.Errorf("customer_dkim.public_key: %v", err)
		}
		pc.CustomerDKIM = &mailauth.DKIMKey{Selector: k.Selector, PublicKey: pub}
	}
	for i, a := range f.Applications {
		app := mailauth.Application{ID: mailauth.App(a.ID), Name: a.Name, LocalPart: a.LocalPart, Domain: a.Domain}
		if m := a.Migration; m != nil {
			at, err := parseInstant(m.At)
			if err != nil {
				return pc, "", fmt.Errorf("applications[%d].migration.at %q: %v", i, m.At, err)
			}
			app.Migration = &mailauth.Migration{Old: m.Old, New: m.New, At: at}
		}
		pc.Applications = append(pc.Applications, app)
	}
	return pc, f.Contact, nil
}

// parseNetwork reads "192.0.2.0/24" or a single address.
func parseNetwork(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		return netip.ParsePrefix(s)
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// parseInstant reads a date, meaning its midnight UTC, or an RFC 3339
// instant.
func parseInstant(s string) (time.Time, error) {
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, errors.New("is neither a date (2006-01-02) nor an RFC 3339 instant")
	}
	return t, nil
}

// parsePublicKey reads a PEM "PUBLIC KEY" block, or the base64 of its DER
// (a SubjectPublicKeyInfo).
func parsePublicKey(s string) (any, error) {
	der := []byte(nil)
	if block, _ := pem.Decode([]byte(s)); block != nil {
		if block.Type != "PUBLIC KEY" {
			return nil, fmt.Errorf("a PEM %q block, not PUBLIC KEY", block.Type)
		}
		der = block.Bytes
	} else {
		b, err := base64.StdEncoding.DecodeString(string(bytes.Join(bytes.Fields([]byte(s)), nil)))
		if err != nil {
			return nil, errors.New("neither PEM nor base64")
		}
		der = b
	}
	return x509.ParsePKIXPublicKey(der)
}
