//go:build !unix

package pipeline

func umask(m int) int { return 0 }
