package runtime

import (
	"slices"
	"testing"

	"github.com/karl-app/karl/internal/codes"
)

// TestRuntimeCodesAreTheList ties the runtime's Code constants to internal/codes,
// the list the schema loader and the docs read: a code added in one place only fails here.
func TestRuntimeCodesAreTheList(t *testing.T) {
	constants := []Code{CodeInvalidPayload, CodeUnknownEvent, CodeInternal, CodeRateLimited, CodeIdempotencyConflict}
	var got []string
	for _, c := range constants {
		got = append(got, string(c))
	}
	want := codes.Names()
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("runtime constants %q, internal/codes %q", got, want)
	}
	for _, c := range constants {
		if !codes.IsRuntime(string(c)) {
			t.Errorf("%q is not a runtime code", c)
		}
	}
}
