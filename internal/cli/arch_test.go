package cli

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/cb2ac/cb2ac/"

// imports lists the module packages the non-test Go files under dir import.
func imports(t *testing.T, dir string) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		for _, im := range f.Imports {
			p, _ := strconv.Unquote(im.Path.Value)
			if strings.HasPrefix(p, module) {
				out[path] = append(out[path], strings.TrimPrefix(p, module))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// The invariants of ARCHITECTURE.md that are about who may import whom.
func TestArchitectureImports(t *testing.T) {
	stages := []string{"extract", "validate", "transform", "load"}
	for _, s := range stages {
		found := imports(t, filepath.Join("stages", s))
		if len(found) == 0 {
			t.Fatalf("stages/%s: no file imports anything of the module; the walk is broken", s)
		}
		for file, ps := range found {
			for _, p := range ps {
				for _, other := range stages {
					if other != s && (p == "stages/"+other || strings.HasPrefix(p, "stages/"+other+"/")) {
						t.Errorf("%s imports %s: a stage never imports another (they meet in schemas/ and files)", file, p)
					}
				}
				if p == "pipeline" || strings.HasPrefix(p, "internal/cli") {
					t.Errorf("%s imports %s: a stage knows nothing of runs or the CLI", file, p)
				}
				if strings.HasPrefix(p, "sandbox/") {
					t.Errorf("%s imports %s: production code never imports a sandbox", file, p)
				}
			}
		}
	}
	for file, ps := range imports(t, "schemas") {
		for _, p := range ps {
			if !strings.HasPrefix(p, "internal/") {
				t.Errorf("%s imports %s: schemas depends on nothing but internal helpers", file, p)
			}
		}
	}
	for file, ps := range imports(t, "pipeline") {
		for _, p := range ps {
			if strings.HasPrefix(p, "sandbox/") || strings.HasPrefix(p, "internal/cli") {
				t.Errorf("%s imports %s: the pipeline runs stages, not sandboxes or commands", file, p)
			}
		}
	}
}
