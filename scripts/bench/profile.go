package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// runP is the run the profiles are taken in: run C's extract again (--in), so the
// measured runs' figures are not taken with a profiler on.
const runP = "20260105T020000Z"

// profile is what go tool pprof -top says of one profiled stage.
type profile struct {
	What string   // the stage and run it profiles
	Kind string   // "cpu" or "heap" (inuse_space at the live heap's peak)
	Top  []string // flat
	// Cum: cb2ac's own functions by cumulative time or memory (what they and their
	// callees cost), which names the step a stage spends its time in.
	Cum []string
	P   proc
}

// profiles runs the nightly stages once more on run C's extract, and the first
// sync's plan (plan --full: a diff against nothing), with the CLI's hidden
// profiling flags, and keeps the top of each profile: where a missed target's time
// or memory goes, named by the profile rather than by a guess.
func (b *bench) profiles(n int, data, cfg string, env []string, withAC bool) ([]profile, error) {
	dir := filepath.Join(b.work, fmt.Sprintf("profiles-%d", n))
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	nightly := "plan (nightly: the same diff as run C's)"
	if withAC {
		// Run C's load has moved the synced snapshot on to day 2's data.
		nightly = "plan (against run C's load's synced snapshot: nothing changed)"
	}
	steps := []struct {
		what string
		args []string
		heap bool
	}{
		{"validate (run C's extract again)", []string{"validate", "--in", filepath.Join(data, "runs", runC, "extract")}, false},
		{"transform", []string{"transform"}, true},
		{nightly, []string{"plan"}, false},
		{"plan --full (a first sync: every row a create)", []string{"plan", "--full"}, true},
	}
	var out []profile
	for i, st := range steps {
		cpu := filepath.Join(dir, fmt.Sprintf("%d-cpu.prof", i))
		heap := filepath.Join(dir, fmt.Sprintf("%d-heap.prof", i))
		args := []string{"--cpuprofile", cpu}
		if st.heap {
			args = append(args, "--memprofile", heap)
		}
		args = append(args, "--data-dir", data, "--config", cfg, "--run-id", runP)
		p, err := b.r.run(fmt.Sprintf("%d-profile-%s", n, st.args[0]), env, nil, b.cb2ac, append(args, st.args...)...)
		if err != nil {
			return out, err
		}
		fmt.Printf("    profiled %-50s %7.2fs wall %8s peak RSS\n", st.what, p.Wall.Seconds(), mib(p.MaxRSS))
		type profFile struct {
			kind, file string
			flags      []string
		}
		kinds := []profFile{{"cpu", cpu, nil}}
		if st.heap {
			kinds = append(kinds, profFile{"heap", heap, []string{"-sample_index=inuse_space"}})
		}
		for _, k := range kinds {
			top, err := pprofTop(b.cb2ac, k.file, append(k.flags, "-nodecount=12")...)
			if err != nil {
				return out, err
			}
			cum, err := pprofTop(b.cb2ac, k.file, append(k.flags, "-cum", "-show="+ownCode, "-nodecount=15")...)
			if err != nil {
				return out, err
			}
			out = append(out, profile{What: st.what, Kind: k.kind, Top: top, Cum: cum, P: p})
		}
	}
	return out, nil
}

// ownCode is where cb2ac's work is done: the stages, the codec and the tables
// (not the CLI and pipeline wrappers, which hold every sample of a stage).
const ownCode = `github\.com/cb2ac/cb2ac/(stages|schemas|internal/(strmap|money))`

// pprofTop is go tool pprof -top's table, without the lines naming the binary and
// the profile file (they name this run's temp folder).
func pprofTop(bin, prof string, flags ...string) ([]string, error) {
	args := append([]string{"tool", "pprof", "-top"}, flags...)
	raw, err := exec.Command("go", append(args, bin, prof)...).CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("go tool pprof %s: %w\n%s", prof, err, raw)
	}
	var lines []string
	for _, l := range strings.Split(strings.TrimRight(string(raw), "\n"), "\n") {
		if strings.HasPrefix(l, "File: ") || strings.HasPrefix(l, "Time: ") || strings.HasPrefix(l, "Build ID: ") || strings.HasPrefix(l, "Main binary filename") ||
			strings.HasPrefix(l, "Main binary build id") || strings.HasPrefix(l, "Local symbolization") {
			continue
		}
		lines = append(lines, shortShapes(l))
	}
	return lines, nil
}

// shortShapes writes a generic function's instantiation, pprof's
// [go.shape.struct { ...every field and tag... }], as [...]: the name before it
// says which function it is.
func shortShapes(l string) string {
	for {
		i := strings.Index(l, "[go.shape.")
		if i < 0 {
			return l
		}
		depth, end := 0, -1
		for j := i; j < len(l) && end < 0; j++ {
			switch l[j] {
			case '[':
				depth++
			case ']':
				if depth--; depth == 0 {
					end = j
				}
			}
		}
		if end < 0 {
			return l
		}
		l = l[:i] + "[...]" + l[end+1:]
	}
}
