package cli

// A data dir that cannot be written, and a disk that fills in the middle of a stage:
// the command exits 1 with one line naming the file at fault, the stage is recorded
// as failed (never read as input), no temp file is left behind, and what was there
// before (earlier runs, state.json) is byte for byte the same.

import (
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/cb2ac/cb2ac/pipeline"
	acsandbox "github.com/cb2ac/cb2ac/sandbox/ac"
)

// diskfullDigest is treeDigest without the lock file, which every command that
// takes the lock rewrites with its pid.
func diskfullDigest(t *testing.T, data string) map[string]string {
	t.Helper()
	d := treeDigest(t, data)
	delete(d, "lock")
	return d
}

// diskfullChmodDirs sets the mode of every folder under (and including) dir.
func diskfullChmodDirs(t *testing.T, dir string, mode os.FileMode) {
	t.Helper()
	var dirs []string
	filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			dirs = append(dirs, path)
		}
		return nil
	})
	// Deepest first, so that a folder is still open to us while its children change.
	for i := len(dirs) - 1; i >= 0; i-- {
		if err := os.Chmod(dirs[i], mode); err != nil {
			t.Fatal(err)
		}
	}
}

// diskfullOneLine checks the failure is exit 1 and one `cb2ac: ...` line saying want.
func diskfullOneLine(t *testing.T, r result, args []string, want ...string) {
	t.Helper()
	if r.code != 1 {
		t.Errorf("%v: exit %d, want 1\nstderr:%s", args, r.code, r.stderr)
		return
	}
	lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
	last := lines[len(lines)-1]
	if !strings.HasPrefix(last, "cb2ac: ") {
		t.Errorf("%v: last stderr line %q", args, last)
	}
	for _, w := range want {
		if !strings.Contains(last, w) {
			t.Errorf("%v: error line %q does not say %q", args, last, w)
		}
	}
	if strings.Contains(r.stderr, "panic") {
		t.Errorf("%v panicked:\n%s", args, r.stderr)
	}
}

// diskfullNoTemp fails on any temp file (atomicfile's .NAME.tmp-*) under dir.
func diskfullNoTemp(t *testing.T, dir string) {
	t.Helper()
	filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && strings.Contains(d.Name(), ".tmp-") {
			t.Errorf("temp file left behind: %s", path)
		}
		return nil
	})
}

// diskfullSetup runs day 1 through the AC sandbox (so state.json points at a synced
// snapshot and AC ids) and builds a second run up to transform, not loaded.
func diskfullSetup(t *testing.T) (data string, env []string, base []string) {
	t.Helper()
	ac := startAC(t, acsandbox.Options{})
	data, env = t.TempDir(), ac.env()
	base = []string{"--data-dir", data, "--config", writeConfig(t, acConfig{unthrottled: true})}
	mustExit(t, cb2acEnv(t, env, append(base, "run", "--in", day1Pages, "--run-id", day1Run)...), 0)
	for _, args := range [][]string{{"extract", "--in", day1Pages}, {"validate"}, {"transform"}} {
		mustExit(t, cb2acEnv(t, env, append(append(base, args...), "--run-id", day2Run)...), 0)
	}
	if _, err := os.Stat(pipeline.StatePath(data)); err != nil {
		t.Fatal(err)
	}
	return data, env, base
}

func TestUnwritableDataDir(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root ignores file permissions")
	}
	data, env, base := diskfullSetup(t)
	diskfullChmodDirs(t, data, 0o500)
	t.Cleanup(func() { diskfullChmodDirs(t, data, 0o700) })
	before := diskfullDigest(t, data)

	for _, args := range [][]string{
		{"run", "--in", day1Pages},                                            // a new run folder
		{"extract", "--in", day1Pages, "--run-id", "20261122T020000Z"},        // a named new run
		{"validate", "--in", filepath.Join(data, "runs", day1Run, "extract")}, // a backfill into a new run
		{"transform", "--run-id", day2Run},                                    // a re-run inside a run
		{"load", "--run-id", day2Run},                                         // the load of a run
	} {
		r := cb2acEnv(t, env, append(base, args...)...)
		diskfullOneLine(t, r, args, "permission denied", data)
		sameTree(t, before, diskfullDigest(t, data)) // state.json included
	}

	// Writable again, the next run goes through: nothing was left half done.
	diskfullChmodDirs(t, data, 0o700)
	mustExit(t, cb2acEnv(t, env, append(base, "load", "--run-id", day2Run)...), 0)
}

