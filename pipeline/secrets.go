package pipeline

import (
	"fmt"
	"os"
	"strings"
)

// Secret reads a secret from the environment variable name, or from the file named
// by name_FILE (the Docker/Kubernetes convention). Secrets are never config keys or
// flags, so they do not end up in shell history, manifests or logs.
func Secret(name string) (string, error) {
	if v := strings.TrimSpace(os.Getenv(name)); v != "" {
		return v, nil
	}
	if path := os.Getenv(name + "_FILE"); path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return "", fmt.Errorf("%s_FILE: %w", name, err)
		}
		if v := strings.TrimSpace(string(b)); v != "" {
			return v, nil
		}
		return "", fmt.Errorf("%s_FILE: %s is empty", name, path)
	}
	return "", nil
}
