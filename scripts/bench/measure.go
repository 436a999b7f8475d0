package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// proc is what one child process cost: the figures /usr/bin/time -v prints, taken
// from the same place (the rusage wait4 returns for the child).
type proc struct {
	Wall   time.Duration
	User   time.Duration
	Sys    time.Duration
	MaxRSS int64 // bytes (ru_maxrss is KiB on Linux)
	Exit   int
	// Others is the CPU time the rest of the machine used while the child ran (all
	// CPUs' busy time from /proc/stat minus the child's): other processes competing
	// for the cores, and for a load the in-process sandbox. 0 when unknown.
	Others time.Duration
	// Killed says why the helper killed the child (the memory guard), if it did.
	Killed string `json:",omitempty"`
}

func (p proc) CPU() time.Duration { return p.User + p.Sys }

// runner starts the measured child processes.
type runner struct {
	ctx  context.Context
	root string // module root: children run there
	logs string // every child's stdout and stderr go to logs/NN-name.log
	seq  int
	// verbose echoes each command line.
	verbose bool
	// minAvail: the child is killed when MemAvailable falls below it, before the
	// kernel's OOM killer picks a victim among whatever else runs here.
	minAvail int64
}

// run starts bin with args, waits, and returns its rusage. okExits are exit codes
// that are not errors (0 always is).
//
// The child is started by a small helper process (this program re-executed with
// measureArg), not by this process. Go starts children with vfork, sharing the
// parent's memory until exec, and Linux carries the parent's peak RSS into the
// child's ru_maxrss at exec: a child of this process (which holds the AC sandbox's
// whole account) would report this process's peak, not its own. The helper is a
// few MiB, so the figure is the child's own peak (never below the helper's size).
func (r *runner) run(name string, env []string, okExits []int, bin string, args ...string) (proc, error) {
	r.seq++
	logPath := filepath.Join(r.logs, fmt.Sprintf("%02d-%s.log", r.seq, sanitize(name)))
	if err := os.WriteFile(logPath, []byte(fmt.Sprintf("$ %s %s\n", bin, strings.Join(args, " "))), 0o600); err != nil {
		return proc{}, err
	}
	if r.verbose {
		fmt.Printf("    $ %s %s\n", filepath.Base(bin), strings.Join(args, " "))
	}
	self, err := os.Executable()
	if err != nil {
		return proc{}, err
	}
	cmd := exec.CommandContext(r.ctx, self, append([]string{measureArg, logPath, r.root, strconv.FormatInt(r.minAvail, 10), bin}, args...)...)
	cmd.Dir = r.root
	cmd.Env = env
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return proc{}, fmt.Errorf("%s: measuring helper: %w\n%s", name, err, tail(logPath, 15))
	}
	var p proc
	if err := json.Unmarshal(out, &p); err != nil {
		return proc{}, fmt.Errorf("%s: measuring helper said %q: %w", name, out, err)
	}
	if p.Killed != "" {
		return p, fmt.Errorf("%s: %s", name, p.Killed)
	}
	if p.Exit != 0 && !contains(okExits, p.Exit) {
		return p, fmt.Errorf("%s: exit %d\n%s", name, p.Exit, tail(logPath, 15))
	}
	return p, nil
}

// measureArg as the first argument makes this program the measuring helper:
// bench __measure LOG DIR MINAVAIL BIN ARGS... runs BIN in DIR with stdout and
// stderr appended to LOG, kills it if MemAvailable falls below MINAVAIL bytes, and
// prints the child's proc as JSON.
const measureArg = "__measure"

