package cli

import (
	"fmt"
	"io"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"testing"
)

// fakeTerm is a terminal screen: it applies \r, \n, ESC[K and overwriting as a
// terminal does, so a test reads the lines a person would see.
type fakeTerm struct {
	mu    sync.Mutex
	lines [][]byte // the last one is the cursor's
	col   int
}

func (t *fakeTerm) Write(b []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.lines == nil {
		t.lines = [][]byte{nil}
	}
	for i := 0; i < len(b); i++ {
		cur := &t.lines[len(t.lines)-1]
		switch b[i] {
		case '\r':
			t.col = 0
		case '\n':
			t.lines, t.col = append(t.lines, nil), 0
		case 0x1b:
			j := i + 2
			for j < len(b) && (b[j] < 0x40 || b[j] > 0x7e) {
				j++
			}
			if j < len(b) && b[j] == 'K' && t.col < len(*cur) {
				*cur = (*cur)[:t.col]
			}
			i = j
		default:
			if t.col < len(*cur) {
				(*cur)[t.col] = b[i]
			} else {
				*cur = append(*cur, b[i])
			}
			t.col++
		}
	}
	return len(b), nil
}

func (t *fakeTerm) screen() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]string, len(t.lines))
	for i, l := range t.lines {
		out[i] = string(l)
	}
	return out
}

// The two kinds of progress line cb2ac draws: the extract's (drawn, cleared to the
// end, cursor back to column 0) and the load's progress bar (drawn from column 0,
// cursor left at its end).
var progressFrames = map[string]func(i int) string{
	"extract": func(i int) string {
		return fmt.Sprintf("\rextract  customers %d/%dp subscriptions 0/0p\x1b[K\r", i*100, i)
	},
	"load": func(i int) string { return fmt.Sprintf("\rload      records %d/40 [=====>    ]", i) },
}

var logLineRE = regexp.MustCompile(`^level=INFO msg="log line" i=[0-9]+$`)

// checkScreen: every finished line is a whole log line, and the last line is the
// progress line (or empty).
func checkScreen(t *testing.T, screen []string, logs int, frame string) []string {
	t.Helper()
	var bad []string
	seen := 0
	for _, l := range screen[:len(screen)-1] {
		if logLineRE.MatchString(l) {
			seen++
			continue
		}
		bad = append(bad, l)
	}
	if seen != logs {
		bad = append(bad, fmt.Sprintf("(%d whole log lines, want %d)", seen, logs))
	}
	if last := screen[len(screen)-1]; last != "" && !strings.HasPrefix(last, frame) {
		bad = append(bad, "last line: "+last)
	}
	return bad
}

func TestConsoleKeepsProgressOffLogLines(t *testing.T) {
	newLog := func(w io.Writer) *slog.Logger {
		return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		}}))
	}
	for name, frame := range progressFrames {
		prefix := strings.Fields(frame(0))[0]
		t.Run(name, func(t *testing.T) {
			// Progress and logs straight to the terminal, as before: lines mix.
			raw := &fakeTerm{}
			log := newLog(raw)
			for i := range 20 {
				io.WriteString(raw, frame(i))
				log.Info("log line", "i", i)
			}
			if bad := checkScreen(t, raw.screen(), 20, "\r"+prefix); len(bad) == 0 {
				t.Fatal("the check sees no mixed lines without the console; it cannot fail")
			}

			// Through the console, one after the other and then concurrently.
			term := &fakeTerm{}
			con := newConsole(term)
			log = newLog(con.lines(term))
			for i := range 20 {
				io.WriteString(con.progress(), frame(i))
				log.Info("log line", "i", i)
			}
			var wg sync.WaitGroup
			wg.Add(2)
			go func() {
				defer wg.Done()
				for i := range 500 {
					io.WriteString(con.progress(), frame(i))
				}
			}()
			go func() {
				defer wg.Done()
				for i := range 200 {
					log.Info("log line", "i", i)
				}
			}()
			wg.Wait()
			screen := term.screen()
			if bad := checkScreen(t, screen, 220, prefix); len(bad) > 0 {
				t.Errorf("lines mixed through the console:\n%s", strings.Join(bad, "\n"))
			}
			if last := screen[len(screen)-1]; !strings.Contains(last, "499") {
				t.Errorf("the progress line is not redrawn under the logs: last line %q", last)
			}
		})
	}
}

// Summaries on stdout, shown on the same terminal, also clear the progress line.
func TestConsoleOtherStream(t *testing.T) {
	term := &fakeTerm{}
	con := newConsole(term)
	out := con.lines(term) // stdout, here the same screen
	io.WriteString(con.progress(), progressFrames["load"](3))
	io.WriteString(out, "extract   ok   customers=1\n")
	if s := term.screen(); len(s) != 2 || s[0] != "extract   ok   customers=1" || !strings.HasPrefix(s[1], "load      records 3/40") {
		t.Errorf("screen %q", s)
	}
}
