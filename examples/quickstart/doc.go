// Quickstart configures one tenant's alert settings the way the settings
// screen does, saves them, and prints the alert emails that would go out
// for a few events. Everything runs in memory: no servers, no network.
//
//	go run ./examples/quickstart
package main
