// Command bench measures the SDK and the mock server side by side and prints one table (or,
// with -json, one JSON object). Every figure that compares two things is measured in one run,
// in interleaved rounds, and reported as a median or a ratio, because the 2-core CI machine is
// noisy. See bench/README.md for what each figure means and how it is measured.
//
//	go run ./bench            # full run (about 4 minutes on 2 cores)
//	go run ./bench -quick     # CI smoke run (under 60 s on 2 cores)
//	go run ./bench -json      # one JSON object instead of the table
//	go run ./bench -fleet     # the fleet bench: 8 replica processes, the mock binary, redis-server
//	go run ./bench -fleet -quick   # its CI run (about 35 s)
//
// A missed target is reported (MISS), never an error: the exit status is non-zero only when a
// measurement itself fails.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"time"
)

// sizes are the workload sizes of one run.
type sizes struct {
	overheadRounds, overheadCalls int
	bulkN                         int
	bulkRate                      int
	rpsDuration                   time.Duration
	rpsRounds                     int
	memClients                    int
	listRuns                      int
	tokenGoroutines               int
	backfillN                     int
	backfillShape                 windowShape
}

var (
	quickSizes = sizes{overheadRounds: 15, overheadCalls: 300, bulkN: 600, bulkRate: 100,
		rpsDuration: 1 * time.Second, rpsRounds: 3, memClients: 20_000, listRuns: 21, tokenGoroutines: 10_000,
		backfillN: 300, backfillShape: quickShape}
	fullSizes = sizes{overheadRounds: 41, overheadCalls: 1000, bulkN: 5000, bulkRate: 250,
		rpsDuration: 3 * time.Second, rpsRounds: 5, memClients: 100_000, listRuns: 51, tokenGoroutines: 10_000,
		backfillN: 900, backfillShape: fullShape}
)

// figure is one row of the table.
type figure struct {
	key    string
	value  float64
	unit   string
	target string // "" when the figure has no target of its own
	pass   bool
	hasT   bool
	note   string
}

type report struct {
	figs  []figure
	notes []string
	// missing lists figures with targets that could not be measured in this build, with why.
	missing []string
}

func (r *report) add(f figure) { r.figs = append(r.figs, f) }

func (r *report) note(format string, args ...any) {
	r.notes = append(r.notes, fmt.Sprintf(format, args...))
}

// le and ge build figures with a target.
func le(key string, v float64, unit string, limit float64) figure {
	return figure{key: key, value: v, unit: unit, target: "<= " + num(limit), pass: v <= limit, hasT: true}
}

func ge(key string, v float64, unit string, limit float64) figure {
	return figure{key: key, value: v, unit: unit, target: ">= " + num(limit), pass: v >= limit, hasT: true}
}

func info(key string, v float64, unit string) figure { return figure{key: key, value: v, unit: unit} }

func num(v float64) string {
	switch {
	case v == float64(int64(v)) && v < 1e15 && v > -1e15:
		return fmt.Sprintf("%d", int64(v))
	case v >= 100 || v <= -100:
		return fmt.Sprintf("%.0f", v)
	case v >= 1 || v <= -1:
		return fmt.Sprintf("%.3f", v)
	default:
		return fmt.Sprintf("%.4f", v)
	}
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == staticServerArg {
		serveStatic() // child process of the overhead measurement
		return
	}
	if len(os.Args) > 1 && os.Args[1] == fleetReplicaArg {
		runFleetReplica() // child process of the fleet measurement
		return
	}
	quick := flag.Bool("quick", false, "small workload for CI (under 60 s on 2 cores)")
	asJSON := flag.Bool("json", false, "print one JSON object instead of the table")
	only := flag.String("only", "", "comma-separated steps to run (overhead, bulk, naive, backfill, rps, memory, tokens); default all")
	fleet := flag.Bool("fleet", false, "run the fleet bench instead (8 replica processes, the mock binary, redis-server; with -quick under 90 s)")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the run to this file (for go tool pprof)")
	flag.Parse()
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench: -cpuprofile:", err)
			os.Exit(1)
		}
		defer pprof.StopCPUProfile()
	}
	sz, mode := fullSizes, "full"
	if *quick {
		sz, mode = quickSizes, "quick"
	}
	start := time.Now()
	var r report
	steps := []struct {
		id, name string
		run      func(*report, sizes) error
	}{
		{"overhead", "sdk overhead", benchOverhead},
		{"bulk", "bulk linking", benchBulk},
		{"naive", "naive retryablehttp", benchNaive},
		{"backfill", "back-fill under the scaled windows", benchBackfill},
		{"rps", "mock throughput", benchMockRPS},
		{"memory", "mock memory and list", benchMockMemory},
		{"tokens", "token source", benchTokens},
	}
	if *fleet {
		steps = steps[:0]
		steps = append(steps, struct {
			id, name string
			run      func(*report, sizes) error
		}{"fleet", "fleet", func(r *report, _ sizes) error { return benchFleet(r, *quick) }})
		mode = "fleet-" + mode
	}
	for _, s := range steps {
		if *only != "" && !slices.Contains(strings.Split(*only, ","), s.id) {
			continue
		}
		t0 := time.Now()
		if err := s.run(&r, sz); err != nil {
			pprof.StopCPUProfile()
			fmt.Fprintf(os.Stderr, "bench: %s: %v\n", s.name, err)
			os.Exit(1)
		}
		if !*asJSON {
			fmt.Fprintf(os.Stderr, "bench: %s done in %.1fs\n", s.name, time.Since(t0).Seconds())
		}
	}
	elapsed := time.Since(start)
	if *asJSON {
		writeJSON(os.Stdout, &r, mode, elapsed)
		return
	}
	writeTable(os.Stdout, &r, mode, elapsed)
}

