//go:build !linux

package main

import "syscall"

// maxRSSBytes converts ru_maxrss, which the BSDs and macOS give in bytes.
func maxRSSBytes(ru *syscall.Rusage) int64 { return ru.Maxrss }

func childAttr() *syscall.SysProcAttr { return nil }
