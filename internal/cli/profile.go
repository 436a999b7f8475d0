package cli

import (
	"fmt"
	"os"
	"runtime/metrics"
	"runtime/pprof"
	"time"

	"github.com/urfave/cli/v2"
)

// Hidden profiling flags, for scripts/bench and whoever chases a slow stage:
//
//	cb2ac --cpuprofile cpu.prof --memprofile heap.prof --data-dir D --run-id R transform
//	go tool pprof -top -sample_index=inuse_space bin/cb2ac heap.prof
//
// The heap profile is written whenever the live heap reaches a new peak (10% over
// the last one written), so it shows what is held at the stage's peak, not at exit.
var profileFlags = []cli.Flag{
	&cli.StringFlag{Name: "cpuprofile", Hidden: true, Usage: "write a CPU profile to `FILE`"},
	&cli.StringFlag{Name: "memprofile", Hidden: true, Usage: "write a heap profile taken at the live heap's peak to `FILE`"},
}

var stopProfiles = func() {}

func startProfiles(c *cli.Context) error {
	var stops []func()
	stopProfiles = func() {
		for i := len(stops) - 1; i >= 0; i-- {
			stops[i]()
		}
	}
	if path := c.String("cpuprofile"); path != "" {
		f, err := os.Create(path)
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			f.Close()
			return err
		}
		stops = append(stops, func() { pprof.StopCPUProfile(); f.Close() })
	}
	if path := c.String("memprofile"); path != "" {
		write := func() {
			if f, err := os.Create(path); err == nil {
				pprof.Lookup("heap").WriteTo(f, 0)
				f.Close()
			}
		}
		done, stopped := make(chan struct{}), make(chan struct{})
		go func() {
			defer close(stopped)
			sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
			var peak uint64
			t := time.NewTicker(20 * time.Millisecond)
			defer t.Stop()
			for {
				select {
				case <-done:
					if peak == 0 {
						write()
					}
					return
				case <-t.C:
				}
				metrics.Read(sample)
				if live := sample[0].Value.Uint64(); live > peak+peak/10 {
					peak = live
					write()
				}
			}
		}()
		stops = append(stops, func() { close(done); <-stopped })
	}
	if len(stops) > 0 {
		fmt.Fprintln(c.App.ErrWriter, "cb2ac: profiling on")
	}
	return nil
}
