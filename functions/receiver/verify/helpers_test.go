package verify_test

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/hookrun/hookrun/functions/receiver/verify"
)

// exampleSecret is the endpoint secret of the examples, as hookrun shows it
// when an endpoint is created.
const exampleSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

// signedRequest is the POST hookrun's dispatcher makes to an endpoint at
// url, signed now with secret by the specification (specSign).
func signedRequest(url, secret, body string) *http.Request {
	keys, ok := specKeys(secret)
	if !ok {
		panic("signedRequest: invalid secret")
	}
	now := time.Now().Unix()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		panic(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(verify.HeaderID, "msg_2r9QY3cHbYkCzpGkGzT8xk4Zw1H")
	req.Header.Set(verify.HeaderTimestamp, strconv.FormatInt(now, 10))
	req.Header.Set(verify.HeaderSignature, specSign(keys[0], "msg_2r9QY3cHbYkCzpGkGzT8xk4Zw1H", now, []byte(body)))
	return req
}
