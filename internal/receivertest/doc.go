// Package receivertest holds hookrun's tests of the sample receiver,
// functions/receiver, which is a Go module of its own that imports nothing
// of hookrun: a tenant copies the folder and deploys it. What needs
// hookrun's side is tested here, through the go.work at the repository
// root: that what the dispatcher signs (internal/signature), and what
// GitHub's and Stripe's own libraries sign (Node, testdata/senders), the
// receiver and its verify package accept; that the Node and Python
// snippets verify and pass ingest's ownership challenge; the hand-offs
// against the Pub/Sub emulator and hookrun's Cloud Tasks and Secret
// Manager emulators; that the folder builds alone as the Cloud Run
// functions buildpack builds it; scripts/deploy-receiver and the
// Dockerfile. The package has no code.
package receivertest
