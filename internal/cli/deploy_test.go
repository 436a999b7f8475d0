package cli

import (
	"bytes"
	"debug/buildinfo"
	"debug/elf"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// dockerInstr is one Dockerfile instruction, its continuation lines joined.
type dockerInstr struct {
	cmd, args string
}

// parseDockerfile reads the instructions of a Dockerfile: comments and blank lines
// dropped, a line ending in a backslash joined with the next.
func parseDockerfile(t *testing.T, path string) []dockerInstr {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []dockerInstr
	var cur strings.Builder
	for _, line := range strings.Split(string(b), "\n") {
		trimmed := strings.TrimSpace(line)
		if cur.Len() == 0 && (trimmed == "" || strings.HasPrefix(trimmed, "#")) {
			continue
		}
		if strings.HasSuffix(trimmed, `\`) {
			cur.WriteString(strings.TrimSuffix(trimmed, `\`) + " ")
			continue
		}
		cur.WriteString(trimmed)
		cmd, args, _ := strings.Cut(cur.String(), " ")
		out = append(out, dockerInstr{strings.ToUpper(cmd), strings.TrimSpace(args)})
		cur.Reset()
	}
	return out
}

// shellWords splits a RUN line as sh would for the forms a build line uses: words
// separated by blanks, double-quoted strings kept whole, ${NAME} replaced from vars.
// Anything it does not understand (single quotes, $(...), ;, &&, |) fails the test:
// the build line is meant to be one plain command.
func shellWords(t *testing.T, s string, vars map[string]string) []string {
	t.Helper()
	if strings.ContainsAny(s, "'`;|&<>") || strings.Contains(s, "$(") {
		t.Fatalf("Dockerfile build line %q: not one plain command", s)
	}
	s = regexp.MustCompile(`\$\{(\w+)\}|\$(\w+)`).ReplaceAllStringFunc(s, func(m string) string {
		name := strings.Trim(m, "${}")
		v, ok := vars[name]
		if !ok {
			t.Fatalf("Dockerfile build line uses $%s, which the test does not know", name)
		}
		return v
	})
	var words []string
	var cur strings.Builder
	inWord, quoted := false, false
	for _, r := range s {
		switch {
		case r == '"':
			quoted, inWord = !quoted, true
		case (r == ' ' || r == '\t') && !quoted:
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if quoted {
		t.Fatalf("Dockerfile build line %q: unbalanced quote", s)
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words
}

// The container image, without a Docker engine: the Dockerfile's own go build line
// (found in the file, run as it stands with the build args filled in) makes a static
// binary — no ELF interpreter, no dynamic section, built without cgo and with
// -trimpath — that reports the version the line sets; the final stage is a
// distroless static nonroot base (CA certificates, no shell) or scratch with the CA
// certificates copied; the user is a numeric non-root uid (Kubernetes' runAsNonRoot
// can only verify a number); the entrypoint is the copied binary in exec form (there
// is no shell to run a shell form); the Go version is go.mod's; and .dockerignore
// keeps every file the build compiles or embeds in the context.
func TestDockerfile(t *testing.T) {
	instrs := parseDockerfile(t, "Dockerfile")
	var stages [][]dockerInstr
	args := map[string]string{} // ARG defaults, before and within stages
	for _, in := range instrs {
		if in.cmd == "FROM" {
			stages = append(stages, nil)
		}
		if in.cmd == "ARG" {
			name, def, _ := strings.Cut(in.args, "=")
			if _, seen := args[name]; !seen || def != "" {
				args[name] = def
			}
		}
		if len(stages) > 0 {
			stages[len(stages)-1] = append(stages[len(stages)-1], in)
		}
	}
	if len(stages) < 2 {
		t.Fatalf("Dockerfile has %d stages; want a build stage and a minimal final one", len(stages))
	}

	// The Go version the build stage uses is go.mod's.
	gomod, err := os.ReadFile("go.mod")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^go (\d+\.\d+)`).FindSubmatch(gomod)
	if m == nil {
		t.Fatal("go.mod has no go line")
	}
	if got := args["GO_VERSION"]; !strings.HasPrefix(got+".", string(m[1])+".") {
		t.Errorf("Dockerfile GO_VERSION %q; go.mod says go %s", got, m[1])
	}

	// The build line, run here as the Dockerfile runs it.
	var buildLine, buildStage string
	for _, st := range stages[:len(stages)-1] {
		for _, in := range st {
			if in.cmd == "RUN" && strings.Contains(in.args, "go build") {
				buildLine = in.args
				if f := strings.Fields(st[0].args); len(f) > 0 {
					buildStage = f[len(f)-1]
				}
			}
		}
	}
	if buildLine == "" {
		t.Fatal("no RUN ... go build in a build stage")
	}
	const version = "v9.9.9-dockertest"
	words := shellWords(t, buildLine, map[string]string{"VERSION": version, "TARGETOS": runtime.GOOS, "TARGETARCH": runtime.GOARCH})
	var env []string
	for len(words) > 0 && regexp.MustCompile(`^[A-Z_][A-Z0-9_]*=`).MatchString(words[0]) {
		env = append(env, words[0])
		words = words[1:]
	}
	if len(words) < 2 || words[0] != "go" || words[1] != "build" {
		t.Fatalf("build line %q: want [VAR=value ...] go build ...", buildLine)
	}
	if !slices.Contains(env, "CGO_ENABLED=0") {
		t.Errorf("build line %q: no CGO_ENABLED=0 (a cgo build links libc dynamically and needs it in the image)", buildLine)
	}
	if !slices.Contains(words, "-trimpath") {
		t.Errorf("build line %q: no -trimpath", buildLine)
	}
	binPath := filepath.Join(t.TempDir(), "cb2ac")
	var outInImage string
	for i, w := range words {
		if w == "-o" && i+1 < len(words) {
			outInImage = words[i+1]
			words[i+1] = binPath
		}
	}
	if outInImage == "" {
		t.Fatalf("build line %q: no -o", buildLine)
	}
	cmd := exec.Command("go", words[1:]...)
	cmd.Env = append(os.Environ(), env...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", buildLine, err, out)
	}
	f, err := elf.Open(binPath)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
			t.Errorf("the binary has a %v program header: it is dynamically linked", p.Type)
		}
	}
	if f.Section(".interp") != nil || f.Section(".dynamic") != nil {
		t.Errorf("the binary has an .interp or .dynamic section: it is dynamically linked")
	}
	f.Close()
	bi, err := buildinfo.ReadFile(binPath)
	if err != nil {
		t.Fatal(err)
	}
	settings := map[string]string{}
	for _, s := range bi.Settings {
		settings[s.Key] = s.Value
	}
	if settings["CGO_ENABLED"] != "0" || settings["-trimpath"] != "true" {
		t.Errorf("build settings CGO_ENABLED=%q -trimpath=%q; want 0 and true", settings["CGO_ENABLED"], settings["-trimpath"])
	}
	if out, err := exec.Command(binPath, "--version").CombinedOutput(); err != nil || !strings.Contains(string(out), version) {
		t.Errorf("%s --version: %v %q; want the version the build line sets (%s)", binPath, err, out, version)
	}

	// The final stage: a minimal base with CA certificates, a non-root user, the
	// binary as the entrypoint.
	final := stages[len(stages)-1]
	base := strings.Fields(final[0].args)[0]
	copied, certs := "", false
	var user, entrypoint string
	for _, in := range final {
		switch in.cmd {
		case "COPY":
			f := strings.Fields(in.args)
			if len(f) == 3 && f[0] == "--from="+buildStage && f[1] == outInImage {
				copied = f[2]
			}
			certs = certs || strings.Contains(in.args, "ca-certificates")
		case "USER":
			user = in.args
		case "ENTRYPOINT":
			entrypoint = in.args
		}
	}
	distroless := regexp.MustCompile(`^gcr\.io/distroless/static(-debian\d+)?:nonroot(@sha256:[0-9a-f]{64})?$`).MatchString(base)
	if !distroless && !(base == "scratch" && certs) {
		t.Errorf("final stage FROM %s: want gcr.io/distroless/static-*:nonroot (CA certificates included) or scratch with the CA certificates copied", base)
	}
	if copied == "" {
		t.Errorf("final stage does not COPY --from=%s %s", buildStage, outInImage)
	}
	uid, _, _ := strings.Cut(user, ":")
	if n, err := strconv.Atoi(uid); err != nil || n == 0 {
		t.Errorf("USER %q: want a numeric non-root uid", user)
	}
	var ep []string
	if err := json.Unmarshal([]byte(entrypoint), &ep); err != nil || len(ep) != 1 || ep[0] != copied {
		t.Errorf("ENTRYPOINT %s: want [%q] in exec form (the image has no shell)", entrypoint, copied)
	}

	// Every file the build compiles or embeds is in the build context.
	ignore, err := os.ReadFile(".dockerignore")
	if err != nil {
		t.Fatal(err)
	}
	var patterns []string
	for _, l := range strings.Split(string(ignore), "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			if strings.HasPrefix(l, "!") {
				t.Fatalf(".dockerignore %q: exceptions are beyond this test's matcher", l)
			}
			patterns = append(patterns, filepath.Clean(l))
		}
	}
	for _, p := range []string{".git", "data", "bin"} {
		if !slices.Contains(patterns, p) {
			t.Errorf(".dockerignore does not exclude %s", p)
		}
	}
	root, _ := os.Getwd()
	out, err := exec.Command("go", "list", "-deps", "-f", `{{if not .Standard}}{{range .GoFiles}}{{$.Dir}}/{{.}}
{{end}}{{range .EmbedFiles}}{{$.Dir}}/{{.}}
{{end}}{{end}}`, ".").Output()
	if err != nil {
		t.Fatal(err)
	}
	needed := []string{"go.mod", "go.sum"}
	for _, p := range strings.Fields(string(out)) {
		if rel, err := filepath.Rel(root, p); err == nil && !strings.HasPrefix(rel, "..") {
			needed = append(needed, rel)
		}
	}
	if len(needed) < 10 {
		t.Fatalf("go list found only %v", needed)
	}
	for _, p := range needed {
		if pat := dockerIgnored(patterns, p); pat != "" {
			t.Errorf(".dockerignore %q leaves %s out of the build context, and the build needs it", pat, p)
		}
	}
}

// dockerIgnored is the .dockerignore pattern that excludes path, or "": a pattern
// matches the path or one of its parent folders, and a leading **/ matches at any
// depth.
func dockerIgnored(patterns []string, path string) string {
	parts := strings.Split(filepath.ToSlash(path), "/")
	for _, pat := range patterns {
		pat = filepath.ToSlash(pat)
		for i := range parts {
			for j := i + 1; j <= len(parts); j++ {
				if i > 0 && !strings.HasPrefix(pat, "**/") {
					break
				}
				sub := strings.Join(parts[i:j], "/")
				if ok, _ := filepath.Match(strings.TrimPrefix(pat, "**/"), sub); ok {
					return pat
				}
			}
		}
	}
	return ""
}

// dagTask is one task of a DAG as scripts/airflow/render_dag.py ran it.
type dagTask struct {
	Argv             []string
	Downstream       []string
	Retries          int
	ExecutionTimeout string `json:"execution_timeout"`
	Exit0            string `json:"exit_0"`
	Exit2            string `json:"exit_2"`
	Exit75           string `json:"exit_75"`
	Pod              *dagPod
}

// dagPod is a KubernetesPodOperator's pod, as the DAG builds it.
type dagPod struct {
	Image   string
	Cmds    []string
	EnvVars map[string]string `json:"env_vars"`
	EnvFrom []map[string]any  `json:"env_from"`
	Secrets []struct {
		DeployType   string `json:"deploy_type"`
		DeployTarget string `json:"deploy_target"`
		Secret, Key  string
	}
	Resources struct {
		Requests, Limits map[string]string
	} `json:"container_resources"`
	VolumeMounts []struct {
		MountPath string `json:"mount_path"`
		ReadOnly  bool   `json:"read_only"`
	} `json:"volume_mounts"`
	SecurityContext struct {
		RunAsNonRoot bool `json:"run_as_non_root"`
		RunAsUser    int  `json:"run_as_user"`
	} `json:"security_context"`
	ContainerSecurityContext struct {
		ReadOnlyRootFilesystem bool `json:"read_only_root_filesystem"`
	} `json:"container_security_context"`
}

// The Airflow DAGs, without Airflow: scripts/airflow/render_dag.py stubs the airflow
// (and kubernetes client) modules as Airflow 2.9+ and 3.x lay them out, runs the start
// task and every other task (templates rendered with jinja2 as Airflow does; a
// stand-in cb2ac that prints its arguments and exits FAKE_RC, on the PATH for
// cb2ac_dag.py's bash commands, as the image's entrypoint for cb2ac_k8s_dag.py's
// pods) for each version's context shapes: scheduled, late behind a previous run on a
// bucket data dir, manual (Airflow 3's without a logical date among them), a
// trigger's backfill, and DAG runs for a past interval (catchup, Airflow backfill),
// which start must refuse unless they replay a snapshot. Every task's arguments must
// name the right run and data dir, check must come first and ask Chargebee only when
// the run reads it, a hostile backfill_from must stay one argument, the real cb2ac
// must accept the arguments, exit 2 must fail without retry and 75 with; the pods
// must take their secrets from Kubernetes secrets, run as the image's user, and have
// the memory bench/results.md measured. Each DAG is also rendered with
// LOAD_TAKES_YES on (a backfill load gets --yes=true), and the constant must agree
// with whether this cb2ac's load takes --yes.
func TestAirflowDAG(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not installed")
	}
	// The interpreter itself, not a version manager's shim (which costs 100 ms a start,
	// and the stub starts over a thousand times).
	exe, err := exec.Command(py, "-c", "import sys, jinja2; print(sys.executable)").CombinedOutput()
	if err != nil {
		t.Skipf("python3 has no jinja2 (Airflow renders templates with it): %s", exe)
	}
	py = strings.TrimSpace(string(exe))
	tmp := t.TempDir()
	stub := filepath.Join(tmp, "bin", "cb2ac")
	if err := os.MkdirAll(filepath.Dir(stub), 0o700); err != nil {
		t.Fatal(err)
	}
	stubSrc := "#!" + py + " -S\nimport json, os, sys\nprint(json.dumps(sys.argv[1:]))\nsys.exit(int(os.environ.get('FAKE_RC', '0')))\n"
	if err := os.WriteFile(stub, []byte(stubSrc), 0o700); err != nil {
		t.Fatal(err)
	}
	marker := filepath.Join(tmp, "injected")
	injected := `x"; touch ` + marker + `; $(touch ` + marker + `2) ` + "`touch " + marker + "3` {{ 7*7 }} '"

	imageUID := 0
	for _, in := range parseDockerfile(t, "Dockerfile") {
		if in.cmd == "USER" {
			uid, _, _ := strings.Cut(in.args, ":")
			imageUID, _ = strconv.Atoi(uid)
		}
	}
	yesAccepted := cb2ac(t, "load", "--yes", "--help").code == 0

	// What start does with each shape: the run id it names, and the first stage
	// ("" = refused: a past interval with nothing to replay).
	type want struct{ runID, branch string }
	shapes := map[string]want{
		"scheduled":                 {"20261204T180000Z", "extract"},
		"late":                      {"20261204T180000Z", "extract"},
		"manual":                    {"20261204T153312Z", "extract"},
		"manual_run_id_only":        {"20261204T153312Z", "extract"},
		"backfill":                  {"20261204T153312Z", "validate_backfill"},
		"catchup":                   {"", ""},
		"airflow_backfill":          {"", ""},
		"airflow_backfill_snapshot": {"20261204T180042Z", "validate_backfill"}, // a new run, named after its start
	}
	stages := map[string][]string{
		"extract":           {"extract", "--source", "chargebee"},
		"validate":          {"validate"},
		"validate_backfill": {"validate", "--in"}, // + backfill_from
		"transform":         {"transform"},
		"load":              {"load", "--resume"},
	}
	checked := map[string]bool{}
	for _, dag := range []string{"scripts/airflow/cb2ac_dag.py", "scripts/airflow/cb2ac_k8s_dag.py"} {
		k8s := strings.Contains(dag, "k8s")
		for _, f := range []string{dag, "scripts/airflow/cb2ac_airflow.py"} {
			cmd := exec.Command(py, "-c", "import py_compile,sys; py_compile.compile(sys.argv[1], cfile=sys.argv[2], doraise=True)", f, filepath.Join(tmp, "dag.pyc"))
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("py_compile %s: %v\n%s", f, err, out)
			}
		}
		for _, major := range []string{"2", "3"} {
			for _, yes := range []bool{false, true} {
				where0 := fmt.Sprintf("%s Airflow %s LOAD_TAKES_YES=%v", filepath.Base(dag), major, yes)
				cmd := exec.Command(py, "scripts/airflow/render_dag.py", dag, filepath.Join(tmp, fmt.Sprintf("af-%s-%v-%s", major, yes, filepath.Base(dag))), major, stub)
				cmd.Env = append(os.Environ(), "INJECTED="+injected, "LOAD_TAKES_YES=0")
				if yes { // only the arguments change: each task runs once, exiting 0
					cmd.Env = append(os.Environ(), "INJECTED="+injected, "LOAD_TAKES_YES=1", "EXIT_CODES=0")
				}
				var stderr bytes.Buffer
				cmd.Stderr = &stderr
				out, err := cmd.Output()
				if err != nil {
					t.Fatalf("%s: render_dag.py: %v\n%s", where0, err, stderr.String())
				}
				var res map[string]json.RawMessage
				if err := json.Unmarshal(out, &res); err != nil {
					t.Fatalf("%s: %v\n%s", where0, err, out)
				}
				var info struct {
					DagrunTimeout string `json:"dagrun_timeout"`
					Catchup       bool
					LoadTakesYes  bool `json:"load_takes_yes"`
				}
				if err := json.Unmarshal(res["dag"], &info); err != nil {
					t.Fatal(err)
				}
				if info.DagrunTimeout == "None" || info.Catchup {
					t.Errorf("%s: dagrun_timeout %s, catchup %v; want a timeout and no catchup", where0, info.DagrunTimeout, info.Catchup)
				}
				if !yes && info.LoadTakesYes != yesAccepted {
					t.Errorf("%s: cb2ac_airflow.LOAD_TAKES_YES is %v, but this cb2ac's load accepts --yes: %v; make them agree", where0, info.LoadTakesYes, yesAccepted)
				}
				for name, w := range shapes {
					raw, ok := res[name]
					if !ok {
						if name != "manual_run_id_only" || major == "3" {
							t.Errorf("%s: render_dag.py gave no %s run", where0, name)
						}
						continue
					}
					where := where0 + " " + name
					var sh struct {
						Params     map[string]string
						Variables  map[string]string
						Branch     string
						StartError string `json:"start_error"`
						RunID      string `json:"run_id"`
						Tasks      map[string]dagTask
					}
					if err := json.Unmarshal(raw, &sh); err != nil {
						t.Fatalf("%s: %v\n%s", where, err, raw)
					}
					if sh.RunID != w.runID || sh.Branch != w.branch {
						t.Errorf("%s: start named run %q and went to %q (error %q); want %q and %q", where, sh.RunID, sh.Branch, sh.StartError, w.runID, w.branch)
					}
					if w.branch == "" {
						if !strings.Contains(sh.StartError, "past data interval") || !strings.Contains(sh.StartError, "backfill_from") {
							t.Errorf("%s: start's refusal %q does not say why and what to do", where, sh.StartError)
						}
						continue
					}
					if d := sh.Tasks["check"].Downstream; len(d) != 1 || d[0] != "start" {
						t.Errorf("%s: check is followed by %v; want start (check is the first task)", where, d)
					}
					if d := sh.Tasks["start"].Downstream; !slices.Contains(d, "extract") || !slices.Contains(d, "validate_backfill") {
						t.Errorf("%s: start branches to %v", where, d)
					}
					// data_dir: the param, else the Airflow Variable, else the DAG's default.
					dataDir, backfillFrom := sh.Params["data_dir"], sh.Params["backfill_from"]
					if dataDir == "" {
						dataDir = sh.Variables["cb2ac_data_dir"]
					}
					if dataDir == "" {
						dataDir = map[bool]string{false: "/var/lib/cb2ac/data", true: "s3://my-bucket/cb2ac"}[k8s]
					}
					source := "chargebee"
					if backfillFrom != "" {
						source = "snapshot"
					}
					expect := map[string][]string{"check": {"--data-dir", dataDir, "--log-format", "json", "check", "--source", source}}
					for id, args := range stages {
						argv := []string{"--data-dir", dataDir, "--run-id", sh.RunID, "--log-format", "json"}
						if !k8s {
							argv = append(argv, "--metrics-file", sh.Params["metrics_file"])
						}
						argv = append(argv, args...)
						if id == "validate_backfill" {
							argv = append(argv, backfillFrom) // one argument, verbatim
						}
						if id == "load" && yes {
							argv = append(argv, "--yes="+strconv.FormatBool(backfillFrom != ""))
						}
						expect[id] = argv
					}
					for id, wantArgv := range expect {
						tk, ok := sh.Tasks[id]
						if !ok {
							t.Errorf("%s: no task %s", where, id)
							continue
						}
						if !slices.Equal(tk.Argv, wantArgv) {
							t.Errorf("%s %s: cb2ac got\n%q\nwant\n%q", where, id, tk.Argv, wantArgv)
						}
						if tk.Exit0 != "ok" || !yes && (tk.Exit2 != "fail_no_retry" || tk.Exit75 != "fail_retry") {
							t.Errorf("%s %s: exit 0 → %s, 2 → %s, 75 → %s; want ok, fail_no_retry, fail_retry", where, id, tk.Exit0, tk.Exit2, tk.Exit75)
						}
						if tk.Retries < 1 || tk.ExecutionTimeout == "None" || tk.ExecutionTimeout == "" {
							t.Errorf("%s %s: retries %d, execution_timeout %q", where, id, tk.Retries, tk.ExecutionTimeout)
						}
						if k8s {
							checkPod(t, where+" "+id, tk.Pod, imageUID, id)
						}
						// The real cb2ac accepts every task's arguments (once per task and
						// kind of run).
						key := fmt.Sprintf("%s/%v/%v/%v", id, k8s, backfillFrom != "", yes)
						if !checked[key] && len(tk.Argv) > 0 && (!yes || yesAccepted) {
							checked[key] = true
							if r := cb2ac(t, append(slices.Clone(tk.Argv), "--help")...); r.code != 0 || !strings.Contains(r.stdout, "USAGE") {
								t.Errorf("%s %s: cb2ac %q --help: exit %d\n%s%s", where, id, tk.Argv, r.code, r.stdout, r.stderr)
							}
						}
					}
				}
			}
		}
	}
	for _, suffix := range []string{"", "2", "3"} {
		if _, err := os.Stat(marker + suffix); err == nil {
			t.Errorf("backfill_from ran shell code: %s exists", marker+suffix)
		}
	}
}

// checkPod holds a cb2ac_k8s_dag.py pod to what the image and bench/results.md say.
func checkPod(t *testing.T, where string, pod *dagPod, imageUID int, task string) {
	t.Helper()
	if pod == nil {
		t.Errorf("%s: not a KubernetesPodOperator", where)
		return
	}
	if pod.Image == "" || len(pod.Cmds) != 0 {
		t.Errorf("%s: image %q, cmds %q; want the image, its entrypoint (cb2ac) kept", where, pod.Image, pod.Cmds)
	}
	secrets := map[string]bool{}
	for _, s := range pod.Secrets {
		if s.DeployType == "env" && s.Secret != "" && s.Key != "" {
			secrets[s.DeployTarget] = true
		}
	}
	if !secrets["CHARGEBEE_API_KEY"] || !secrets["AC_API_TOKEN"] {
		t.Errorf("%s: secrets %+v; want CHARGEBEE_API_KEY and AC_API_TOKEN from a Kubernetes secret", where, pod.Secrets)
	}
	if len(pod.EnvFrom) == 0 {
		t.Errorf("%s: no env_from for the cloud credentials", where)
	}
	for k, v := range pod.EnvVars {
		if strings.Contains(k, "KEY") || strings.Contains(k, "TOKEN") || strings.Contains(k, "SECRET") {
			t.Errorf("%s: env var %s=%q in the DAG; secrets come from Kubernetes secrets", where, k, v)
		}
	}
	configMounted, tmp := false, false
	for _, m := range pod.VolumeMounts {
		configMounted = configMounted || (m.ReadOnly && strings.HasPrefix(pod.EnvVars["CB2AC_CONFIG"], m.MountPath+"/"))
		tmp = tmp || m.MountPath == "/tmp"
	}
	if !configMounted {
		t.Errorf("%s: CB2AC_CONFIG %q is not in a read-only mounted volume", where, pod.EnvVars["CB2AC_CONFIG"])
	}
	if !pod.SecurityContext.RunAsNonRoot || pod.SecurityContext.RunAsUser != imageUID || imageUID == 0 {
		t.Errorf("%s: pod runs as %d (non-root %v); want the image's user %d", where, pod.SecurityContext.RunAsUser, pod.SecurityContext.RunAsNonRoot, imageUID)
	}
	if !pod.ContainerSecurityContext.ReadOnlyRootFilesystem || !tmp {
		t.Errorf("%s: want a read-only root filesystem and a writable /tmp", where)
	}
	if task == "check" {
		return
	}
	// bench/results.md at 1M customers (2026-12-04 20:51): stages peak at up to
	// 943 MiB RSS (a first sync's plan); the floor keeps the 1311 MiB of the run before, a site's
	// data being less even than the bench's. A load at 1M was not measured, and an
	// earlier run saw a first sync's plan (inside load) at 4077 MiB, so load keeps that
	// room.
	const mib = 1 << 20
	req, lim := quantity(t, pod.Resources.Requests["memory"]), quantity(t, pod.Resources.Limits["memory"])
	minLimit := int64(1311 * mib)
	if task == "load" {
		minLimit = 4077 * mib
	}
	if req < 927*mib || lim < minLimit || lim < req {
		t.Errorf("%s: memory request %s, limit %s; want ≥ 927 MiB requested and a limit ≥ %d MiB", where, pod.Resources.Requests["memory"], pod.Resources.Limits["memory"], minLimit/mib)
	}
	if g := pod.EnvVars["GOMEMLIMIT"]; g != "" && quantity(t, strings.TrimSuffix(g, "B")) >= lim {
		t.Errorf("%s: GOMEMLIMIT %s is not below the memory limit %s", where, g, pod.Resources.Limits["memory"])
	}
}

// quantity reads a Kubernetes memory quantity in the binary suffixes the DAG uses.
func quantity(t *testing.T, s string) int64 {
	t.Helper()
	for i, suf := range []string{"Ki", "Mi", "Gi", "Ti"} {
		if n, ok := strings.CutSuffix(s, suf); ok {
			v, err := strconv.ParseInt(n, 10, 64)
			if err != nil {
				t.Fatalf("quantity %q: %v", s, err)
			}
			return v << (10 * (i + 1))
		}
	}
	t.Fatalf("quantity %q: want a Ki/Mi/Gi/Ti suffix", s)
	return 0
}
