package pipeline

import (
	"os"
	"syscall"
)

// CrashEnv is for tests only: when CB2AC_CRASH_AT names one of the points below,
// the process SIGKILLs itself there, so the crash tests can stop a run between two
// file writes that no outside observer could time (validate and transform take
// milliseconds). Nothing deferred runs, no file is closed or cleaned up: exactly
// what a kill -9 or an OOM kill leaves behind. Unset, it costs one Getenv per point.
//
// Points, for each stage S (extract, validate, transform, load):
//
//	S:started     the manifest says S is running; S has written nothing
//	S:written     S wrote every file; the manifest still says running
//	S:succeeded   the manifest says S succeeded; the next step has not begun
//	load:state    state.json points at the new synced snapshot; the extract
//	              watermark has not moved
const CrashEnv = "CB2AC_CRASH_AT"

func crashAt(point string) {
	if os.Getenv(CrashEnv) != point {
		return
	}
	syscall.Kill(os.Getpid(), syscall.SIGKILL)
	select {} // the signal is on its way; do not take another step
}
