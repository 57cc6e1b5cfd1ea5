package hookrun

import (
	"encoding/base64"
	"encoding/json"
	"time"
)

// Lists that page are ordered by a time, newest first, with an ID as
// tie-break (tenants: by ID alone); a page token is the last item's time
// and ID, opaque to callers. Every store pages this way, so a token means
// the same to each of them.
type pageToken struct {
	Time time.Time `json:"t"`
	ID   string    `json:"id"`
}

// PageToken returns the token of the page that follows an item with time
// t and ID id.
func PageToken(t time.Time, id string) string {
	raw, _ := json.Marshal(pageToken{Time: t, ID: id})
	return base64.RawURLEncoding.EncodeToString(raw)
}

// ParsePageToken returns the time and ID PageToken put in token; a token
// it did not make is CodeInvalidArgument.
func ParsePageToken(token string) (time.Time, string, error) {
	raw, err := base64.RawURLEncoding.DecodeString(token)
	var pt pageToken
	if err != nil || json.Unmarshal(raw, &pt) != nil || pt.ID == "" {
		return time.Time{}, "", Errorf(CodeInvalidArgument, "page_token: not a token this API returned")
	}
	return pt.Time, pt.ID, nil
}
