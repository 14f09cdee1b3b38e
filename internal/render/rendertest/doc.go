// Package rendertest checks rendered emails the way mail clients and
// readers meet them, for the tests of the packages that render them
// (alerts, digest): [HTMLProblems] reads the HTML with a real HTML parser
// (golang.org/x/net/html) for what breaks in email clients, and
// [CheckEmail] opens it in headless Chromium (internal/browsertest) at a
// phone's and a desktop's width, light and dark, for what a reader sees:
// no horizontal scrolling, every link visible and clickable, every text
// readable against its background (WCAG AA, 4.5:1).
package rendertest
