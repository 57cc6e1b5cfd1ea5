// Package oidctest signs ID tokens the way Google does (RS256, a key ID,
// Google's issuer) with a key of its own, and serves that key as Google
// serves its keys, on a loopback URL: a test points oidc.Config.CertsURL
// (or ingest's HOOKRUN_GOOGLE_CERTS_URL) there and sends ID tokens without
// a network or a Google account.
package oidctest

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"net/http/httptest"
	"time"
)

// Issuer signs tokens and serves its public key. Close it when done.
type Issuer struct {
	key *rsa.PrivateKey
	kid string
	srv *httptest.Server
}

// NewIssuer returns an Issuer serving its key on 127.0.0.1.
func NewIssuer() (*Issuer, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	iss := &Issuer{key: key, kid: "oidctest-1"}
	jwks, err := json.Marshal(map[string]any{"keys": []map[string]string{{
		"kty": "RSA", "alg": "RS256", "use": "sig", "kid": iss.kid,
		"n": b64(key.N.Bytes()), "e": b64(big.NewInt(int64(key.E)).Bytes()),
	}}})
	if err != nil {
		return nil, err
	}
	iss.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "public, max-age=3600")
		_, _ = w.Write(jwks)
	}))
	return iss, nil
}

// CertsURL is where the Issuer serves its key, in the shape of Google's
// https://www.googleapis.com/oauth2/v3/certs.
func (i *Issuer) CertsURL() string { return i.srv.URL }

// Close stops serving the key.
func (i *Issuer) Close() { i.srv.Close() }

// Token returns a token of service account email for audience, valid for
// an hour, as Google's metadata server issues it (email verified).
func (i *Issuer) Token(email, audience string) string {
	now := time.Now()
	return i.Sign(map[string]any{
		"iss": "https://accounts.google.com", "aud": audience, "azp": "1234567890",
		"sub": "1234567890", "email": email, "email_verified": true,
		"iat": now.Unix(), "exp": now.Add(time.Hour).Unix(),
	})
}

// Sign returns a token with claims, signed with the Issuer's key, for
// tests that need a token Google would not issue (expired, unverified).
func (i *Issuer) Sign(claims map[string]any) string {
	header, _ := json.Marshal(map[string]string{"alg": "RS256", "kid": i.kid, "typ": "JWT"})
	payload, _ := json.Marshal(claims)
	signed := b64(header) + "." + b64(payload)
	sum := sha256.Sum256([]byte(signed))
	sig, err := rsa.SignPKCS1v15(rand.Reader, i.key, crypto.SHA256, sum[:])
	if err != nil {
		panic(err) // a 2048-bit key signs any digest
	}
	return signed + "." + b64(sig)
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }
