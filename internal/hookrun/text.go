package hookrun

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// CleanText is the one check of free text a person gives: a tenant's
// name, a disabled tenant's reason, an endpoint's description, an API
// key's name. It returns s without surrounding white space, or an error
// naming field. The text must be valid UTF-8, which Firestore stores and
// every JSON reader reads as it was written, and hold no control
// character (NUL, CR, LF, tab and the rest), which would forge log lines
// and break the pages and headers the text is shown in; at most maxChars
// characters.
func CleanText(field, s string, maxChars int) (string, error) {
	if !utf8.ValidString(s) {
		return "", Errorf(CodeInvalidArgument, "%s: invalid UTF-8: send text as UTF-8", field)
	}
	if i := strings.IndexFunc(s, unicode.IsControl); i >= 0 {
		r, _ := utf8.DecodeRuneInString(s[i:])
		return "", Errorf(CodeInvalidArgument, "%s: control character %U at byte %d: use one line of text without NUL, CR, LF or other control characters", field, r, i)
	}
	s = strings.TrimSpace(s)
	if utf8.RuneCountInString(s) > maxChars {
		return "", Errorf(CodeInvalidArgument, "%s: at most %d characters", field, maxChars)
	}
	return s, nil
}
