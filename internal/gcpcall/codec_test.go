package gcpcall

import (
	"bytes"
	"testing"

	"google.golang.org/protobuf/types/known/wrapperspb"
)

// Messages small and large go through the codec and come back the same;
// what is not a protobuf message is refused.
func TestCodecRoundTrip(t *testing.T) {
	for _, n := range []int{10, 110 << 10, 2 << 20} {
		in := wrapperspb.Bytes(bytes.Repeat([]byte{'x'}, n))
		data, err := codec{}.Marshal(in)
		if err != nil {
			t.Fatalf("Marshal of %d bytes: %v", n, err)
		}
		out := &wrapperspb.BytesValue{}
		if err := (codec{}).Unmarshal(data, out); err != nil {
			t.Fatalf("Unmarshal of %d bytes: %v", n, err)
		}
		data.Free()
		if !bytes.Equal(out.Value, in.Value) {
			t.Errorf("%d bytes came back as %d", n, len(out.Value))
		}
	}
	if _, err := (codec{}).Marshal("not a message"); err == nil {
		t.Error("Marshal of a string = nil error")
	}
}