func measureMain(args []string) {
	if len(args) < 4 {
		fmt.Fprintln(os.Stderr, "bench: __measure LOG DIR MINAVAIL BIN ARGS...")
		os.Exit(2)
	}
	lf, err := os.OpenFile(args[0], os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
	minAvail, _ := strconv.ParseInt(args[2], 10, 64)
	cmd := exec.Command(args[3], args[4:]...)
	cmd.Dir = args[1]
	cmd.Stdout, cmd.Stderr = lf, lf
	cmd.SysProcAttr = childAttr() // the child dies with this helper
	busy0 := busyCPU()
	start := time.Now()
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
	var killed string
	done := make(chan struct{})
	guard := make(chan struct{})
	go func() {
		defer close(guard)
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
			}
			if avail := memAvailable(); minAvail > 0 && avail > 0 && avail < minAvail {
				killed = fmt.Sprintf("killed by the benchmark's memory guard: MemAvailable fell to %s (guard %s)", mib(avail), mib(minAvail))
				cmd.Process.Kill()
				return
			}
		}
	}()
	err = cmd.Wait()
	close(done)
	<-guard
	p := proc{Wall: time.Since(start), Exit: -1, Killed: killed}
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
	if ps := cmd.ProcessState; ps != nil {
		p.Exit = ps.ExitCode()
		if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
			p.User = time.Duration(ru.Utime.Nano())
			p.Sys = time.Duration(ru.Stime.Nano())
			p.MaxRSS = maxRSSBytes(ru)
		}
	}
	if busy0 > 0 {
		if busy := busyCPU(); busy > busy0 {
			p.Others = max(0, busy-busy0-p.CPU())
		}
	}
	json.NewEncoder(os.Stdout).Encode(p)
}

// busyCPU is the machine's busy CPU time so far, all CPUs (/proc/stat: everything
// but idle and iowait); 0 when unknown.
func busyCPU() time.Duration {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 5 || f[0] != "cpu" {
		return 0
	}
	var busy int64
	for i, v := range f[1:] {
		n, _ := strconv.ParseInt(v, 10, 64)
		if i != 3 && i != 4 && i < 8 { // user nice system idle iowait irq softirq steal
			busy += n
		}
	}
	return time.Duration(busy) * time.Second / 100 // USER_HZ
}

// memAvailable is MemAvailable from /proc/meminfo in bytes, 0 when unknown.
func memAvailable() int64 {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "MemAvailable:"); ok {
			var kb int64
			fmt.Sscanf(strings.TrimSpace(v), "%d", &kb)
			return kb * 1024
		}
	}
	return 0
}

func contains(xs []int, x int) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

func sanitize(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
			return r
		}
		return '-'
	}, s)
}

// tail returns the last n lines of a file, indented.
func tail(path string, n int) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		lines = append(lines, "    "+sc.Text())
		if len(lines) > n {
			lines = lines[1:]
		}
	}
	return strings.Join(lines, "\n")
}

// manifest is the part of runs/<id>/manifest.json the benchmark reads.
type manifest struct {
	Stages map[string]*stageRecord `json:"stages"`
}

type stageRecord struct {
	Status     string           `json:"status"`
	DurationMS int64            `json:"duration_ms"`
	Counts     map[string]int64 `json:"counts"`
	Files      []fileRecord     `json:"files"`
}

type fileRecord struct {
	Name  string `json:"name"`
	Rows  int64  `json:"rows"`
	Bytes int64  `json:"bytes"`
}

func readManifest(path string) (*manifest, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var m manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &m, nil
}

// stage returns the record of stage in the manifest at path (an empty one when
// missing, so a report never stops on a missing figure).
func stageOf(path, stage string) *stageRecord {
	m, err := readManifest(path)
	if err != nil || m.Stages[stage] == nil {
		return &stageRecord{}
	}
	return m.Stages[stage]
}

// parquetRows sums the rows of the .parquet files of a stage record.
func (s *stageRecord) parquetRows() int64 {
	var n int64
	for _, f := range s.Files {
		if strings.HasSuffix(f.Name, ".parquet") {
			n += f.Rows
		}
	}
	return n
}

func (s *stageRecord) parquetBytes() int64 {
	var n int64
	for _, f := range s.Files {
		if strings.HasSuffix(f.Name, ".parquet") {
			n += f.Bytes
		}
	}
	return n
}

func dirSize(dir string) int64 {
	var n int64
	filepath.WalkDir(dir, func(_ string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}
