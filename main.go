// Command cb2ac keeps ActiveCampaign in step with Chargebee: a batch ETL of
// file-based stages (extract → validate → transform → load) over run folders.
// ARCHITECTURE.md is the map; the commands live in internal/cli.
package main

import (
	"os"

	"github.com/cb2ac/cb2ac/internal/cli"
)

// version is set at build time (-ldflags "-X main.version=...").
var version = "dev"

func main() { os.Exit(cli.Main(os.Args, version)) }
