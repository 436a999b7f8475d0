package cli

import (
	"bytes"
	"io"
	"sync"
)

// console is a terminal shared by a live progress line and whole lines (logs,
// summaries): one lock for both, and a whole line first clears the progress line,
// then is written, then the progress line is drawn again under it. Without it a log
// line written while the progress line is on screen lands on the same line.
type console struct {
	mu   sync.Mutex
	term io.Writer // where the progress line is drawn
	// line is the text of the terminal's last line as the progress writer left
	// it, and col the cursor's column in it: what to clear and to draw again.
	line []byte
	col  int
}

func newConsole(term io.Writer) *console { return &console{term: term} }

// progress is the writer for the live progress line.
func (c *console) progress() io.Writer { return consoleProgress{c} }

// lines is the writer for whole lines to w: the terminal itself (logs on stderr), or
// another stream shown on it (summaries on stdout).
func (c *console) lines(w io.Writer) io.Writer { return consoleLines{c, w} }

type consoleProgress struct{ c *console }

func (p consoleProgress) Write(b []byte) (int, error) {
	p.c.mu.Lock()
	defer p.c.mu.Unlock()
	n, err := p.c.term.Write(b)
	p.c.follow(b[:n])
	return n, err
}

// follow keeps line and col as a terminal would: \r moves to column 0, \n ends the
// line, ESC[K clears from the cursor on, other CSI sequences take no room, and a
// character overwrites the column it is written at.
func (c *console) follow(b []byte) {
	for i := 0; i < len(b); i++ {
		switch ch := b[i]; ch {
		case '\r':
			c.col = 0
		case '\n':
			c.line, c.col = c.line[:0], 0
		case 0x1b:
			if i+1 < len(b) && b[i+1] == '[' {
				j := i + 2
				for j < len(b) && (b[j] < 0x40 || b[j] > 0x7e) {
					j++
				}
				if j < len(b) && b[j] == 'K' {
					c.line = c.line[:min(c.col, len(c.line))]
				}
				i = j
			}
		default:
			if c.col < len(c.line) {
				c.line[c.col] = ch
			} else {
				c.line = append(c.line, ch)
			}
			c.col++
		}
	}
}

type consoleLines struct {
	c *console
	w io.Writer
}

func (l consoleLines) Write(b []byte) (int, error) {
	c := l.c
	c.mu.Lock()
	defer c.mu.Unlock()
	shown := len(bytes.TrimSpace(c.line)) > 0
	if shown {
		io.WriteString(c.term, "\r\x1b[K")
	}
	n, err := l.w.Write(b)
	if !shown {
		return n, err
	}
	if !bytes.HasSuffix(b, []byte("\n")) {
		// A line still open: the progress line is gone until its next draw.
		c.line, c.col = c.line[:0], 0
		return n, err
	}
	c.term.Write(c.line)
	if c.col < len(c.line) {
		io.WriteString(c.term, "\r")
		c.term.Write(c.line[:c.col])
	}
	return n, err
}
