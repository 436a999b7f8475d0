package cli

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/urfave/cli/v2"

	"github.com/cb2ac/cb2ac/internal/atomicfile"
	acsandbox "github.com/cb2ac/cb2ac/sandbox/ac"
	cbsandbox "github.com/cb2ac/cb2ac/sandbox/chargebee"
	"github.com/cb2ac/cb2ac/stages/extract"
)

// sandboxCommand groups the two local API emulators.
func sandboxCommand(stdout, stderr io.Writer) *cli.Command {
	return &cli.Command{
		Name:  "sandbox",
		Usage: "run a local emulator of the Chargebee or ActiveCampaign API (for demos and tests)",
		Subcommands: []*cli.Command{
			sandboxChargebeeCommand(stdout, stderr),
			sandboxACCommand(stdout, stderr),
		},
	}
}

// sandboxFlags are the flags of `run --sandbox`.
var sandboxFlags = []cli.Flag{
	&cli.BoolFlag{Name: "sandbox", Usage: "run against in-process Chargebee and AC sandboxes (AC state kept in DATA/sandbox/), never a real account"},
	&cli.StringFlag{Name: "sandbox-pages", Value: "fixtures/chargebee", Usage: "with --sandbox: the list pages the Chargebee sandbox serves"},
	&cli.StringSliceFlag{Name: "sandbox-apply", Usage: "with --sandbox: change sets applied over the pages, in order (fixtures/chargebee-day2)"},
	&cli.IntFlag{Name: "sandbox-ac-rate", Value: 5, Usage: "with --sandbox: the AC sandbox's requests per second (0 = no limit)"},
}

// sandboxList is the list the AC sandbox account has, used by `run --sandbox` when
// the config names none.
const sandboxList = "Customers"

// sandboxes are the two in-process emulators of `run --sandbox`.
type sandboxes struct {
	cb *cbsandbox.Server
	ac *acsandbox.Server
}

// startSandboxes starts both emulators and points this process at them. The
// endpoints and secrets go into this process's environment, replacing whatever the
// user had set there: a demo can then never reach a real account, and the stages
// read them exactly as they read real ones. Both secrets are random per process, so a
// test can grep the data dir for them.
func startSandboxes(c *cli.Context, dataDir string, req *extract.Options) (*sandboxes, error) {
	if req.In != "" {
		return nil, fmt.Errorf("run --sandbox: the Chargebee sandbox serves --sandbox-pages; --in is not used")
	}
	if req.Source != "" && c.IsSet("source") && req.Source != extract.SourceChargebee {
		return nil, fmt.Errorf("run --sandbox reads the Chargebee sandbox's API: --source %s is not used", req.Source)
	}
	req.Source = extract.SourceChargebee
	cbKey, acToken := randomSecret(), randomSecret()
	stateDir := filepath.Join(dataDir, "sandbox")
	if err := os.MkdirAll(stateDir, 0o700); err != nil {
		return nil, fmt.Errorf("run --sandbox: %w", err)
	}
	addrs := loadSandboxAddrs(stateDir)

	cb, err := cbsandbox.New(cbsandbox.Options{APIKey: cbKey, Pages: c.String("sandbox-pages"), Addr: freeOr(addrs.Chargebee)})
	if err != nil {
		return nil, fmt.Errorf("run --sandbox: chargebee: %w", err)
	}
	for _, dir := range c.StringSlice("sandbox-apply") {
		if err := cb.Apply(dir); err != nil {
			return nil, fmt.Errorf("run --sandbox: chargebee: %w", err)
		}
	}
	cbURL, err := cb.Start()
	if err != nil {
		return nil, fmt.Errorf("run --sandbox: chargebee: %w", err)
	}
	acs, err := acsandbox.New(acsandbox.Options{
		Token:     acToken,
		RateLimit: c.Int("sandbox-ac-rate"),
		StatePath: filepath.Join(stateDir, "ac.json"),
		Lists:     []string{sandboxList},
		Addr:      freeOr(addrs.AC),
	})
	if err != nil {
		cb.Close()
		return nil, fmt.Errorf("run --sandbox: ac: %w", err)
	}
	acURL, err := acs.Start()
	if err != nil {
		cb.Close()
		return nil, fmt.Errorf("run --sandbox: ac: %w", err)
	}
	saveSandboxAddrs(stateDir, sandboxAddrs{Chargebee: hostPort(cbURL), AC: hostPort(acURL)})
	env := map[string]string{
		"CHARGEBEE_API_URL": cbURL, "CHARGEBEE_API_KEY": cbKey, "CHARGEBEE_API_KEY_FILE": "", "CHARGEBEE_SITE": "",
		"AC_API_URL": acURL, "AC_API_TOKEN": acToken, "AC_API_TOKEN_FILE": "",
	}
	for k, v := range env {
		if v == "" {
			os.Unsetenv(k)
		} else {
			os.Setenv(k, v)
		}
	}
	return &sandboxes{cb: cb, ac: acs}, nil
}

