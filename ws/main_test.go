package stampedews_test

import (
	"os"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	if os.Getenv(serverEnv) != "" {
		serveHeld() // the server process of TestHoldTenThousand
		return
	}
	goleak.VerifyTestMain(m)
}
