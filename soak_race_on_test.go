//go:build race

package debitura_test

// soakRaceEnabled reports whether the test binary was built with -race (see TestSoak).
const soakRaceEnabled = true
