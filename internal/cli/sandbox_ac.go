package cli

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/urfave/cli/v2"

	acsandbox "github.com/cb2ac/cb2ac/sandbox/ac"
)

// sandboxACCommand is `cb2ac sandbox ac`: the local ActiveCampaign emulator, serving
// until SIGINT or SIGTERM. Only the base URL goes to stdout, so a script can capture
// it; the token is read from an environment variable and never printed.
func sandboxACCommand(stdout, stderr io.Writer) *cli.Command {
	return &cli.Command{
		Name:  "ac",
		Usage: "run a local ActiveCampaign emulator (REST v3 + Recurring Payments GraphQL)",
		Flags: append(sandboxFlagsFor("127.0.0.1:0", 5, "requests per second for the account, REST and GraphQL together (0 = off)", "500 or 503"),
			&cli.StringFlag{Name: "state", Usage: "JSON file the account is kept in across restarts (default: memory only)"},
			&cli.StringFlag{Name: "token-env", Value: "AC_API_TOKEN", Usage: "environment variable holding the accepted Api-Token (default token \"" + acsandbox.DefaultToken + "\" when unset)"},
			&cli.StringFlag{Name: "fail-emails", Usage: "comma-separated emails whose records always fail"},
			&cli.StringSliceFlag{Name: "list", Value: cli.NewStringSlice("Customers"), Usage: "list that exists in the account (repeatable)"},
			&cli.DurationFlag{Name: "apply-delay", Value: acsandbox.DefaultApplyDelay, Usage: "delay before bulk imports and recurring payment batches are applied"},
		),
		Action: func(c *cli.Context) error {
			token := os.Getenv(c.String("token-env"))
			var failEmails []string
			for _, e := range strings.Split(c.String("fail-emails"), ",") {
				if e = strings.TrimSpace(e); e != "" {
					failEmails = append(failEmails, e)
				}
			}
			applyDelay := c.Duration("apply-delay")
			if applyDelay == 0 {
				applyDelay = 1 // Options reads 0 as "default"; the flag's 0 means "at once"
			}
			srv, err := acsandbox.New(acsandbox.Options{
				Token:      token,
				RateLimit:  c.Int("rate-limit"),
				FailRate:   c.Float64("fail-rate"),
				FailEmails: failEmails,
				Latency:    c.Duration("latency"),
				StatePath:  c.String("state"),
				Lists:      c.StringSlice("list"),
				ApplyDelay: applyDelay,
				Addr:       c.String("addr"),
				Logf:       func(format string, args ...any) { fmt.Fprintf(stderr, format+"\n", args...) },
			})
			if err != nil {
				return fmt.Errorf("sandbox ac: %w", err)
			}
			url, err := srv.Start()
			if err != nil {
				return fmt.Errorf("sandbox ac: %w", err)
			}
			fmt.Fprintln(stdout, url)
			tokenFrom := "$" + c.String("token-env")
			if token == "" {
				tokenFrom = "the default sandbox token"
			}
			fmt.Fprintf(stderr, "sandbox ac: serving %s/api/3 (token from %s); Ctrl-C to stop\n", url, tokenFrom)

			untilStopped(c)
			if err := srv.Close(); err != nil {
				return fmt.Errorf("sandbox ac: %w", err)
			}
			return nil
		},
	}
}
