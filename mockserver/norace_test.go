//go:build !race

package mockserver

const raceSlowdown = 1
