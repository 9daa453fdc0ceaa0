package adaptertest

import (
	_ "embed"
	"encoding/json"
	"fmt"
)

//go:embed testdata/golden.json
var goldenJSON []byte

// Golden returns the reference recording: Record of the net/http adapter
// (package httpauth) at the revision of this package. An adapter proves
// byte-for-byte parity with
//
//	if d := adaptertest.Diff(adaptertest.Golden(), adaptertest.Record(t, factory)); d != "" {
//		t.Errorf("wire differs from the reference:\n%s", d)
//	}
//
// The file is regenerated with `go test ./httpauth -run TestGolden -update`
// after an intended change of the wire.
func Golden() []Exchange {
	var x []Exchange
	if err := json.Unmarshal(goldenJSON, &x); err != nil {
		panic(fmt.Sprintf("adaptertest: testdata/golden.json is corrupt: %v", err))
	}
	return x
}

// EncodeGolden renders a recording in the format of Golden's file.
func EncodeGolden(x []Exchange) ([]byte, error) {
	b, err := json.MarshalIndent(x, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}
