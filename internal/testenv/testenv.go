// Package testenv tells the repository's tests which optional runs are wanted. The default
// `go test ./...` stays within its time budget (CONTRIBUTING.md); the long runs (the 100,000-call
// soak, the 100,000-client scale test) run only when DEBITURA_LONG_TESTS is set, as .ci/run does.
package testenv

import (
	"os"
	"testing"
)

// LongEnv is the environment variable that asks for the long tests.
const LongEnv = "DEBITURA_LONG_TESTS"

// Long reports whether the long tests were asked for (LongEnv set to anything but "" or "0").
func Long() bool {
	v := os.Getenv(LongEnv)
	return v != "" && v != "0"
}

// SkipUnlessLong skips tb unless the long tests were asked for, saying how to ask.
func SkipUnlessLong(tb testing.TB) {
	tb.Helper()
	if !Long() {
		tb.Skipf("long test: set %s=1 to run it (.ci/run does)", LongEnv)
	}
}

// InCI reports whether the tests run in CI (the CI variable is set), where a missing external
// program (redis-server, Chromium) is a failure rather than a reason to skip.
func InCI() bool { return os.Getenv("CI") != "" }
