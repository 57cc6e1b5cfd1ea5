package signature

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"hash"
	"strconv"
	"sync"
)

// Header names of the Standard Webhooks specification.
const (
	HeaderID        = "webhook-id"
	HeaderTimestamp = "webhook-timestamp"
	HeaderSignature = "webhook-signature"
)

// Signer signs with one key. It is safe for concurrent use; keep one per
// secret version (the dispatcher caches them) so the HMAC key schedule is
// computed once, not per signature.
type Signer struct {
	pool sync.Pool // of *state
}

type state struct {
	mac     hash.Hash
	scratch []byte
	sum     []byte // kept with the state: a local array would escape through hash.Hash
}

// NewSigner returns a Signer for key (see ParseSecret).
func NewSigner(key []byte) *Signer {
	k := append([]byte(nil), key...)
	s := &Signer{}
	s.pool.New = func() any {
		return &state{mac: hmac.New(sha256.New, k), scratch: make([]byte, 0, 128), sum: make([]byte, 0, sha256.Size)}
	}
	return s
}

// Sign returns the webhook-signature value "v1,<base64>" for a message with
// the given id, Unix timestamp and body. It allocates only the result.
func (s *Signer) Sign(id string, timestamp int64, body []byte) string {
	st := s.pool.Get().(*state)
	defer s.pool.Put(st)

	st.mac.Reset()
	b := append(st.scratch[:0], id...)
	b = append(b, '.')
	b = strconv.AppendInt(b, timestamp, 10)
	b = append(b, '.')
	st.mac.Write(b)
	st.mac.Write(body)

	st.sum = st.mac.Sum(st.sum[:0])
	const n = 3 + (sha256.Size+2)/3*4 // "v1," + padded base64 of 32 bytes
	out := append(b[:0], "v1,"...)
	out = out[:n]
	base64.StdEncoding.Encode(out[3:], st.sum)
	st.scratch = out[:0]
	return string(out)
}
