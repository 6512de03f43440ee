package stampedews_test

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestCoreDoesNotDependOnWebSocket checks that the core module (the
// parent directory) requires neither the WebSocket library nor this
// module: its users who do not speak WebSocket do not download them.
func TestCoreDoesNotDependOnWebSocket(t *testing.T) {
	b, err := os.ReadFile("../go.mod")
	require.NoError(t, err)
	mod := string(b)
	require.Contains(t, mod, "module github.com/stampede-go/stampede\n")
	for _, dep := range []string{"github.com/coder/websocket", "github.com/stampede-go/stampede/ws"} {
		require.False(t, strings.Contains(mod, dep), "the core's go.mod requires %s", dep)
	}
}