func writeJSON(w io.Writer, r *report, mode string, elapsed time.Duration) {
	obj := map[string]any{}
	for _, f := range r.figs {
		obj[f.key] = f.value
	}
	misses := []string{}
	for _, f := range r.figs {
		if f.hasT && !f.pass {
			misses = append(misses, f.key)
		}
	}
	targets := map[string]any{}
	for _, f := range r.figs {
		if f.hasT {
			targets[f.key] = map[string]any{"target": f.target, "pass": f.pass}
		}
	}
	obj["targets"] = targets
	obj["mode"] = mode
	obj["gomaxprocs"] = runtime.GOMAXPROCS(0)
	obj["go_version"] = runtime.Version()
	obj["elapsed_s"] = elapsed.Seconds()
	obj["missed_targets"] = misses
	obj["not_measured"] = append([]string{}, r.missing...)
	obj["notes"] = r.notes
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	_ = enc.Encode(obj)
}

func writeTable(w io.Writer, r *report, mode string, elapsed time.Duration) {
	fmt.Fprintf(w, "debitura bench (%s run, %s, GOMAXPROCS=%d, %s/%s, %.1fs)\n\n", mode, runtime.Version(),
		runtime.GOMAXPROCS(0), runtime.GOOS, runtime.GOARCH, elapsed.Seconds())
	kw, vw := len("figure"), len("value")
	for _, f := range r.figs {
		kw = max(kw, len(f.key))
		vw = max(vw, len(num(f.value)+" "+f.unit))
	}
	fmt.Fprintf(w, "%-*s  %-*s  %-10s  %s\n", kw, "figure", vw, "value", "target", "result")
	fmt.Fprintf(w, "%s  %s  %s  %s\n", strings.Repeat("-", kw), strings.Repeat("-", vw), strings.Repeat("-", 10), "------")
	var misses []string
	for _, f := range r.figs {
		res, tgt := "", ""
		if f.hasT {
			tgt = f.target
			res = "PASS"
			if !f.pass {
				res = "MISS"
				misses = append(misses, f.key)
			}
		}
		fmt.Fprintf(w, "%-*s  %-*s  %-10s  %s\n", kw, f.key, vw, strings.TrimSpace(num(f.value)+" "+f.unit), tgt, res)
	}
	fmt.Fprintln(w)
	for _, n := range r.notes {
		fmt.Fprintln(w, "note:", n)
	}
	for _, m := range r.missing {
		fmt.Fprintln(w, "NOT MEASURED:", m)
	}
	if len(misses) == 0 && len(r.missing) == 0 {
		fmt.Fprintln(w, "\nall targets met")
	} else if len(misses) == 0 {
		fmt.Fprintln(w, "\nall measured targets met; some figures were not measured (above)")
	} else {
		fmt.Fprintf(w, "\nMISSED TARGETS (reported, not failed): %s\n", strings.Join(misses, ", "))
	}
}
