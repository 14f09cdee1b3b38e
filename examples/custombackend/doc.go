// Custombackend shows the one-method interface a custom notification
// backend implements: a webhook notifier that posts each alert as JSON. It
// runs a local httptest server standing in for the receiving service (a
// chat bot, a ticketing system), plugs the webhook into a Dispatcher, and
// prints what the service received.
//
//	go run ./examples/custombackend
package main
