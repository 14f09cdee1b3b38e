// Package mailauthsender chooses who every alert and digest email is from
// with the sender-domain policy of package mailauth: [Cache] is an
// [alerts.SenderPolicy] backed by [mailauth.Policy.Sender], for the
// Sender fields of [alerts.DispatcherConfig] and digest.MailerConfig.
//
// The policy checks a customer's own From domain against DNS (SPF, DMARC,
// a published DKIM key), which is too slow and too fragile to do for each
// email; a Cache keeps each tenant's choice for a TTL, so DNS is asked once
// per tenant per TTL, never per email.
//
// The package sits under alerts because it adapts mailauth to an alerts
// interface: mailauth stands alone and does not import alerts, and alerts
// does not import mailauth's policy; a host that wants neither the policy
// nor DNS implements alerts.SenderPolicy with a function instead.
package mailauthsender
