// Package testenv tells the repository's tests which optional runs are wanted. The default
// `go test ./...` stays within its time budget (CONTRIBUTING.md); the long runs (the 100,000-call
// soak, the 100,000-client scale test) run only when DEBITURA_LONG_TESTS is set, as .ci/run does.
package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
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

// BuildAndRun is for a TestMain whose tests run the repository's programs: it builds each
// package of bins (a variable to set → the package's import path) into a temporary directory,
// sets the variable to the binary's path (named after the package's last element), runs m and
// removes the directory. It returns m.Run's exit code, or 1 when a build fails, with the output
// of go build on stderr.
func BuildAndRun(m *testing.M, bins map[*string]string) int {
	dir, err := os.MkdirTemp("", "debitura-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	for bin, pkg := range bins {
		*bin = filepath.Join(dir, path.Base(pkg))
		if out, err := exec.Command("go", "build", "-o", *bin, pkg).CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "go build %s: %v\n%s", pkg, err, out)
			return 1
		}
	}
	return m.Run()
}
