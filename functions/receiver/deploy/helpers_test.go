package deploy_test

import (
	"net"
	"strconv"
	"strings"
	"testing"

	"github.com/hookrun/hookrun/internal/testenv"
)

// modulePath returns the module path of the go.mod in dir.
func modulePath(t *testing.T, dir string) string {
	t.Helper()
	return strings.TrimSpace(testenv.Run(t, dir, nil, "go", "list", "-m"))
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
}
