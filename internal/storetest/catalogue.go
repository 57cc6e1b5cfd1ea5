package storetest

import (
	"slices"
	"testing"

	"github.com/hookrun/hookrun/internal/hookrun"
)

func testCatalogue(t *testing.T, open Opener) {
	s := open.store(t)
	ctx := t.Context()
	if c, err := s.GetCatalogue(ctx, "acme"); err != nil || len(c) != 0 {
		t.Fatalf("GetCatalogue before any = %v, %v; want empty", c, err)
	}
	want := hookrun.Catalogue{"invoice.paid", "user.created"}
	if err := s.SetCatalogue(ctx, "acme", want); err != nil {
		t.Fatalf("SetCatalogue: %v", err)
	}
	if c, err := s.GetCatalogue(ctx, "acme"); err != nil || !slices.Equal(c, want) {
		t.Errorf("GetCatalogue = %v, %v; want %v", c, err, want)
	}
	if err := s.SetCatalogue(ctx, "acme", nil); err != nil {
		t.Fatalf("SetCatalogue(empty): %v", err)
	}
	if c, _ := s.GetCatalogue(ctx, "acme"); len(c) != 0 {
		t.Errorf("catalogue after removal = %v", c)
	}
}
