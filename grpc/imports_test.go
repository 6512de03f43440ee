package stampedegrpc_test

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestCoreDoesNotDependOnGRPC checks that the core module (the parent
// directory) requires neither grpc-go nor this module: its users who speak
// only HTTP do not download them.
func TestCoreDoesNotDependOnGRPC(t *testing.T) {
	b, err := os.ReadFile("../go.mod")
	require.NoError(t, err)
	mod := string(b)
	require.Contains(t, mod, "module github.com/stampede-go/stampede\n")
	for _, dep := range []string{"google.golang.org/grpc", "github.com/stampede-go/stampede/grpc"} {
		require.False(t, strings.Contains(mod, dep), "the core's go.mod requires %s", dep)
	}
}
