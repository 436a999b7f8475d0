package main

import "syscall"

// maxRSSBytes converts ru_maxrss, which Linux gives in KiB.
func maxRSSBytes(ru *syscall.Rusage) int64 { return ru.Maxrss * 1024 }

// childAttr kills a measured child when its helper dies (bench interrupted).
func childAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
