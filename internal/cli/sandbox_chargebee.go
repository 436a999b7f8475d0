package cli

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	cbsandbox "github.com/cb2ac/cb2ac/sandbox/chargebee"
)

// sandboxChargebeeCommand is `cb2ac sandbox chargebee`: the Chargebee emulator in
// the foreground, until interrupted.
func sandboxChargebeeCommand(stdout, stderr io.Writer) *cli.Command {
	return &cli.Command{
		Name:  "chargebee",
		Usage: "serve Chargebee API v2 list endpoints from a folder of list pages (fixtures/chargebee), for demos and tests",
		Flags: append(sandboxFlagsFor("127.0.0.1:7431", 0, "API requests allowed per minute; over it, 429 until the minute ends (0 = no limit)", "500/502/503"),
			&cli.StringFlag{Name: "pages", Usage: "folder of list pages to serve: DIR/customers/*.json, DIR/subscriptions/*.json, ..."},
			&cli.StringSliceFlag{Name: "apply", Usage: "change set(s) applied over --pages at start, by id (fixtures/chargebee-day2)"},
			&cli.StringFlag{Name: "key-env", Value: "CHARGEBEE_API_KEY", Usage: "environment variable holding the only API key accepted (unset: any non-empty key)"},
			&cli.BoolFlag{Name: "retry-after", Usage: "send Retry-After with 429s (Chargebee does not document one)"},
			&cli.Uint64Flag{Name: "seed", Usage: "seed of the --fail-rate choices"},
		),
		Action: func(c *cli.Context) error {
			srv, err := cbsandbox.New(cbsandbox.Options{
				Addr: c.String("addr"), APIKey: os.Getenv(c.String("key-env")), Pages: c.String("pages"),
				FailRate: c.Float64("fail-rate"), Latency: c.Duration("latency"),
				RateLimit: c.Int("rate-limit"), RetryAfter: c.Bool("retry-after"), Seed: c.Uint64("seed"),
			})
			if err != nil {
				return err
			}
			for _, dir := range c.StringSlice("apply") {
				if err := srv.Apply(dir); err != nil {
					return err
				}
			}
			url, err := srv.Start()
			if err != nil {
				return err
			}
			defer srv.Close()
			if host, _, err := net.SplitHostPort(c.String("addr")); err == nil {
				if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
					fmt.Fprintf(stderr, "warning: the sandbox listens on %s, not only on this machine\n", host)
				}
			}
			n := srv.Counts()
			fmt.Fprintf(stdout, "chargebee sandbox on %s  customers=%d subscriptions=%d invoices=%d item_prices=%d gifts=%d\n",
				url, n["customers"], n["subscriptions"], n["invoices"], n["item_prices"], n["gifts"])
			fmt.Fprintf(stdout, "use it with: CHARGEBEE_API_URL=%s CHARGEBEE_API_KEY=<the key> cb2ac extract --source chargebee\n", url)
			fmt.Fprintf(stdout, "admin: POST %s/admin/apply?dir=DIR, GET %s/admin/requests (same Basic auth); Ctrl-C stops\n", strings.TrimSuffix(url, "/api/v2"), strings.TrimSuffix(url, "/api/v2"))
			untilStopped(c)
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			return srv.Shutdown(ctx)
		},
	}
}