// close stops both emulators (the AC one saves its state) and prints what the run
// asked of each: the write count is what a nightly run spends of AC's budget.
func (s *sandboxes) close(w io.Writer) error {
	cbReqs := len(s.cb.Requests())
	acReqs := len(s.ac.Requests())
	acWrites := s.ac.WriteRequests()
	s.cb.Close()
	if err := s.ac.Close(); err != nil {
		return fmt.Errorf("sandbox ac: %w", err)
	}
	fmt.Fprintf(w, "sandbox   chargebee requests=%d; activecampaign requests=%d writes=%d\n", cbReqs, acReqs, acWrites)
	return nil
}

// sandboxAddrs are the addresses the last `run --sandbox` listened on. The next run
// listens there again when it can, because state.json keys the extract watermark and
// the AC setup cache by API URL: same URL, same site, so the run is incremental.
type sandboxAddrs struct {
	Chargebee string `json:"chargebee"`
	AC        string `json:"ac"`
}

const sandboxAddrsFile = "addrs.json"

func loadSandboxAddrs(dir string) sandboxAddrs {
	var a sandboxAddrs
	if b, err := os.ReadFile(filepath.Join(dir, sandboxAddrsFile)); err == nil {
		json.Unmarshal(b, &a) // unreadable: fresh ports, a full first run
	}
	return a
}

func saveSandboxAddrs(dir string, a sandboxAddrs) {
	b, _ := json.Marshal(a)
	atomicfile.WriteFile(filepath.Join(dir, sandboxAddrsFile), b) // best effort, see loadSandboxAddrs
}

// freeOr returns addr when it can be listened on now, else any free port: the port
// of the last run may be taken, which costs this run a full read, nothing worse.
func freeOr(addr string) string {
	if addr == "" {
		return ""
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return ""
	}
	ln.Close()
	return addr
}

func hostPort(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return ""
	}
	return u.Host
}

func randomSecret() string {
	b := make([]byte, 16)
	rand.Read(b) // never fails (crypto/rand)
	return "sbx-" + hex.EncodeToString(b)
}

// sandboxFlagsFor are the flags both sandbox commands take: where to listen and
// how to misbehave (the rate limit's unit differs: AC counts per second, Chargebee
// per minute, as the real services do).
func sandboxFlagsFor(addr string, rate int, rateUsage, failCodes string) []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "addr", Value: addr, Usage: "address to listen on (port 0: any free port)"},
		&cli.IntFlag{Name: "rate-limit", Value: rate, Usage: rateUsage},
		&cli.Float64Flag{Name: "fail-rate", Usage: "share of requests answered " + failCodes + " (0..1)"},
		&cli.DurationFlag{Name: "latency", Usage: "delay added to every request"},
	}
}

// untilStopped blocks a foreground sandbox until SIGINT or SIGTERM, or until the
// command's context ends.
func untilStopped(c *cli.Context) {
	ctx := c.Context
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	<-ctx.Done()
}
