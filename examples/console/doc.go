// Console runs the whole SDK in memory behind a web page: the Email Alerts
// settings page of package alerts/settingshttp, a form that fires sample
// events through an alerts.Dispatcher, an outbox of every email sent
// (rendered HTML and text, headers, Message-ID, how many events each
// covers), the next daily digest, and the sender-domain check of package
// mailauth for a customer domain you type.
//
//	go run ./examples/console            # then open http://localhost:8080
//	go run ./examples/console -addr localhost:9090
//
// Nothing leaves the process. The emails go through the real SMTP backend
// (alerts/smtpnotify, DKIM-signed) to an SMTP server inside the console,
// whose outbox shows them as received. Their sender is chosen by
// mailauth's policy (alerts/mailauthsender) over sample DNS zones held in
// memory: ready.example lets the platform send as itself, strict.example
// does not, so its tenant's emails fall back to the platform's domain with
// a Reply-To. With -dns the sender check asks the system's resolver, for
// a real domain.
//
// The console's clock is the system's plus an offset that the "Skip ahead"
// buttons move, so that a cooling period or the next morning's digest is a
// click away.
//
// The events held back by the frequency limit are sent by Dispatcher.Run
// when the limit allows; the digests by a small loop of the console's own,
// which calls Mailer.SendDue at each Mailer.NextDue and, after a skip of
// the clock, Dispatcher.FlushDue, so that what fell due goes at once.
package main
