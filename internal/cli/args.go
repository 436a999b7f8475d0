package cli

import (
	"slices"
	"strings"

	"github.com/urfave/cli/v2"
)

// interspersed moves a command's flags before its positional arguments, so
// `cb2ac inspect FILE --format csv` reads as `cb2ac inspect --format csv FILE`:
// urfave/cli v2 stops reading flags at the first positional argument. Flags
// before the command stay where they are; a flag's value (the next argument, for
// a flag that takes one) moves with it; everything after "--" stays positional.
// Unknown commands and flags are left for the cli library to report.
func interspersed(app *cli.App, args []string) []string {
	if len(args) < 2 {
		return args
	}
	out := []string{args[0]}
	rest := args[1:]
	flags, cmds := app.Flags, app.Commands
	i := 0
	for {
		for i < len(rest) && isFlagArg(rest[i]) {
			out = append(out, rest[i])
			i++
			if takesValue(flags, rest[i-1]) && i < len(rest) {
				out = append(out, rest[i])
				i++
			}
		}
		if i >= len(rest) || rest[i] == "--" {
			return append(out, rest[i:]...)
		}
		var cmd *cli.Command
		for _, c := range cmds {
			if c.Name == rest[i] || slices.Contains(c.Aliases, rest[i]) {
				cmd = c
			}
		}
		if cmd == nil {
			return append(out, rest[i:]...)
		}
		out = append(out, rest[i])
		i++
		if len(cmd.Subcommands) > 0 {
			flags, cmds = cmd.Flags, cmd.Subcommands
			continue
		}
		var fl, pos []string
		for i < len(rest) {
			a := rest[i]
			i++
			switch {
			case a == "--":
				return append(append(append(out, fl...), "--"), append(pos, rest[i:]...)...)
			case isFlagArg(a):
				fl = append(fl, a)
				if takesValue(cmd.Flags, a) {
					if i >= len(rest) {
						return args // a flag without its value: the cli library says so
					}
					fl = append(fl, rest[i])
					i++
				}
			default:
				pos = append(pos, a)
			}
		}
		return append(append(out, fl...), pos...)
	}
}

func isFlagArg(a string) bool { return len(a) > 1 && a[0] == '-' && a != "--" }

// takesValue says whether the flag arg (-x, --name; not --name=value) takes the
// next argument as its value.
func takesValue(flags []cli.Flag, arg string) bool {
	name := strings.TrimLeft(arg, "-")
	if strings.Contains(name, "=") {
		return false
	}
	for _, f := range flags {
		if slices.Contains(f.Names(), name) {
			df, ok := f.(cli.DocGenerationFlag)
			return ok && df.TakesValue()
		}
	}
	return false
}
