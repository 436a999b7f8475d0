package validate

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/cb2ac/cb2ac/schemas"
)

// FuzzCheckEmail: CheckEmail never panics, and what it accepts is what AC's importer
// takes (ASCII, one @, no space or control character, a dotted domain). The whole
// rule set on a customer with that email gives exactly one email row or none.
func FuzzCheckEmail(f *testing.F) {
	f.Add("ann@example.com")
	f.Fuzz(func(t *testing.T, email string) {
		why := CheckEmail(email)
		if why == "" {
			if !utf8.ValidString(email) || len(email) > 254 || strings.Count(email, "@") != 1 {
				t.Fatalf("accepted %q", email)
			}
			for i := 0; i < len(email); i++ {
				if c := email[i]; c <= ' ' || c >= 0x7f {
					t.Fatalf("accepted %q with byte %#x", email, c)
				}
			}
			if _, domain, _ := strings.Cut(email, "@"); !strings.Contains(domain, ".") {
				t.Fatalf("accepted %q without a dotted domain", email)
			}
		}
		c := goodCustomer("cus_1", email)
		res := Check([]schemas.Customer{c}, []schemas.Subscription{goodSub("sub_1", "cus_1")}, nil, nil, nil, Config{})
		rows := 0
		for _, e := range res.Errors {
			if e.Entity == "customer" && e.Field == "email" {
				rows++
			}
		}
		trimmed := strings.TrimSpace(email)
		switch {
		case trimmed == "" && rows != 1, trimmed != "" && (CheckEmail(trimmed) == "") == (rows == 1):
			t.Fatalf("email %q: %d email rows, CheckEmail(trimmed) = %q: %+v", email, rows, CheckEmail(trimmed), res.Errors)
		}
		if rows == 0 && len(res.Customers) != 1 {
			t.Fatalf("email %q: no error row and no customer carried on", email)
		}
	})
}