// diskfullRun runs cb2ac with RLIMIT_FSIZE at limit bytes: the kernel refuses any
// write past it (EFBIG; Go ignores SIGXFSZ), as it refuses writes to a full disk
// (ENOSPC), part way through a file. internal/atomicfile's tests cover ENOSPC itself.
// The limit is set on this process only while the child starts (it inherits it), and
// this test is not parallel, so no other test writes meanwhile.
func diskfullRun(t *testing.T, limit uint64, env []string, args ...string) result {
	t.Helper()
	cmd, out, errb := cliCommand(env, args...)
	var old syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_FSIZE, &old); err != nil {
		t.Skip(err)
	}
	lim := old
	lim.Cur = limit
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &lim); err != nil {
		t.Skip(err)
	}
	err := cmd.Start()
	if rerr := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &old); rerr != nil {
		t.Fatal(rerr)
	}
	if err != nil {
		t.Fatal(err)
	}
	code := 0
	if err := cmd.Wait(); err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatal(err)
		}
		code = ee.ExitCode()
	}
	return result{code, out.String(), errb.String()}
}

func TestDiskFullMidStage(t *testing.T) {
	data, env, base := diskfullSetup(t)
	before := diskfullDigest(t, data)
	const limit = 12 << 10 // above a manifest, below the larger snapshot files
	const run3, run4 = "20261122T020000Z", "20261123T020000Z"
	in := filepath.Join(data, "runs", day1Run, "extract")
	for _, c := range []struct {
		run, stage string
		args       []string
	}{
		{run3, pipeline.StageExtract, []string{"run", "--in", day1Pages, "--run-id", run3}}, // a new run
		{run4, pipeline.StageValidate, []string{"validate", "--in", in, "--run-id", run4}},  // a backfill
		{day2Run, pipeline.StageLoad, []string{"load", "--run-id", day2Run, "--full"}},      // the load: AC was written, the snapshot was not
	} {
		r := diskfullRun(t, limit, env, append(base, c.args...)...)
		diskfullOneLine(t, r, c.args, c.stage, "file too large", filepath.Join(data, "runs", c.run, c.stage))
		m := readManifest(t, filepath.Join(data, "runs", c.run))
		if rec := m.Stages[c.stage]; rec == nil || rec.Status != pipeline.StatusFailed || !strings.Contains(rec.Error, "file too large") {
			t.Errorf("run %s: %s in the manifest: %+v, want failed with the error", c.run, c.stage, rec)
		}
	}
	diskfullNoTemp(t, data)
	// Day 1's run and state.json are untouched; only the new runs, and the failed
	// load's folder in day 2's run, appeared.
	after := diskfullDigest(t, data)
	for k, v := range before {
		if after[k] != v && k != "runs" && k != filepath.Join("runs", day2Run) && k != filepath.Join("runs", day2Run, "manifest.json") {
			t.Errorf("%s changed", k)
		}
	}
	for k := range after {
		if _, old := before[k]; !old && !strings.HasPrefix(k, filepath.Join("runs", run3)) &&
			!strings.HasPrefix(k, filepath.Join("runs", run4)) && !strings.HasPrefix(k, filepath.Join("runs", day2Run, "load")) {
			t.Errorf("%s appeared", k)
		}
	}
	// A failed stage is never read as input.
	r := cb2acEnv(t, env, append(base, "transform", "--run-id", run4)...)
	diskfullOneLine(t, r, []string{"transform"}, "validate")
	// With space again, the load resumes from its journal and finishes.
	mustExit(t, cb2acEnv(t, env, append(base, "load", "--run-id", day2Run, "--resume")...), 0)
}
