package cli

import (
	"debug/buildinfo"
	"debug/elf"
	"encoding/json"
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
