package hookrun

import "testing"

func TestCatalogue(t *testing.T) {
	c, err := NewCatalogue([]string{"user.created", "invoice.paid", "user.created", "user.deleted"})
	if err != nil {
		t.Fatalf("NewCatalogue: %v", err)
	}
	if len(c) != 3 {
		t.Errorf("catalogue = %v, want 3 distinct types", c)
	}
	for typ, want := range map[string]bool{"user.created": true, "invoice.paid": true, "user.updated": false} {
		if got := c.AllowsType(typ); got != want {
			t.Errorf("AllowsType(%q) = %v, want %v", typ, got, want)
		}
	}
	ok, _ := ParsePatterns([]string{"user.*", "invoice.paid", "*"})
	if err := c.CheckPatterns(ok); err != nil {
		t.Errorf("CheckPatterns(matching) = %v", err)
	}
	bad, _ := ParsePatterns([]string{"user.*", "order.*"})
	if err := c.CheckPatterns(bad); err == nil || ErrorMessage(err) == "" {
		t.Error("a pattern matching nothing in the catalogue was accepted")
	}
	if !Catalogue(nil).AllowsType("anything") || Catalogue(nil).CheckPatterns(bad) != nil {
		t.Error("an empty catalogue restricts")
	}
	if _, err := NewCatalogue([]string{"Bad Type"}); err == nil {
		t.Error("invalid type accepted")
	}
}
