// Package settingshttp serves a tenant's alert settings over HTTP: a JSON
// API and the "Email Alerts" settings page that uses it, ready to mount in
// a host's server.
//
// A [Handler] answers, relative to where the host mounts it:
//
//	GET   /                          the settings page (HTML)
//	GET   /static/{name}             the page's script, style sheet and icon
//	GET   /api/settings              the settings document; ETag: "<version>"
//	PUT   /api/settings              replace the settings; If-Match required
//	PATCH /api/settings              change some categories or the recipients; If-Match required
//	POST  /api/settings/preview      what saving a draft would change
//	POST  /api/settings/enable-all   a draft with every category on, and what that flips
//	POST  /api/settings/disable-all  a draft with every category off, and what that flips
//	POST  /api/settings/reset        a draft with every category at its default, and what that flips
//
// The settings document is [alerts.Document], decoded as strictly as
// [alerts.Catalog.ParseSettings] decodes it. Its version is the ETag, and a
// PUT or PATCH must send it back in If-Match: a save based on a version
// someone else has replaced since is refused with 412 Precondition Failed,
// naming both versions, so that nobody overwrites an edit they never saw.
// A PATCH body holds only what changes: {"categories": {"threat": true}}
// or {"recipients": [...]}. The preview and the three draft operations save
// nothing: they take a draft document (the three operations also take an
// empty body, meaning the stored settings) and answer with a Change,
//
//	{"flips": [{"category": "threat", "name": "Threat Alerts", "enabled": true}],
//	 "added": ["soc@acme.example"], "removed": [], "summary": "turn on \"Threat Alerts\"; add soc@acme.example"}
//
// the preview's against the stored settings, for a confirmation before
// Save, and each operation's, in {"draft": <document>, "change": <Change>},
// against the draft it was given: what its "Yes" dialog lists.
//
// The tenant is always the one [Config.Tenant] finds for the request, after
// the host's own authentication: a document naming another tenant is
// refused. Errors are problem details (RFC 9457, application/problem+json)
// whose "errors" member points at the bad field ({"pointer":
// "#/recipients/1", "detail": ...}); a body larger than the limit gets 413.
//
// The page follows the product's screen: a switch per category (role
// "switch", labelled, operable with Tab and Space), Enable all (confirmed
// in a dialog listing what it flips), Reset, Save (enabled once something
// changed), and Manage Email Settings for the recipients, where a refused
// address is named and focused. A save refused because someone else saved
// first is shown as such, and the user's draft stays on screen, to be
// re-applied on top of the new version. The page is html/template and a
// little plain JavaScript embedded in the binary, with no build step and
// nothing from another origin; it runs under a strict
// Content-Security-Policy (no inline script or style).
//
// State-changing requests (PUT, PATCH, POST) are refused with 403 when they
// come from another origin ([http.CrossOriginProtection]) and, when the
// host plugs in its session's anti-CSRF token ([Config.CSRFToken]), when
// they do not carry it in the X-CSRF-Token header; the page sends it.
package settingshttp
