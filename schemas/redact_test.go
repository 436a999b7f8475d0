package schemas

import (
	"strings"
	"testing"
)

func TestRedactEmail(t *testing.T) {
	for _, tc := range []struct{ email, msg, want string }{
		{"Ann@Example.com", `email "Ann@Example.com" is not valid: x`, `email "[redacted]" is not valid: x`},
		{" ann@example.com ", `AC: contact ann@example.com already exists`, `AC: contact [redacted] already exists`},
		{"ann\x00lee@example.com", `email "ann\x00lee@example.com" is not valid: character control not allowed before the @`,
			`email "[redacted]" is not valid: character control not allowed before the @`},
		{"a\"b@example.com", `email "a\"b@example.com" is not valid`, `email "[redacted]" is not valid`},
		{"jörg@example.de", `email "jörg@example.de" is not valid: non-ASCII character before the @`, `email "[redacted]" is not valid: non-ASCII character before the @`},
		{"", `customer has no email; AC contacts are keyed by email`, `customer has no email; AC contacts are keyed by email`},
		{"x@example.com", `email is also used by other@example.org (AC emails are unique)`, `email is also used by [redacted] (AC emails are unique)`},
	} {
		e := ValidationError{Email: tc.email, Message: tc.msg, RecordID: "cus_1"}
		e.RedactEmail()
		if e.Email != "" || e.Message != tc.want || e.RecordID != "cus_1" {
			t.Errorf("%q: email %q message %q, want %q", tc.email, e.Email, e.Message, tc.want)
		}
		if tc.email != "" && strings.Contains(e.Message, strings.TrimSpace(tc.email)) {
			t.Errorf("%q still in %q", tc.email, e.Message)
		}
	}
}
