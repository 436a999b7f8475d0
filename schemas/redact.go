package schemas

import (
	"regexp"
	"strconv"
	"strings"
)

// Redacted replaces what RedactEmail removes.
const Redacted = "[redacted]"

// emailLike matches anything shaped like an address inside a message: error text
// from AC may name an email that is not the row's own.
var emailLike = regexp.MustCompile(`[^\s"'<>(),;]+@[^\s"'<>(),;]+`)

// RedactEmail blanks the row's email and scrubs it from the message, in the forms a
// message carries it (trimmed, as is or Go-quoted as validate's %q writes it, in
// any case), along with anything else shaped like an address. It is the one rule for
// `cb2ac errors --redact` and for the errors.csv files written with --redact /
// redact_errors: the CSV can then go to people who may not see customer data.
func (e *ValidationError) RedactEmail() {
	if em := strings.TrimSpace(e.Email); em != "" {
		q := strconv.Quote(em)
		for _, form := range []string{q[1 : len(q)-1], em} {
			re := regexp.MustCompile(`(?i)` + regexp.QuoteMeta(form))
			e.Message = re.ReplaceAllLiteralString(e.Message, Redacted)
		}
	}
	e.Message = emailLike.ReplaceAllString(e.Message, Redacted)
	e.Email = ""
}
