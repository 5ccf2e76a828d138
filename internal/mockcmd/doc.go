// Package mockcmd is the program of cmd/debitura-mock, importable so that the debitura
// command-line tool's "mock" subcommand runs the same backend with the same flags. [Run] parses
// the flags, loads the -state file, serves mockserver's Backend until its context ends, shuts down
// and saves. The flags and their behaviour are documented in cmd/debitura-mock's package doc.
//
// The tests of both binaries' shared behaviour live here; binary_test.go builds
// cmd/debitura-mock and runs it as a process.
package mockcmd
