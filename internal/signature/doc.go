// Package signature signs and verifies webhooks by the Standard Webhooks
// specification (https://www.standardwebhooks.com): HMAC-SHA256 over
// "id.timestamp.body", sent as "v1,<base64>" in the webhook-signature
// header, with secrets written "whsec_<base64>".
//
// The dispatcher signs every attempt, so Signer is built to allocate once per
// signature; the sample receiver and tests verify with Verify.
package signature
