package token

import "testing"

// Generation changes with every change of the keys, never on a refused
// change, and never returns to an earlier value.
func TestKeySetGeneration(t *testing.T) {
	var empty KeySet
	if g := empty.Generation(); g != 0 {
		t.Fatalf("empty set: generation %d, want 0", g)
	}
	a, err := GenerateKey(AlgEdDSA)
	if err != nil {
		t.Fatal(err)
	}
	b, err := GenerateKey(AlgEdDSA)
	if err != nil {
		t.Fatal(err)
	}
	ks, err := NewKeySet(a)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[uint64]bool{ks.Generation(): true}
	step := func(what string, f func() error, wantErr bool) {
		t.Helper()
		before := ks.Generation()
		if err := f(); (err != nil) != wantErr {
			t.Fatalf("%s: error %v", what, err)
		}
		g := ks.Generation()
		switch {
		case wantErr && g != before:
			t.Fatalf("%s was refused but moved the generation from %d to %d", what, before, g)
		case !wantErr && seen[g]:
			t.Fatalf("%s: generation %d seen before", what, g)
		}
		seen[g] = true
	}
	step("AddVerifyKey", func() error { return ks.AddVerifyKey(b) }, false)
	step("SetSigningKey", func() error { return ks.SetSigningKey(b) }, false)
	step("RemoveKey", func() error { return ks.RemoveKey(a.ID()) }, false)
	step("RemoveKey of an unknown kid", func() error { return ks.RemoveKey(a.ID()) }, true)
	step("RemoveKey of the signing key", func() error { return ks.RemoveKey(b.ID()) }, true)
	step("AddVerifyKey again", func() error { return ks.AddVerifyKey(a) }, false)
}
