//go:build unix

package pipeline

import "syscall"

// umask sets the process umask and returns the old one (tests only).
func umask(m int) int { return syscall.Umask(m) }
