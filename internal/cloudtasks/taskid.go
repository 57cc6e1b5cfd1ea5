package cloudtasks

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"strings"
)

// maxReadable bounds the readable part of a task ID, which keeps IDs well
// under the 500-character limit.
const maxReadable = 200

// TaskID turns parts, such as tenant, event, endpoint and attempt number,
// into a valid Cloud Tasks task ID: the same parts always give the same ID,
// and different parts different IDs.
//
// The ID is the hex SHA-256 of the parts followed by "_" and the parts
// joined by "_", with every character outside [A-Za-z0-9-] replaced by "-"
// and cut to 200 characters, for people reading the queue. The hash comes
// first because Cloud Tasks slows down on task IDs with sequential
// prefixes (event IDs often are) and recommends hashed ones; it alone makes
// the ID unique, so cutting or replacing characters in the readable part
// never merges two IDs.
func TaskID(parts ...string) string {
	h := sha256.New()
	var n [binary.MaxVarintLen64]byte
	for _, p := range parts {
		// Length prefixes keep ("a_b", "c") and ("a", "b_c") apart.
		h.Write(n[:binary.PutUvarint(n[:], uint64(len(p)))])
		h.Write([]byte(p))
	}
	id := hex.EncodeToString(h.Sum(nil))

	var b strings.Builder
	for i, p := range parts {
		if i > 0 {
			b.WriteByte('_')
		}
		for _, r := range p {
			if b.Len() >= maxReadable {
				break
			}
			if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' {
				b.WriteRune(r)
			} else {
				b.WriteByte('-')
			}
		}
	}
	readable := b.String()
	if len(readable) > maxReadable {
		readable = readable[:maxReadable]
	}
	if strings.Trim(readable, "_") == "" {
		return id
	}
	return id + "_" + readable
}
