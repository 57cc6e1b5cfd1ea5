package dispatch

import (
	"encoding/json"
	"testing"
	"unicode/utf8"
)

// FuzzIsJSON: isJSON accepts what encoding/json's Valid accepts in UTF-8,
// and nothing else.
func FuzzIsJSON(f *testing.F) {
	for _, s := range []string{
		`{"a":1}`, `{"a":1,"a":2}`, `{"a":{"b":[1,2.5e3,null,true]}}`, `"\ud800"`, `{"\udc00x":"\ud83d\ude00"}`,
		`[1,]`, `{"a" 1}`, `01`, `1.`, `-`, ``, ` `, `null`, `"a\u00e9"`, "\"\xff\"", "\"\xed\xa0\x80\"", "{}\x00", "\ufeff{}",
		`{"a":"\x"}`, `"\u12"`, ` [ ] `, `[] []`, "\"a\tb\"",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if got, want := isJSON(data), json.Valid(data) && utf8.Valid(data); got != want {
			t.Fatalf("isJSON(%q) = %v, want %v", data, got, want)
		}
	})
}
