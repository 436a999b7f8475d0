// Command genfixtures writes deterministic Chargebee API v2 list pages used as
// test fixtures by the "pages" extract source.
//
//	go run ./scripts/genfixtures            # writes fixtures/chargebee and fixtures/chargebee-day2
//	go run ./scripts/genfixtures -out DIR   # writes DIR/chargebee and DIR/chargebee-day2
//
// Every run writes byte-for-byte identical files: the data is hand-written or
// drawn from a math/rand/v2 PCG source with a fixed seed, "now" is a constant,
// and JSON objects are maps (encoding/json sorts their keys).
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"github.com/cb2ac/cb2ac/scripts/internal/catalog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

type obj = map[string]any

const (
	pageSize = 20
	day      = int64(86400)
)

var (
	day1Now    = ts("2026-11-20T02:00:00Z")
	day2Now    = ts("2026-11-21T02:00:00Z")
	rangeStart = ts("2024-01-05T00:00:00Z")
)

func ts(s string) int64 {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t.Unix()
}

func iso(t int64) string { return time.Unix(t, 0).UTC().Format(time.RFC3339) }

func i64(v int64) *int64 { return &v }

// ---------------------------------------------------------------- catalog

type itemPrice struct {
	id, name, ext, item, family, typ, cur string
	price                                 int64
	period                                int
	unit, model, status                   string
	created, updated                      int64
	decimal                               string // price_in_decimal (multi-decimal pricing); then no integer price
}

// legacyPlan is a Product Catalog 1.0 plan or addon of the PC 1.0 site
// (fixtures/chargebee-pc1): name is the internal name, invoiceName what invoices
// show (plan.invoice_name / addon.invoice_name).
type legacyPlan struct {
	id, name, cur string
	price         int64
	period        int
	unit          string
	invoiceName   string
	addon         bool
	setup         int64 // plan setup_cost, billed once on the first invoice
}

var legacyPlans = []legacyPlan{
	{"basic-monthly", "Basic Monthly", "USD", 1500, 1, "month", "Basic", false, 0},
	{"premium-yearly", "Premium Yearly", "USD", 15000, 1, "year", "Premium", false, 4900},
	{"team-quarterly", "Team Quarterly EUR", "EUR", 12000, 3, "month", "Team", false, 0},
	{"basic-monthly-eur", "Basic Monthly EUR", "EUR", 1400, 1, "month", "Basic", false, 0},
	// addons (PC 1.0 addons are priced per period like their plan)
	{"extra-user", "Extra User Monthly", "USD", 500, 1, "month", "Extra user", true, 0},
	{"extra-user-annual", "Extra User Yearly", "USD", 5000, 1, "year", "Extra user", true, 0},
	{"support-eur-quarterly", "Support Quarterly EUR", "EUR", 1500, 3, "month", "Priority support", true, 0},
}

func findLegacy(id string) legacyPlan {
	for _, p := range legacyPlans {
		if p.id == id {
			return p
		}
	}
	panic("unknown legacy plan " + id)
}

// ---------------------------------------------------------------- people

type person struct {
	h, id              string // handle used by the scenario table; explicit id for special cases
	first, last, email string
	noEmail            bool
	country            string
	company, phone     string
	pay                string // card (default), paypal, dd, none
	cardStatus         string // valid (default), expiring, expired
	noAddr             bool
	created, updated   string // explicit RFC 3339 times
	createdZero        bool
	deleted            bool
	cf                 [][2]string
	extra              bool // added with the SDK-shaped fixtures: draws from gen.more
	erased             bool // "Clear personal data" done before day 1
	consolidated       bool // consolidated invoicing: one invoice for all its subscriptions
}

var people = []person{
	// United States
	{h: "emily", first: "Emily", last: "Carter", email: "Emily.Carter@Example.com", country: "US", company: "Carter Analytics", phone: "+1 415 555 0132", cf: [][2]string{{"cf_industry", "SaaS"}, {"cf_marketing_opt_in", "yes"}, {"cf_referral_source", "Google"}}},
	{h: "michael", first: "Michael", last: "Johnson", email: "michael.johnson@example.com", country: "US"},
	{h: "sarah", first: "Sarah", last: "Thompson", email: "SThompson@Example.org", country: "US"},
	{h: "david", first: "David", last: "Kim", email: "david.kim@example.net", country: "US", company: "Kim & Partners LLC", cf: [][2]string{{"cf_industry", "Agency"}, {"cf_marketing_opt_in", "no"}}},
	{h: "jessica", first: "Jessica", last: "Nguyen", email: "jessica.nguyen+billing@example.com", country: "US", company: "Nguyen Design Studio"},
	{h: "chris", first: "Chris", last: "O'Brien", email: "chris.obrien@example.com", country: "US"},
	{h: "laura", first: "Laura", last: "Martinez", email: "laura.martinez@example.org", country: "US", company: "Martinez Media", cf: [][2]string{{"cf_industry", "Media"}, {"cf_marketing_opt_in", "yes"}, {"cf_referral_source", "Podcast"}}},
	{h: "kevin", first: "Kevin", last: "Patel", email: "Kevin.Patel@Example.com", country: "US"},
	{h: "rachel", first: "Rachel", last: "Green", email: "rachel.green@example.com", country: "US"},
	{h: "daniel", first: "Daniel", last: "Wright", email: "daniel.wright@example.com", country: "US", company: "Wright Robotics 🚀", cf: [][2]string{{"cf_industry", "Hardware"}}},
	{h: "olivia", first: "Olivia", last: "Brown", email: "olivia.brown@example.net", country: "US"},
	{h: "james", first: "James", last: "Wilson", email: "james.wilson@example.com", country: "US", pay: "paypal", created: "2024-07-03T15:12:40Z"},
	{h: "megan", first: "Megan", last: "Davis", email: "megan.davis@example.org", country: "US", cardStatus: "expiring"},
	{h: "brian", first: "Brian", last: "Lee", email: "brian.lee+cb@example.com", country: "US"},
	{h: "ashley", first: "Ashley", last: "Moore", email: "ashley.moore@example.com", country: "US"},
	{h: "tyler", first: "Tyler", last: "Anderson", email: "tyler.anderson@example.com", country: "US", pay: "none", company: "Anderson Freight Inc."},
	{h: "nicole", first: "Nicole", last: "Turner", email: "nicole.turner@example.com", country: "US"},
	{h: "jason", first: "Jason", last: "Scott", email: "jason.scott@example.com", country: "US"},
	{h: "amanda", first: "Amanda", last: "Clark", email: "Amanda.Clark@Example.com", country: "US"},
	{h: "ryan", first: "Ryan", last: "Lewis", email: "ryan.lewis@example.com", country: "US", created: "2025-03-07T08:21:15Z"},
	{h: "stephanie", first: "Stephanie", last: "Hall", email: "stephanie.hall@example.com", country: "US"},
	{h: "justin", first: "Justin", last: "Young", email: "justin.young@example.com", country: "US"},
	{h: "ethan", first: "Ethan", last: "Brooks", email: "ethan.brooks@example.com", country: "US", pay: "none", created: "2026-11-02T18:40:00Z"},
	// United Kingdom
	{h: "oliver", first: "Oliver", last: "Smith", email: "oliver.smith@example.org", country: "GB"},
	{h: "charlotte", first: "Charlotte", last: "Evans", email: "charlotte.evans@example.com", country: "GB", company: "Evans & Co"},
	{h: "harry", first: "Harry", last: "Taylor", email: "harry.taylor@example.net", country: "GB", cardStatus: "expiring"},
	{h: "amelia", first: "Amelia", last: "Hughes", email: "amelia.hughes@example.com", country: "GB"},
	{h: "george", first: "George", last: "Walker", email: "george.walker@example.org", country: "GB"},
	{h: "isla", first: "Isla", last: "Wood", email: "isla.wood@example.com", country: "GB", created: "2026-10-21T11:52:08Z"},
	{h: "eleni", first: "Ελένη", last: "Παπαδοπούλου", email: "eleni.papadopoulou@example.com", country: "GB", cf: [][2]string{{"cf_marketing_opt_in", "yes"}}},
	// Germany
	{h: "zoe", first: "Zoë", last: "Müller", email: "zoe.mueller@example.com", country: "DE", company: "Müller GmbH", pay: "dd"},
	{h: "lukas", first: "Lukas", last: "Schmidt", email: "lukas.schmidt@example.com", country: "DE"},
	{h: "hannah", first: "Hannah", last: "Weber", email: "hannah.weber@example.com", country: "DE", cf: [][2]string{{"cf_industry", "Education"}, {"cf_marketing_opt_in", "yes"}}},
	{h: "felix", first: "Felix", last: "Fischer", email: "felix.fischer@example.com", country: "DE"},
	{h: "jonas", first: "Jonas", last: "Becker", email: "jonas.becker@example.com", country: "DE", company: "Becker Logistik AG"},
	{h: "lea", first: "Lea", last: "Hoffmann", email: "lea.hoffmann@example.com", country: "DE"},
	{h: "max", first: "Max", last: "Wagner", email: "max.wagner@example.com", country: "DE"},
	{h: "sophie", first: "Sophie", last: "Braun", email: "sophie.braun@example.com", country: "DE"},
	{h: "aero", first: "Ærø", last: "Ødegård", email: "aero.odegard@example.com", country: "DE"},
	{h: "lukasz", first: "Łukasz", last: "Żółć", email: "lukasz.zolc@example.com", country: "DE"},
	{h: "clara", first: "Clara", last: "Vogel", email: "clara.vogel@example.com", country: "DE", pay: "none", created: "2026-11-10T09:15:00Z"},
	// France
	{h: "camille", first: "Camille", last: "Dubois", email: "camille.dubois@example.com", country: "FR", company: "Dubois Conseil SARL"},
	{h: "louis", first: "Louis", last: "Martin", email: "louis.martin@example.com", country: "FR", pay: "dd"},
	{h: "chloe", first: "Chloé", last: "Lefèvre", email: "chloe.lefevre@example.com", country: "FR"},
	{h: "hugo", first: "Hugo", last: "Bernard", email: "hugo.bernard@example.com", country: "FR"},
	{h: "elodie", first: "Élodie", last: "Moreau", email: "elodie.moreau@example.com", country: "FR"},
	{h: "manon", first: "Manon", last: "Petit", email: "manon.petit@example.com", country: "FR"},
	// Spain
	{h: "jose", first: "José", last: "Núñez", email: "jose.nunez@example.com", country: "ES", pay: "dd", cf: [][2]string{{"cf_industry", "Retail"}, {"cf_referral_source", "Partner"}}},
	{h: "lucia", first: "Lucía", last: "García", email: "lucia.garcia@example.com", country: "ES"},
	{h: "pablo", first: "Pablo", last: "Fernández", email: "pablo.fernandez@example.com", country: "ES"},
	{h: "marta", first: "Marta", last: "López", email: "marta.lopez@example.com", country: "ES"},
	{h: "carmen", first: "Carmen", last: "Ruiz", email: "carmen.ruiz@example.com", country: "ES"},
	{h: "sofia", first: "Sofía", last: "Marín", email: "sofia.marin@example.com", country: "ES", pay: "none", created: "2026-05-20T16:02:11Z"},
	// Japan
	{h: "taro", first: "太郎", last: "山田", email: "taro.yamada@example.com", country: "JP", company: "山田商事株式会社"},
	{h: "hanako", first: "花子", last: "佐藤", email: "hanako.sato@example.com", country: "JP"},
	{h: "kenji", first: "Kenji", last: "Tanaka", email: "kenji.tanaka@example.com", country: "JP", cardStatus: "expired"},
	{h: "yuki", first: "Yuki", last: "Suzuki", email: "yuki.suzuki@example.com", country: "JP", pay: "none", company: "Suzuki Trading KK"},
	{h: "haruto", first: "Haruto", last: "Watanabe", email: "haruto.watanabe@example.com", country: "JP"},
	{h: "aoi", first: "Aoi", last: "Kobayashi", email: "aoi.kobayashi@example.com", country: "JP"},
	// Kuwait
	{h: "ahmed", first: "Ahmed", last: "Al-Sabah", email: "ahmed.alsabah@example.com", country: "KW", pay: "none", company: "Gulf Horizon Trading"},
	{h: "fatima", first: "Fatima", last: "Al-Mutairi", email: "fatima.almutairi@example.com", country: "KW"},
	{h: "yousef", first: "Yousef", last: "Al-Kandari", email: "yousef.alkandari@example.com", country: "KW"},
	{h: "noura", first: "Noura", last: "Al-Enezi", email: "noura.alenezi@example.com", country: "KW"},
	// Brazil
	{h: "ana", first: "Ana", last: "Souza", email: "ana+billing@example.com", country: "BR", pay: "paypal", cf: [][2]string{{"cf_industry", "E-commerce"}, {"cf_marketing_opt_in", "no"}}},
	{h: "lucas", first: "Lucas", last: "Oliveira", email: "lucas.oliveira@example.com", country: "BR"},
	{h: "beatriz", first: "Beatriz", last: "Santos", email: "beatriz.santos@example.com", country: "BR", cardStatus: "expired"},
	{h: "gabriel", first: "Gabriel", last: "Costa", email: "gabriel.costa@example.com", country: "BR"},
	{h: "mariana", first: "Mariana", last: "Rocha", email: "Mariana.Rocha@Example.net", country: "BR", pay: "paypal"},
	{h: "rafael", first: "Rafael", last: "Lima", email: "rafael.lima@example.com", country: "BR"},

	// Deliberately bad records (ids cus_bad_*).
	{h: "bad_noemail", id: "cus_bad_noemail", first: "Pat", last: "Morgan", noEmail: true, country: "US"},
	{h: "bad_invalid_1", id: "cus_bad_invalid_email_1", first: "Jordan", last: "Reyes", email: "not-an-email", country: "US"},
	{h: "bad_invalid_2", id: "cus_bad_invalid_email_2", first: "Jane", last: "Doe", email: "jane@", country: "GB"},
	{h: "bad_invalid_3", id: "cus_bad_invalid_email_3", first: "Alex", last: "Bauer", email: "a b@example.com", country: "DE"},
	{h: "bad_dupemail_1", id: "cus_bad_dup_email_1", first: "Sam", last: "Taylor", email: "Sam.Taylor@Example.com", country: "US", updated: "2025-02-10T13:45:00Z"},
	{h: "bad_dupemail_2", id: "cus_bad_dup_email_2", first: "Samantha", last: "Taylor", email: "sam.taylor@example.com", country: "US", updated: "2026-09-15T08:05:30Z"},
	{h: "bad_nosub", id: "cus_bad_no_subscription", first: "Quinn", last: "Parker", email: "quinn.parker@example.com", country: "US", pay: "none"},
	{h: "bad_gifter", id: "cus_bad_gift_purchaser", first: "Gail", last: "Gifford", email: "gail.gifford@example.com", country: "US", created: "2026-05-18T10:30:00Z", updated: "2026-11-02T18:39:30Z"},
	{h: "bad_deleted", id: "cus_bad_deleted", first: "Morgan", last: "Blake", email: "morgan.blake@example.com", country: "US", deleted: true},
	{h: "bad_date0", id: "cus_bad_date_created_zero", first: "Casey", last: "Jordan", email: "casey.jordan@example.com", country: "US", createdZero: true},
	{h: "bad_dupid", id: "cus_bad_duplicate_id", first: "Robin", last: "Ellis", email: "robin.ellis@example.com", country: "FR"},

	// Added with the SDK-shaped fixtures (explicit ids; they draw from gen.more, and
	// were all created after the duplicate-id customer, so the original customers
	// keep their ids and pages).
	{h: "consol", id: "cus_consolidated", first: "Noah", last: "Reed", email: "noah.reed@example.com", country: "US", company: "Reed Outfitters", created: "2026-02-02T10:00:00Z", extra: true, consolidated: true},
	{h: "erased", id: "cus_erased", first: "Vera", last: "Lindqvist", email: "vera.lindqvist@example.com", country: "DE", phone: "+49 30 90182077", created: "2026-01-12T08:00:00Z", updated: "2026-08-03T09:30:00Z", extra: true, erased: true},
	{h: "clp", id: "cus_clp", first: "Ignacio", last: "Rojas", email: "ignacio.rojas@example.cl", country: "CL", created: "2026-03-03T14:00:00Z", extra: true},
	{h: "krw", id: "cus_krw", first: "지우", last: "박", email: "jiwoo.park@example.kr", country: "KR", created: "2026-04-08T01:30:00Z", extra: true},
	{h: "decimal", id: "cus_decimal", first: "Grace", last: "Holloway", email: "grace.holloway@example.com", country: "US", company: "Holloway Data", created: "2026-05-11T16:00:00Z", extra: true},
}

// The day-2 brand-new customer.
var newPerson = person{h: "priya", first: "Priya", last: "Shah", email: "priya.shah@example.com", country: "US", phone: "+1 646 555 0178", company: "Shah Labs", created: "2026-11-20T11:05:00Z"}

// ---------------------------------------------------------------- subscriptions scenario table

type item struct {
	price string
	qty   int64
	dq    string // quantity_in_decimal (multi-decimal pricing), e.g. "2.5"
}

type scen struct {
	h          string // customer handle
	id         string // explicit subscription id (bad records)
	status     string
	items      []item // Product Catalog 2.0
	pc1        string // Product Catalog 1.0 plan id
	pc1Addons  []item
	created    string // explicit created_at
	trial      int    // trial length in days
	endAgo     int    // ended subs: the end event is this many days before now
	terms      int    // ended subs: billed terms before the end event
	mid        int    // ended subs: days into the last billed term (0 = at its end)
	reason     string // cancel_reason
	reasonCode string // cancel_reason_code
	rbc        *int64 // remaining_billing_cycles
	due        bool
	resume     bool
	startDate  string // future
	gift       string
	inv        string // invoice specials, comma separated
	ship       bool
	cf         [][2]string
	bad        string // amount, currency, created, term, deleted
	sid        string // explicit id of a good subscription (the extra people's)
	autoColl   string // auto_collection overriding the customer's
	cycles     int64  // billing_cycles of the plan item
	contract   bool   // a contract term
	prorate    int64  // plan quantity added mid-term after the last renewal (a proration invoice)
	prorateIdx int    // the item the proration adds to
}

func it(p string, q int64) item { return item{price: p, qty: q} }
func one(p string) []item       { return []item{{price: p, qty: 1}} }

var scenarios = []scen{
	// active, Product Catalog 2.0
	{h: "emily", status: "active", items: []item{it("pro-USD-monthly", 3), it("extra-seat-USD-monthly", 2)}, trial: 14},
	{h: "michael", status: "active", items: one("starter-USD-monthly")},
	{h: "sarah", status: "active", items: one("starter-USD-yearly")},
	{h: "david", status: "active", items: []item{it("pro-USD-yearly", 4), it("extra-seat-USD-yearly", 2)}, cf: [][2]string{{"cf_sales_rep", "Dana Whitfield"}, {"cf_contract_id", "CT-2025-014"}}, prorate: 1},
	{h: "david", status: "active", items: one("weekly-box-USD-biweekly"), ship: true, autoColl: "off"},
	{h: "jessica", status: "active", items: []item{it("pro-USD-monthly", 2)}, created: "2025-08-20T10:00:00Z"},
	{h: "chris", status: "active", items: one("daily-pass-USD-daily")},
	{h: "laura", status: "active", items: []item{it("pro-USD-quarterly", 2), it("priority-support-USD-quarterly", 1)}, inv: "coupon_doc"},
	{h: "kevin", status: "active", items: []item{it("starter-USD-monthly", 1), it("setup-fee-USD", 1)}},
	{h: "rachel", status: "active", items: one("starter-USD-monthly")},
	{h: "daniel", status: "active", items: []item{it("pro-USD-monthly", 5), it("priority-support-USD-monthly", 1)}, inv: "oneoff", cf: [][2]string{{"cf_sales_rep", "Marcus Lee"}}},
	{h: "james", status: "active", items: []item{it("pro-USD-monthly", 1)}, created: "2024-07-03T15:20:00Z"},
	{h: "megan", status: "active", items: one("starter-USD-monthly")},
	{h: "brian", status: "active", items: []item{it("pro-USD-yearly", 1)}},
	{h: "tyler", status: "active", items: []item{it("pro-USD-monthly", 3)}, inv: "offline_due"},
	{h: "eleni", status: "active", items: one("pro-EUR-monthly")},
	{h: "zoe", status: "active", items: []item{it("pro-EUR-yearly", 6), it("extra-seat-EUR-yearly", 3)}, contract: true},
	{h: "lukas", status: "active", items: []item{it("weekly-box-EUR-weekly", 2)}, ship: true},
	{h: "hannah", status: "active", items: one("starter-EUR-monthly"), rbc: i64(4), cycles: 12, inv: "coupon_doc"},
	{h: "sophie", status: "active", items: []item{it("weekly-box-EUR-weekly", 1)}, ship: true},
	{h: "aero", status: "active", items: []item{it("pro-EUR-semiannual", 2)}},
	{h: "lukasz", status: "active", items: one("daily-pass-EUR-daily")},
	{h: "camille", status: "active", items: []item{it("pro-EUR-monthly", 1), it("extra-seat-EUR-monthly", 4)}, inv: "coupon_item,oneoff"},
	{h: "louis", status: "active", items: one("starter-EUR-monthly"), inv: "dd_in_progress"},
	{h: "chloe", status: "active", items: []item{it("pro-EUR-monthly", 2)}, inv: "voided_prev"},
	{h: "jose", status: "active", items: one("starter-EUR-yearly")},
	{h: "lucia", status: "active", items: one("pro-EUR-monthly"), rbc: i64(2), cycles: 6, inv: "refund_partial"},
	{h: "taro", status: "active", items: []item{it("basic-JPY-monthly", 1), it("storage-pack-JPY-monthly", 2)}, ship: true},
	{h: "hanako", status: "active", items: one("basic-JPY-yearly")},
	{h: "kenji", status: "active", items: one("basic-JPY-monthly"), inv: "pending"},
	{h: "yuki", status: "active", items: one("basic-JPY-monthly")},
	{h: "ahmed", status: "active", items: one("gold-KWD-monthly")},
	{h: "fatima", status: "active", items: []item{it("gold-KWD-monthly", 1), it("storage-pack-KWD-monthly", 3)}, prorate: 1, prorateIdx: 1},
	{h: "ana", status: "active", items: one("pro-USD-monthly"), trial: 14},
	{h: "lucas", status: "active", items: one("daily-pass-USD-daily")},
	{h: "mariana", status: "active", items: one("starter-USD-monthly")},
	// active; Product Catalog 1.0 plans until this site moved them to item prices of
	// the same period (a real site is one catalog version or the other)
	{h: "oliver", status: "active", items: one("starter-USD-monthly"), created: "2024-01-08T10:12:00Z", inv: "credits,cn_adjusted"},
	{h: "charlotte", status: "active", items: []item{it("pro-USD-yearly", 1), it("extra-seat-USD-yearly", 2)}},
	{h: "harry", status: "active", items: one("starter-USD-monthly"), inv: "promo"},
	{h: "amelia", status: "active", items: []item{it("starter-USD-monthly", 1), it("extra-seat-USD-monthly", 3)}, inv: "cn_voided"},
	{h: "max", status: "active", items: []item{it("team-EUR-quarterly", 1), it("priority-support-EUR-quarterly", 1)}, created: "2024-01-22T15:40:00Z"},
	// future
	{h: "nicole", status: "future", items: one("starter-USD-monthly"), startDate: "2026-12-01T00:00:00Z"},
	{h: "rafael", status: "future", items: one("pro-USD-yearly"), startDate: "2027-01-01T00:00:00Z"},
	// in_trial
	{h: "aoi", status: "in_trial", items: one("basic-JPY-monthly"), trial: 30},
	{h: "isla", status: "in_trial", items: one("starter-USD-monthly"), trial: 30, created: "2026-10-21T12:00:00Z"},
	{h: "manon", status: "in_trial", items: one("pro-EUR-monthly"), trial: 30, created: "2026-11-19T14:25:00Z"},
	// active with unpaid invoices
	{h: "ryan", status: "active", items: one("starter-USD-monthly"), due: true, created: "2025-03-07T08:30:00Z"},
	{h: "carmen", status: "active", items: one("pro-EUR-monthly"), due: true},
	// non_renewing
	{h: "george", status: "non_renewing", items: one("starter-USD-monthly"), rbc: i64(0)},
	{h: "amanda", status: "non_renewing", items: one("pro-USD-monthly")},
	{h: "justin", status: "non_renewing", items: one("starter-USD-monthly"), due: true, rbc: i64(0)},
	{h: "marta", status: "non_renewing", items: one("starter-EUR-monthly"), due: true},
	// paused
	{h: "stephanie", status: "paused", items: one("starter-USD-monthly"), endAgo: 35, terms: 7, resume: true},
	{h: "hugo", status: "paused", items: one("starter-EUR-monthly"), endAgo: 80, terms: 5},
	// cancelled
	{h: "jason", status: "cancelled", items: one("pro-USD-monthly"), endAgo: 40, terms: 5, mid: 16, reason: "not_paid"},
	{h: "beatriz", status: "cancelled", items: one("starter-USD-monthly"), endAgo: 120, terms: 3, mid: 15, reason: "not_paid"},
	{h: "yousef", status: "cancelled", items: one("gold-KWD-monthly"), endAgo: 60, terms: 6, rbc: i64(0)},
	{h: "elodie", status: "cancelled", items: one("starter-EUR-monthly"), endAgo: 200, terms: 3, rbc: i64(0)},
	{h: "emily", status: "cancelled", items: one("starter-USD-monthly-v1"), endAgo: 600, terms: 6, rbc: i64(0)},
	{h: "kevin", status: "cancelled", items: one("pro-USD-monthly"), endAgo: 300, terms: 4, reason: "no_card"},
	{h: "gabriel", status: "cancelled", items: one("pro-USD-monthly"), endAgo: 150, terms: 1, mid: 2, reason: "fraud_review_failed"},
	{h: "felix", status: "cancelled", items: one("pro-EUR-monthly"), endAgo: 90, terms: 2, mid: 5, reason: "non_compliant_eu_customer", inv: "cn_refund_due"},
	{h: "pablo", status: "cancelled", items: one("starter-EUR-yearly"), endAgo: 45, terms: 1, reason: "tax_calculation_failed"},
	{h: "noura", status: "cancelled", items: one("gold-KWD-yearly"), endAgo: 70, terms: 2, reason: "currency_incompatible_with_gateway"},
	{h: "haruto", status: "cancelled", items: one("basic-JPY-monthly"), endAgo: 25, terms: 4, mid: 9, reason: "non_compliant_customer"},
	{h: "olivia", status: "cancelled", items: one("pro-USD-monthly"), endAgo: 12, terms: 3, mid: 3, reasonCode: "too_expensive", inv: "refund_full"},
	{h: "lea", status: "cancelled", items: one("starter-EUR-monthly"), endAgo: 180, terms: 8},
	{h: "sarah", status: "cancelled", items: one("daily-pass-USD-daily"), endAgo: 400, terms: 20},
	{h: "david", status: "cancelled", items: one("starter-USD-monthly"), endAgo: 500, terms: 3, reasonCode: "switched_plan"},
	// transferred
	{h: "jonas", status: "transferred", items: []item{it("pro-EUR-monthly", 3)}, endAgo: 30, terms: 10},
	{h: "ashley", status: "transferred", items: one("starter-USD-yearly"), endAgo: 100, terms: 1, mid: 40},
	// gift receivers
	{h: "sofia", status: "non_renewing", items: one("pro-USD-yearly"), gift: "gift_0001", rbc: i64(0)},
	{h: "ethan", status: "future", items: one("starter-USD-yearly"), gift: "gift_0002", startDate: "2026-12-24T00:00:00Z"},
	{h: "clara", status: "future", items: one("starter-USD-yearly"), gift: "gift_0003", startDate: "2026-12-10T09:15:00Z"},

	// the extra people's (explicit ids)
	{h: "consol", sid: "sub_consolidated_a", status: "active", items: one("pro-USD-monthly"), created: "2026-02-02T10:05:00Z"},
	{h: "consol", sid: "sub_consolidated_b", status: "active", items: []item{it("starter-USD-monthly", 1), it("priority-support-USD-monthly", 1)}, created: "2026-02-02T10:05:00Z"},
	{h: "erased", sid: "sub_erased", status: "cancelled", items: one("starter-EUR-monthly"), endAgo: 150, terms: 3},
	{h: "clp", sid: "sub_clp", status: "active", items: []item{it("pro-CLP-monthly", 2)}},
	{h: "krw", sid: "sub_krw", status: "active", items: one("basic-KRW-monthly"), created: "2026-04-08T01:40:00Z"},
	{h: "decimal", sid: "sub_decimal", status: "active", items: []item{it("starter-USD-monthly", 1), {price: "storage-gb-USD-monthly", dq: "2.5"}}, created: "2026-05-11T16:10:00Z"},

	// subscriptions of the bad customers (otherwise fine)
	{h: "bad_noemail", status: "active", items: one("starter-USD-monthly")},
	{h: "bad_invalid_1", status: "active", items: one("starter-USD-monthly")},
	{h: "bad_invalid_2", status: "active", items: one("pro-USD-monthly")},
	{h: "bad_invalid_3", status: "active", items: one("starter-EUR-monthly")},
	{h: "bad_dupemail_1", status: "active", items: one("starter-USD-monthly"), created: "2024-11-04T17:10:00Z"},
	{h: "bad_dupemail_2", status: "active", items: one("pro-USD-monthly"), created: "2026-01-12T09:48:00Z"},
	{h: "bad_date0", status: "active", items: one("starter-USD-monthly")},
	{h: "bad_dupid", status: "active", items: one("starter-EUR-monthly")},
	{h: "bad_deleted", id: "sub_bad_deleted", status: "cancelled", items: one("starter-USD-monthly"), endAgo: 90, terms: 4, bad: "deleted"},

	// deliberately bad subscriptions on good customers (each customer also has a good one)
	{h: "michael", id: "sub_bad_unknown_status", status: "suspended", items: one("pro-USD-monthly")},
	{h: "laura", id: "sub_bad_amount", status: "active", items: []item{it("starter-USD-monthly", 1), it("extra-seat-USD-monthly", 2)}, bad: "amount"},
	{h: "daniel", id: "sub_bad_currency", status: "active", items: one("starter-USD-monthly"), bad: "currency"},
	{h: "megan", id: "sub_bad_date_created", status: "active", items: one("starter-USD-monthly"), bad: "created"},
	{h: "brian", id: "sub_bad_date_term", status: "active", items: one("starter-USD-monthly"), bad: "term"},
}

// ---------------------------------------------------------------- generator state

type cust struct {
	p        *person
	id       string
	created  int64
	updated  int64
	m        obj
	dup      obj // second copy (duplicate id)
	card     obj
	subs     []*sub
	cur      string
	pmID     string
	addr     obj
	noSubOK  bool
	explicit bool
}

type lineSpec struct {
	entityType, entityID, itemType, desc, model string
	unit, qty                                   int64
	charge                                      bool
	dec, dq                                     string // unit price and quantity in decimal (multi-decimal pricing)
	amt                                         int64  // a prorated amount, instead of unit × qty
	subID                                       string // the subscription, on a consolidated invoice's lines
}

type sub struct {
	sc               *scen
	idx              int
	id               string
	c                *cust
	cur              string
	unit             string
	period           int
	lines            []lineSpec
	created          int64
	trialStart       int64
	trialEnd         int64
	anchor           int64
	billed           int // terms 0..billed-1 were invoiced
	curStart, curEnd int64
	end              int64 // end event (cancel, pause, transfer)
	m                obj
	invs             []*inv
}

type inv struct {
	id   string
	s    *sub
	c    *cust
	date int64
	seq  int
	m    obj
	cns  []cnSpec // credit notes to issue against it once invoice ids are known
}

// cnSpec is a credit note to write (buildCreditNotes).
type cnSpec struct {
	status     string // refunded, refund_due, adjusted, voided
	amount     int64
	when       int64
	reason     string
	allocateTo *inv // adjusted: the invoice the credit went to
}

type giftRef struct {
	m  obj
	in *inv
}

type gen struct {
	// rng is the source every draw takes. It is main, except while the records added
	// after the first version (extra people, new item prices) are drawn: those take
	// more, so the original people keep the draws, and so the ids, they always had.
	rng      *rand.Rand
	main     *rand.Rand
	more     *rand.Rand
	prices   []*itemPrice
	priceMap map[string]*itemPrice
	custs    []*cust
	byH      map[string]*cust
	subs     []*sub
	invs     []*inv
	gifts    []obj
	giftInv  []giftRef
	seq      int
	cnSeq    int
	invNext  int
	now      int64

	// day 2
	d2Custs []*cust
	d2Subs  []any // subscription list entries
	d2Invs  []*inv
	d2Notes [][2]string

	// payment sources, credit notes and items (extra.go)
	paySources   []obj
	creditNotes  []obj
	cnByInv      map[string][]obj
	d2PaySources []obj
	d2CNs        []obj
	pc1          *gen // the Product Catalog 1.0 site, for the README
}

func newGen() *gen {
	g := &gen{main: rand.New(rand.NewPCG(20261120, 20240105)), more: rand.New(rand.NewPCG(20261121, 20240106)), byH: map[string]*cust{}, priceMap: map[string]*itemPrice{}, now: day1Now, cnByInv: map[string][]obj{}}
	g.rng = g.main
	return g
}

// drawFor points rng at the source of a record: more for the ones added later
// (extra), main for the original ones.
func (g *gen) drawFor(extra bool) {
	if extra {
		g.rng = g.more
	} else {
		g.rng = g.main
	}
}

func (g *gen) between(a, b int64) int64 {
	if b <= a {
		return a
	}
	return a + g.rng.Int64N(b-a)
}

func (g *gen) rv(updated int64) int64 { return updated*1000 + 1 + g.rng.Int64N(899) }

const alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

func (g *gen) rid(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = alnum[g.rng.IntN(len(alnum))]
	}
	return string(b)
}

func (g *gen) digits(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('0' + g.rng.IntN(10))
	}
	return string(b)
}

func (g *gen) pick(xs []string) string { return xs[g.rng.IntN(len(xs))] }

// ---------------------------------------------------------------- time helpers

func daysIn(y int, m time.Month) int {
	return time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

func addMonths(t int64, n int) int64 {
	tm := time.Unix(t, 0).UTC()
	y, m, d := tm.Date()
	total := int(m) - 1 + n
	ny := y + total/12
	nm := total % 12
	if nm < 0 {
		nm += 12
		ny--
	}
	month := time.Month(nm + 1)
	if last := daysIn(ny, month); d > last {
		d = last
	}
	return time.Date(ny, month, d, tm.Hour(), tm.Minute(), tm.Second(), 0, time.UTC).Unix()
}

func boundary(anchor int64, unit string, period, k int) int64 {
	switch unit {
	case "day":
		return anchor + int64(k*period)*day
	case "week":
		return anchor + int64(k*period*7)*day
	case "month":
		return addMonths(anchor, k*period)
	case "year":
		return addMonths(anchor, 12*k*period)
	}
	panic("bad unit " + unit)
}

func (s *sub) bnd(k int) int64 { return boundary(s.anchor, s.unit, s.period, k) }

func mrrOf(amount int64, unit string, period int) int64 {
	p := int64(period)
	switch unit {
	case "day":
		return amount * 365 / (12 * p)
	case "week":
		return amount * 52 / (12 * p)
	case "month":
		return amount / p
	case "year":
		return amount / (12 * p)
	}
	return 0
}

// ---------------------------------------------------------------- catalog

func (g *gen) buildCatalog() {
	t0 := ts("2024-01-02T09:00:00Z")
	add := func(id, name, ext, itm, family, typ, cur string, price int64, period int, unit, model, status string) {
		n := int64(len(g.prices))
		created := t0 + n*137
		updated := created
		if status == "archived" {
			updated = ts("2024-12-01T10:00:00Z")
		} else if n%3 == 0 {
			updated = created + g.between(day, 300*day)
		}
		p := &itemPrice{id, name, ext, itm, family, typ, cur, price, period, unit, model, status, created, updated, ""}
		g.prices = append(g.prices, p)
		g.priceMap[id] = p
	}
	for _, p := range catalog.Prices {
		add(p.ID, p.Name, p.ExternalName, p.ItemID, p.ItemFamilyID, p.ItemType, p.Currency, p.Price, p.Period, p.PeriodUnit, p.PricingModel, p.Status)
	}
	// The fixtures' own prices, after the shared catalog (scripts/gen does not use
	// them), drawn from gen.more so the draws of everything after stay as they were.
	g.drawFor(true)
	// The quarterly EUR plan and addon the former Product Catalog 1.0 subscriptions moved to.
	add("team-EUR-quarterly", "Team EUR Quarterly", "Team", "team", "saas", "plan", "EUR", 12000, 3, "month", "per_unit", "active")
	add("priority-support-EUR-quarterly", "Priority Support EUR Quarterly", "Priority support", "priority-support", "saas", "addon", "EUR", 7500, 3, "month", "flat_fee", "active")
	// One-off charges billed mid-term (their invoices are the newest of a subscription).
	add("onboarding-USD", "Onboarding Session USD", "Onboarding session", "onboarding", "services", "charge", "USD", 14900, 0, "", "flat_fee", "active")
	add("onboarding-EUR", "Onboarding Session EUR", "Onboarding session", "onboarding", "services", "charge", "EUR", 13900, 0, "", "flat_fee", "active")
	// CLP: zero-decimal for ISO 4217, not for Chargebee, which keeps it in hundredths
	// like USD: CLP 44,900 is 4490000.
	add("pro-CLP-monthly", "Pro CLP Monthly", "Pro", "pro", "saas", "plan", "CLP", 4490000, 1, "month", "per_unit", "active")
	// KRW: zero-decimal for Chargebee (with JPY, XAF, XOF): KRW 19,000 is 19000.
	add("basic-KRW-monthly", "Basic KRW Monthly", "Basic", "basic", "saas", "plan", "KRW", 19000, 1, "month", "flat_fee", "active")
	// Multi-decimal pricing: USD 9.995 per GB, only as price_in_decimal.
	add("storage-gb-USD-monthly", "Storage GB USD Monthly", "Storage (per GB)", "storage-gb", "saas", "addon", "USD", 0, 1, "month", "per_unit", "active")
	g.priceMap["storage-gb-USD-monthly"].decimal = "9.995"
	g.drawFor(false)
}

func (g *gen) priceObj(p *itemPrice) obj {
	m := obj{
		"id": p.id, "name": p.name, "external_name": p.ext, "item_id": p.item, "item_family_id": p.family,
		"item_type": p.typ, "currency_code": p.cur, "price": p.price, "pricing_model": p.model,
		"status": p.status, "created_at": p.created, "updated_at": p.updated, "resource_version": g.rv(p.updated),
		"free_quantity": int64(0), "is_taxable": true, "channel": "web", "object": "item_price",
	}
	if p.unit != "" {
		m["period"] = int64(p.period)
		m["period_unit"] = p.unit
	}
	if p.status == "archived" {
		m["archived_at"] = p.updated
	}
	if p.decimal != "" {
		delete(m, "price")
		m["price_in_decimal"] = p.decimal
	}
	return m
}

// ---------------------------------------------------------------- addresses

type place struct{ city, stateCode, state, zip string }

var places = map[string][]place{
	"US": {{"San Francisco", "CA", "California", "94107"}, {"Austin", "TX", "Texas", "78701"}, {"New York", "NY", "New York", "10001"}, {"Seattle", "WA", "Washington", "98101"}, {"Chicago", "IL", "Illinois", "60601"}, {"Denver", "CO", "Colorado", "80202"}, {"Boston", "MA", "Massachusetts", "02110"}},
	"GB": {{"London", "", "", "EC1A 1BB"}, {"Manchester", "", "", "M1 1AE"}, {"Edinburgh", "", "", "EH1 1YZ"}},
	"DE": {{"Berlin", "BE", "Berlin", "10115"}, {"München", "BY", "Bayern", "80331"}, {"Hamburg", "HH", "Hamburg", "20095"}, {"Köln", "NW", "Nordrhein-Westfalen", "50667"}},
	"FR": {{"Paris", "", "", "75001"}, {"Lyon", "", "", "69002"}, {"Marseille", "", "", "13001"}},
	"ES": {{"Madrid", "M", "Madrid", "28013"}, {"Barcelona", "B", "Barcelona", "08002"}, {"Sevilla", "SE", "Sevilla", "41001"}},
	"JP": {{"Chiyoda-ku", "13", "Tokyo", "100-0001"}, {"Kita-ku", "27", "Osaka", "530-0001"}},
	"KW": {{"Kuwait City", "", "", "13001"}, {"Salmiya", "", "", "20001"}},
	"BR": {{"São Paulo", "SP", "São Paulo", "01310-100"}, {"Rio de Janeiro", "RJ", "Rio de Janeiro", "20040-002"}, {"Belo Horizonte", "MG", "Minas Gerais", "30130-000"}},
	"CL": {{"Santiago", "RM", "Región Metropolitana", "8320000"}, {"Valparaíso", "VS", "Valparaíso", "2340000"}},
	"KR": {{"Seoul", "11", "Seoul", "04524"}, {"Busan", "26", "Busan", "48058"}},
}

var streets = map[string][]string{
	"US": {"%d Howard St", "%d Congress Ave", "%d W 34th St", "%d Pine St", "%d N Michigan Ave", "%d Larimer St", "%d Atlantic Ave"},
	"GB": {"%d Baker Street", "%d Deansgate", "%d Royal Mile", "%d High Street"},
	"DE": {"Friedrichstraße %d", "Leopoldstraße %d", "Mönckebergstraße %d", "Hohe Straße %d"},
	"FR": {"%d rue de Rivoli", "%d rue de la République", "%d boulevard Haussmann"},
	"ES": {"Calle de Alcalá %d", "Passeig de Gràcia %d", "Calle Sierpes %d"},
	"JP": {"1-%d Marunouchi", "2-%d Umeda"},
	"KW": {"Block 3, Street %d", "Salem Al Mubarak St, Bldg %d"},
	"BR": {"Av. Paulista, %d", "Rua da Assembleia, %d", "Av. Afonso Pena, %d"},
	"CL": {"Av. Providencia %d", "Av. Apoquindo %d"},
	"KR": {"%d Sejong-daero, Jung-gu", "%d Jungang-daero"},
}

var countryCur = map[string]string{"US": "USD", "GB": "USD", "DE": "EUR", "FR": "EUR", "ES": "EUR", "JP": "JPY", "KW": "KWD", "BR": "USD", "CL": "CLP", "KR": "KRW"}
var countryLocale = map[string]string{"US": "en-US", "GB": "en-GB", "DE": "de-DE", "FR": "fr-FR", "ES": "es-ES", "JP": "ja-JP", "KW": "ar-KW", "BR": "pt-BR", "CL": "es-CL", "KR": "ko-KR"}
var taxRate = map[string]int64{"US": 0, "GB": 20, "DE": 19, "FR": 20, "ES": 21, "JP": 10, "KW": 0, "BR": 0, "CL": 19, "KR": 10}

func (g *gen) address(p *person, kind string) obj {
	pl := places[p.country][g.rng.IntN(len(places[p.country]))]
	st := streets[p.country][g.rng.IntN(len(streets[p.country]))]
	a := obj{
		"first_name": p.first, "last_name": p.last,
		"line1": fmt.Sprintf(st, 1+g.rng.IntN(400)), "city": pl.city, "country": p.country, "zip": pl.zip,
		"validation_status": "not_validated", "object": kind,
	}
	if pl.stateCode != "" {
		a["state_code"] = pl.stateCode
		a["state"] = pl.state
	}
	if g.rng.IntN(4) == 0 {
		a["line2"] = g.pick([]string{"Suite 200", "Apt 4B", "2nd floor", "Unit 12", "c/o Reception"})
	}
	if p.company != "" {
		a["company"] = p.company
	}
	return a
}

func (g *gen) phone(country string) string {
	switch country {
	case "US":
		return "+1 " + g.pick([]string{"415", "512", "212", "206", "312"}) + " 555 01" + g.digits(2)
	case "GB":
		return "+44 20 7946 0" + g.digits(3)
	case "DE":
		return "+49 30 901820" + g.digits(2)
	case "FR":
		return "+33 1 23 45 67 " + g.digits(2)
	case "ES":
		return "+34 912 345 6" + g.digits(2)
	case "JP":
		return "+81 3-1234-56" + g.digits(2)
	case "KW":
		return "+965 2222 3" + g.digits(3)
	case "BR":
		return "+55 11 91234-5" + g.digits(3)
	case "CL":
		return "+56 2 2345 6" + g.digits(3)
	case "KR":
		return "+82 2-1234-5" + g.digits(3)
	}
	return ""
}

// ---------------------------------------------------------------- day 1

func (g *gen) buildDay1() {
	g.buildCatalog()
	for i := range people {
		p := &people[i]
		c := &cust{p: p, id: p.id, explicit: p.id != ""}
		g.custs = append(g.custs, c)
		g.byH[p.h] = c
	}
	// Subscriptions: timing for all but the duplicate-id customer's.
	for i := range scenarios {
		sc := &scenarios[i]
		c := g.byH[sc.h]
		if c == nil {
			panic("no customer " + sc.h)
		}
		s := &sub{sc: sc, idx: i, c: c, id: sc.id}
		if sc.sid != "" {
			s.id = sc.sid
		}
		c.subs = append(c.subs, s)
		g.subs = append(g.subs, s)
		g.items(s)
		if sc.h != "bad_dupid" {
			g.drawFor(c.p.extra)
			g.timeline(s)
			g.drawFor(false)
		}
	}
	// Customer created_at.
	for _, c := range g.custs {
		switch {
		case c.p.h == "bad_dupid":
			continue
		case c.p.created != "":
			c.created = ts(c.p.created)
		case len(c.subs) > 0:
			earliest := int64(1 << 62)
			for _, s := range c.subs {
				if s.created < earliest {
					earliest = s.created
				}
			}
			c.created = earliest - g.between(30, 1800)
		default:
			c.created = g.between(rangeStart, day1Now-20*day)
		}
		if c.p.extra && c.p.created == "" {
			panic("an extra customer needs an explicit created_at: " + c.p.h)
		}
	}
	// created_at 0 for the bad-date customer (its subscription keeps a real date).
	for _, c := range g.custs {
		if c.p.createdZero {
			c.created = 0
		}
	}
	// Place the duplicate-id customer so that its two copies end one page and start the next.
	{
		var others []*cust
		for _, c := range g.custs {
			if c.p.h != "bad_dupid" && !c.p.extra {
				others = append(others, c)
			}
		}
		sort.SliceStable(others, func(i, j int) bool { return g.custCreated(others[i]) < g.custCreated(others[j]) })
		a, b := g.custCreated(others[2*pageSize-2]), g.custCreated(others[2*pageSize-1])
		for _, c := range g.custs {
			if c.p.extra && c.created <= b {
				panic("extra customer " + c.p.h + " created before the duplicate id's page boundary")
			}
		}
		if b-a < 4 {
			panic("no room for the duplicate id customer")
		}
		d := g.byH["bad_dupid"]
		d.created = a + (b-a)/2
		s := d.subs[0]
		s.sc.created = iso(d.created + 240)
		g.timeline(s)
	}
	// Customer ids, in created_at order.
	sorted := append([]*cust(nil), g.custs...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].created < sorted[j].created })
	n := 0
	for _, c := range sorted {
		if !c.explicit {
			n++
			c.id = fmt.Sprintf("cus_%04d", n)
		}
	}
	g.custs = sorted
	for _, c := range g.custs {
		g.drawFor(c.p.extra)
		g.customerObj(c)
	}
	g.drawFor(false)
	// Subscription ids, in created_at order.
	ss := append([]*sub(nil), g.subs...)
	sort.SliceStable(ss, func(i, j int) bool { return ss[i].created < ss[j].created })
	n = 0
	for _, s := range ss {
		if s.id == "" {
			n++
			s.id = fmt.Sprintf("sub_%04d", n)
		}
	}
	g.subs = ss
	for _, s := range g.subs {
		g.drawFor(s.c.p.extra)
		g.subObj(s)
	}
	g.drawFor(false)
	// List order is created_at as written (sub_bad_date_created, created_at -5, comes first).
	sort.SliceStable(g.subs, func(i, j int) bool { return g.subs[i].m["created_at"].(int64) < g.subs[j].m["created_at"].(int64) })
	// Invoices.
	for _, s := range g.subs {
		g.drawFor(s.c.p.extra)
		g.subInvoices(s)
	}
	g.drawFor(true)
	g.consolidatedInvoices()
	g.drawFor(false)
	g.giftsAndInvoices()
	sort.SliceStable(g.invs, func(i, j int) bool {
		a, b := g.invs[i], g.invs[j]
		if a.date != b.date {
			return a.date < b.date
		}
		return a.seq < b.seq
	})
	for i, in := range g.invs {
		in.id = fmt.Sprintf("inv_%05d", i+1)
		in.m["id"] = in.id
	}
	g.invNext = len(g.invs) + 1
	for _, gf := range g.giftInv {
		gf.m["invoice_id"] = gf.in.id
	}
	// Subscription fields that depend on invoices (dues) and gifts.
	for _, s := range g.subs {
		g.finishSub(s)
	}
	// Credit notes need the invoice ids; payment sources and items are new lists
	// with their own draws.
	g.drawFor(true)
	g.buildCreditNotes()
	g.buildPaymentSources()
	g.drawFor(false)
}

func (g *gen) custCreated(c *cust) int64 { return c.created }

// items resolves the plan/addons of a scenario into invoice line specs.
func (g *gen) items(s *sub) {
	sc := s.sc
	if sc.pc1 != "" {
		lp := findLegacy(sc.pc1)
		s.cur, s.unit, s.period = lp.cur, lp.unit, lp.period
		s.lines = append(s.lines, lineSpec{entityType: "plan", entityID: lp.id, itemType: "plan", desc: lp.invoiceName, model: "per_unit", unit: lp.price, qty: 1})
		if lp.setup > 0 {
			s.lines = append(s.lines, lineSpec{entityType: "plan_setup", entityID: lp.id, itemType: "charge", desc: lp.invoiceName + " setup fee", model: "flat_fee", unit: lp.setup, qty: 1, charge: true})
		}
		for _, a := range sc.pc1Addons {
			la := findLegacy(a.price)
			if la.unit != s.unit || la.period != s.period || la.cur != s.cur {
				panic("legacy addon does not match plan: " + a.price)
			}
			s.lines = append(s.lines, lineSpec{entityType: "addon", entityID: la.id, itemType: "addon", desc: la.invoiceName, model: "per_unit", unit: la.price, qty: a.qty})
		}
		return
	}
	for i, x := range sc.items {
		p := g.priceMap[x.price]
		if p == nil {
			panic("unknown item price " + x.price)
		}
		if i == 0 {
			if p.typ != "plan" {
				panic("first item must be the plan: " + x.price)
			}
			s.cur, s.unit, s.period = p.cur, p.unit, p.period
		} else if p.typ == "addon" && (p.unit != s.unit || p.period != s.period || p.cur != s.cur) {
			panic("addon does not match plan: " + x.price)
		}
		l := lineSpec{entityType: p.typ + "_item_price", entityID: p.id, itemType: p.typ, desc: p.ext, model: p.model, unit: p.price, qty: x.qty, charge: p.typ == "charge", dec: p.decimal, dq: x.dq}
		if (l.dec != "") != (l.dq != "") {
			panic("a multi-decimal price needs a decimal quantity: " + x.price)
		}
		if sc.bad == "amount" && p.typ == "addon" {
			l.unit = -p.price
		}
		s.lines = append(s.lines, l)
	}
	if sc.bad == "currency" {
		s.cur = "XYZ"
	}
}

func (l lineSpec) amount() int64 {
	if l.amt != 0 {
		return l.amt
	}
	if l.dec != "" {
		_, cents := decAmount(l.dec, l.dq)
		return cents
	}
	return l.unit * l.qty
}

func (s *sub) recurringAmount() int64 {
	var t int64
	for _, l := range s.lines {
		if !l.charge {
			t += l.amount()
		}
	}
	return t
}

// timeline decides created_at, trial, terms and the end event of a subscription.
func (g *gen) timeline(s *sub) {
	sc := s.sc
	now := day1Now
	switch sc.status {
	case "active", "non_renewing", "suspended":
		if sc.gift != "" { // claimed gift: bought earlier, started when claimed
			s.created = ts(s.c.p.created) + 5
			s.anchor = ts("2026-06-01T00:00:00Z")
			s.billed = 1
			s.curStart, s.curEnd = s.bnd(0), s.bnd(1)
			return
		}
		switch {
		case sc.created != "":
			s.created = ts(sc.created)
		case s.unit == "year" && sc.status != "active":
			s.created = g.between(rangeStart, now-400*day)
		default:
			s.created = g.between(rangeStart, now-int64(sc.trial+3)*day)
		}
		s.anchor = s.created
		if sc.trial > 0 {
			s.trialStart = s.created
			s.trialEnd = s.created + int64(sc.trial)*day
			s.anchor = s.trialEnd
		}
		k := 0
		for s.bnd(k+1) <= now {
			k++
		}
		s.billed = k + 1
		s.curStart, s.curEnd = s.bnd(k), s.bnd(k+1)
	case "in_trial":
		if sc.created != "" {
			s.created = ts(sc.created)
		} else {
			s.created = now - g.between(2*day, 20*day)
		}
		s.trialStart = s.created
		s.trialEnd = s.created + int64(sc.trial)*day
		s.curStart, s.curEnd = s.trialStart, s.trialEnd
	case "future":
		if sc.gift != "" {
			s.created = ts(s.c.p.created) + 5
		} else {
			s.created = now - g.between(5*day, 30*day)
		}
	case "cancelled", "transferred", "paused":
		e0 := now - int64(sc.endAgo)*day - g.between(0, 36000)
		if sc.mid == 0 {
			s.anchor = boundary(e0, s.unit, s.period, -sc.terms)
		} else {
			s.anchor = boundary(e0-int64(sc.mid)*day, s.unit, s.period, -(sc.terms - 1))
		}
		s.created = s.anchor
		s.billed = sc.terms
		s.curStart, s.curEnd = s.bnd(sc.terms-1), s.bnd(sc.terms)
		if sc.mid == 0 {
			s.end = s.curEnd
		} else {
			s.end = s.curStart + int64(sc.mid)*day + g.between(0, 7200)
		}
		if s.created < rangeStart {
			panic("subscription created before the range: " + sc.h)
		}
	default:
		panic("status " + sc.status)
	}
	if s.created >= now {
		panic("created in the future: " + sc.h)
	}
}

func (g *gen) customerObj(c *cust) {
	p := c.p
	if p.updated != "" {
		c.updated = ts(p.updated)
	} else {
		base := c.created
		for _, s := range c.subs {
			if base == 0 || s.created < base {
				base = s.created
			}
		}
		if g.rng.IntN(3) == 0 {
			c.updated = base + g.between(0, 120)
		} else {
			c.updated = g.between(base, day1Now-3600)
		}
	}
	if p.deleted {
		c.updated = c.subs[0].end + 5*day + 3721
	}
	c.cur = countryCur[p.country]
	if len(c.subs) > 0 && c.subs[0].cur != "XYZ" {
		c.cur = c.subs[0].cur
	}
	m := obj{
		"id": c.id, "first_name": p.first, "last_name": p.last,
		"auto_collection": "on", "net_term_days": int64(0), "allow_direct_debit": false,
		"created_at": c.created, "updated_at": c.updated, "resource_version": g.rv(c.updated),
		"deleted": p.deleted, "locale": countryLocale[p.country], "preferred_currency_code": c.cur,
		"card_status": "no_card", "taxability": "taxable", "pii_cleared": "active", "channel": "web",
		"promotional_credits": int64(0), "refundable_credits": int64(0), "excess_payments": int64(0), "unbilled_charges": int64(0),
		"object": "customer",
	}
	if !p.noEmail {
		m["email"] = p.email
	}
	phone := p.phone
	if phone == "" && g.rng.IntN(2) == 0 {
		phone = g.phone(p.country)
	}
	if phone != "" {
		m["phone"] = phone
	}
	if p.company != "" {
		m["company"] = p.company
	}
	if !p.noAddr && g.rng.IntN(10) != 0 {
		c.addr = g.address(p, "billing_address")
		m["billing_address"] = c.addr
	}
	for _, kv := range p.cf {
		m[kv[0]] = kv[1]
	}
	if len(p.cf) == 0 && g.rng.IntN(4) == 0 {
		m["cf_marketing_opt_in"] = g.pick([]string{"yes", "no"})
		m["cf_referral_source"] = g.pick([]string{"Google", "Partner", "Word of mouth", "LinkedIn"})
	}
	switch p.pay {
	case "none":
		m["auto_collection"] = "off"
		m["net_term_days"] = int64(30)
	case "paypal":
		c.pmID = "pm_" + g.rid(16)
		m["primary_payment_source_id"] = c.pmID
		m["payment_method"] = obj{"type": "paypal_express_checkout", "reference_id": "B-" + g.digits(2) + strings.ToUpper(g.rid(15)), "gateway": "paypal_express_checkout", "gateway_account_id": "gw_paypal_main", "status": "valid", "object": "payment_method"}
	case "dd":
		c.pmID = "pm_" + g.rid(16)
		m["primary_payment_source_id"] = c.pmID
		m["allow_direct_debit"] = true
		m["payment_method"] = obj{"type": "direct_debit", "reference_id": "MD" + strings.ToUpper(g.rid(12)), "gateway": "gocardless", "gateway_account_id": "gw_gocardless_eu", "status": "valid", "object": "payment_method"}
	default:
		c.pmID = "pm_" + g.rid(16)
		status := p.cardStatus
		if status == "" {
			status = "valid"
		}
		m["primary_payment_source_id"] = c.pmID
		m["card_status"] = status
		m["payment_method"] = obj{"type": "card", "reference_id": "cus_" + g.rid(14) + "/card_" + g.rid(24), "gateway": "stripe", "gateway_account_id": "gw_stripe_main", "status": status, "object": "payment_method"}
		c.card = g.cardObj(c, status)
	}
	if p.consolidated {
		m["consolidated_invoicing"] = true
	}
	if p.erased {
		eraseCustomer(m)
		c.card, c.pmID = nil, ""
	}
	c.m = m
	if p.h == "bad_dupid" {
		d := obj{}
		for k, v := range m {
			d[k] = v
		}
		d["email"] = "r.ellis@example.org"
		c.dup = d
	}
}

func (g *gen) cardObj(c *cust, status string) obj {
	var brand, iin string
	digits := 16
	switch x := g.rng.IntN(10); {
	case x < 6:
		brand, iin = "visa", "411111"
	case x < 9:
		brand, iin = "mastercard", "555555"
	default:
		brand, iin, digits = "american_express", "378282", 15
	}
	last4 := g.digits(4)
	var month, year int64
	switch status {
	case "expiring":
		month, year = 12, 2026
	case "expired":
		month, year = int64(1+g.rng.IntN(9)), 2026-int64(g.rng.IntN(2))
	default:
		month, year = int64(1+g.rng.IntN(12)), 2027+int64(g.rng.IntN(4))
	}
	m := obj{
		"payment_source_id": c.pmID, "status": status, "gateway": "stripe", "gateway_account_id": "gw_stripe_main",
		"first_name": c.p.first, "last_name": c.p.last, "iin": iin, "last4": last4,
		"masked_number": strings.Repeat("*", digits-4) + last4, "card_type": brand, "funding_type": "credit",
		"expiry_month": month, "expiry_year": year, "customer_id": c.id, "object": "card",
	}
	if c.addr != nil {
		m["billing_addr1"] = c.addr["line1"]
		m["billing_city"] = c.addr["city"]
		m["billing_country"] = c.addr["country"]
		m["billing_zip"] = c.addr["zip"]
	}
	return m
}

func (g *gen) subObj(s *sub) {
	sc := s.sc
	c := s.c
	now := day1Now
	m := obj{
		"id": s.id, "customer_id": c.id, "status": sc.status, "currency_code": s.cur,
		"billing_period": int64(s.period), "billing_period_unit": s.unit,
		"created_at": s.created, "deleted": false, "object": "subscription",
		"net_term_days":         c.m["net_term_days"],
		"has_scheduled_changes": false, "channel": "web", "due_invoices_count": int64(0), "mrr": int64(0),
	}
	if c.pmID != "" {
		m["payment_source_id"] = c.pmID
	}
	// auto_collection is on the subscription only where it overrides the customer's.
	if sc.autoColl != "" {
		m["auto_collection"] = sc.autoColl
	}
	if sc.contract {
		m["contract_term"] = g.contractTerm(s)
		m["contract_term_billing_cycle_on_renewal"] = int64(1)
	}
	if sc.rbc != nil {
		m["remaining_billing_cycles"] = *sc.rbc
	}
	if sc.pc1 != "" {
		var addons []any
		for i, l := range s.lines {
			if i == 0 {
				m["plan_id"] = l.entityID
				m["plan_quantity"] = l.qty
				m["plan_unit_price"] = l.unit
				m["plan_amount"] = l.amount()
				m["plan_free_quantity"] = int64(0)
				continue
			}
			if l.entityType == "plan_setup" {
				m["setup_fee"] = l.unit
				continue
			}
			addons = append(addons, obj{"id": l.entityID, "quantity": l.qty, "unit_price": l.unit, "amount": l.amount(), "object": "addon"})
		}
		if addons != nil {
			m["addons"] = addons
		}
	} else {
		m["subscription_items"] = g.subItems(s)
	}
	var updated int64
	switch sc.status {
	case "active", "non_renewing", "suspended":
		m["started_at"] = s.created
		m["activated_at"] = s.anchor
		m["current_term_start"] = s.curStart
		m["current_term_end"] = s.curEnd
		if s.trialStart != 0 {
			m["trial_start"] = s.trialStart
			m["trial_end"] = s.trialEnd
		}
		m["mrr"] = mrrOf(s.recurringAmount(), s.unit, s.period)
		updated = s.curStart + g.between(0, 900)
		if sc.status == "non_renewing" {
			m["cancelled_at"] = s.curEnd
			if sc.rbc == nil {
				csa := min(g.between(s.curStart+day, now-day), now-600)
				m["cancel_schedule_created_at"] = csa
				updated = csa
			}
		} else {
			m["next_billing_at"] = s.curEnd
		}
		if sc.gift != "" {
			m["started_at"] = s.anchor
			m["gift_id"] = sc.gift
			m["mrr"] = int64(0)
			delete(m, "payment_source_id")
		}
	case "in_trial":
		m["started_at"] = s.trialStart
		m["trial_start"] = s.trialStart
		m["trial_end"] = s.trialEnd
		m["trial_end_action"] = "site_default"
		m["current_term_start"] = s.curStart
		m["current_term_end"] = s.curEnd
		m["next_billing_at"] = s.trialEnd
		updated = s.created + g.between(1, 60)
	case "future":
		sd := ts(sc.startDate)
		m["start_date"] = sd
		m["next_billing_at"] = sd
		updated = s.created + g.between(1, 60)
		if sc.gift != "" {
			m["gift_id"] = sc.gift
			delete(m, "payment_source_id")
		}
	case "cancelled", "transferred":
		m["started_at"] = s.created
		m["activated_at"] = s.anchor
		m["current_term_start"] = s.curStart
		m["current_term_end"] = s.curEnd
		updated = s.end + g.between(1, 30)
		if sc.status == "cancelled" {
			m["cancelled_at"] = s.end
			if sc.reason != "" {
				m["cancel_reason"] = sc.reason
			}
			if sc.reasonCode != "" {
				m["cancel_reason_code"] = sc.reasonCode
			}
		} else {
			m["business_entity_id"] = "acme-us"
		}
	case "paused":
		m["started_at"] = s.created
		m["activated_at"] = s.anchor
		m["current_term_start"] = s.curStart
		m["current_term_end"] = s.curEnd
		m["pause_date"] = s.end
		updated = s.end + g.between(1, 30)
		if sc.resume {
			r := addMonths(s.end, 2)
			m["resume_date"] = r
			m["next_billing_at"] = r
		}
	}
	if updated > now {
		updated = now - g.between(60, 3600)
	}
	if updated < s.created {
		updated = s.created
	}
	if sc.ship {
		a := g.address(c.p, "shipping_address")
		if c.addr != nil && g.rng.IntN(2) == 0 {
			a = obj{}
			for k, v := range c.addr {
				a[k] = v
			}
			a["object"] = "shipping_address"
		}
		m["shipping_address"] = a
	}
	for _, kv := range sc.cf {
		m[kv[0]] = kv[1]
	}
	switch sc.bad {
	case "created":
		m["created_at"] = int64(-5)
	case "term":
		m["current_term_end"] = s.curStart - 30*day
	case "deleted":
		m["deleted"] = true
		updated = s.c.updated
	}
	m["updated_at"] = updated
	m["resource_version"] = g.rv(updated)
	s.m = m
}

func (g *gen) subItems(s *sub) []any {
	var out []any
	for i, l := range s.lines {
		si := obj{"item_price_id": l.entityID, "item_type": l.itemType, "quantity": l.qty, "unit_price": l.unit, "amount": l.amount(), "free_quantity": int64(0), "object": "subscription_item"}
		if l.dec != "" {
			// Multi-decimal pricing: the decimal strings replace the integer fields.
			amt, _ := decAmount(l.dec, l.dq)
			delete(si, "quantity")
			delete(si, "unit_price")
			delete(si, "amount")
			si["quantity_in_decimal"] = l.dq
			si["unit_price_in_decimal"] = l.dec
			si["amount_in_decimal"] = amt
			si["free_quantity_in_decimal"] = "0"
			delete(si, "free_quantity")
		}
		if i == 0 && s.sc != nil && s.sc.cycles > 0 {
			si["billing_cycles"] = s.sc.cycles
		}
		if l.charge {
			si["charge_once"] = true
			si["charge_on_event"] = "subscription_creation"
		}
		out = append(out, si)
	}
	return out
}

// ---------------------------------------------------------------- invoices

type invOpts struct {
	recurring, first, gifted, termFinalized bool
	from, to                                int64
	docPct, itemPct                         int64
	coupon                                  string
	credits                                 int64
	promo                                   int64 // promotional credits, a discounts[] entry (not a coupon)
	prorated                                int64 // prorated credits for the unused part of a replaced item
	consolidated                            bool  // no subscription_id on the invoice: its lines name theirs
}

func (g *gen) newInvoice(s *sub, c *cust, date int64, lines []lineSpec, o invOpts) *inv {
	g.seq++
	in := &inv{s: s, c: c, date: date, seq: g.seq}
	var subTotal, itemDisc int64
	var lis []obj
	var discounts []any
	itemDiscs := make([]int64, len(lines))
	for i, l := range lines {
		sid := s.id
		if l.subID != "" {
			sid = l.subID
		}
		li := obj{
			"id": "li_" + g.rid(17), "date_from": o.from, "date_to": o.to, "unit_amount": l.unit, "quantity": l.qty,
			"amount": l.amount(), "pricing_model": l.model, "entity_type": l.entityType, "entity_id": l.entityID,
			"subscription_id": sid, "customer_id": c.id, "description": l.desc, "object": "line_item",
		}
		if l.entityID == "" { // an adhoc charge names no catalog entity
			delete(li, "entity_id")
		}
		if l.dec != "" {
			amt, _ := decAmount(l.dec, l.dq)
			delete(li, "unit_amount")
			delete(li, "quantity")
			li["unit_amount_in_decimal"] = l.dec
			li["quantity_in_decimal"] = l.dq
			li["amount_in_decimal"] = amt
		}
		if l.charge {
			li["date_to"] = o.from
		}
		subTotal += l.amount()
		if o.itemPct > 0 && l.itemType == "addon" {
			d := l.amount() * o.itemPct / 100
			itemDiscs[i] = d
			itemDisc += d
			discounts = append(discounts, obj{"amount": d, "description": "SEATS20 - 20% off extra seats", "entity_type": "item_level_coupon", "entity_id": "SEATS20", "discount_type": "percentage", "line_item_id": li["id"], "object": "discount"})
		}
		lis = append(lis, li)
	}
	docDisc := (subTotal - itemDisc) * o.docPct / 100
	if docDisc > 0 {
		discounts = append(discounts, obj{"amount": docDisc, "description": "LOYAL10 - 10% loyalty discount", "entity_type": "document_level_coupon", "entity_id": "LOYAL10", "discount_type": "percentage", "object": "discount"})
	}
	// Promotional and prorated credits are listed in discounts[] too (with their
	// own entity types), though they are credits, not coupons.
	if o.promo > 0 {
		discounts = append(discounts, obj{"amount": o.promo, "description": "Promotional credits", "entity_type": "promotional_credits", "object": "discount"})
	}
	if o.prorated > 0 {
		discounts = append(discounts, obj{"amount": o.prorated, "description": "Prorated credits for the unused period", "entity_type": "prorated_credits", "object": "discount"})
	}
	// Document-level amounts are shared out over the lines by amount (the last
	// line takes the rounding), so each line's discount_amount and tax_amount add
	// up to the invoice's.
	docLevel := docDisc + o.promo + o.prorated
	rate := int64(0)
	if c.addr != nil {
		rate = taxRate[c.p.country]
	}
	base := subTotal - itemDisc
	var tax, shared int64
	for i, li := range lis {
		after := lines[i].amount() - itemDiscs[i]
		share := int64(0)
		if base > 0 {
			share = docLevel * after / base
		}
		if i == len(lis)-1 {
			share = docLevel - shared
		}
		shared += share
		lineTax := ((after-share)*rate + 50) / 100
		tax += lineTax
		li["item_level_discount_amount"] = itemDiscs[i]
		li["discount_amount"] = share
		li["tax_amount"] = lineTax
		li["is_taxed"] = rate > 0 && c.addr != nil
		if rate > 0 {
			li["tax_rate"] = float64(rate)
		}
	}
	taxable := subTotal - itemDisc - docLevel
	total := taxable + tax
	net := c.m["net_term_days"].(int64)
	anyLis := make([]any, len(lis))
	for i, li := range lis {
		anyLis[i] = li
	}
	m := obj{
		"customer_id": c.id, "subscription_id": s.id, "recurring": o.recurring, "price_type": "tax_exclusive",
		"date": date, "due_date": date + net*day, "net_term_days": net, "currency_code": s.cur,
		"total": total, "sub_total": subTotal, "tax": tax, "credits_applied": o.credits,
		"amount_adjusted": int64(0), "write_off_amount": int64(0), "round_off_amount": int64(0),
		"first_invoice": o.first, "has_advance_charges": false, "is_gifted": o.gifted, "term_finalized": o.termFinalized,
		"deleted": false, "line_items": anyLis, "object": "invoice",
	}
	if o.consolidated {
		delete(m, "subscription_id")
	}
	if discounts != nil {
		m["discounts"] = discounts
	}
	in.m = m
	// default status: paid (auto collection) or posted/paid (net terms)
	if net == 0 {
		g.setPaid(in, date+g.between(20, 900))
	} else if date+net*day > day1Now {
		g.setStatus(in, "posted", date)
	} else {
		g.setPaid(in, date+g.between(3*day, 25*day))
	}
	return in
}

func (g *gen) setStatus(in *inv, status string, updated int64) {
	m := in.m
	total := m["total"].(int64)
	credits := m["credits_applied"].(int64)
	delete(m, "paid_at")
	delete(m, "linked_payments")
	delete(m, "dunning_status")
	delete(m, "dunning_attempts")
	delete(m, "next_retry_at")
	m["status"] = status
	m["amount_paid"] = int64(0)
	m["amount_due"] = total - credits
	m["amount_to_collect"] = total - credits
	if status == "voided" {
		m["amount_due"] = int64(0)
		m["amount_to_collect"] = int64(0)
		m["voided_at"] = updated
	}
	m["updated_at"] = updated
	m["resource_version"] = g.rv(updated)
}

func (g *gen) setPaid(in *inv, paidAt int64) {
	g.setStatus(in, "paid", paidAt)
	m := in.m
	paid := m["total"].(int64) - m["credits_applied"].(int64)
	m["amount_paid"] = paid
	m["amount_due"] = int64(0)
	m["amount_to_collect"] = int64(0)
	m["paid_at"] = paidAt
	if paid > 0 {
		m["linked_payments"] = []any{obj{"txn_id": "txn_" + g.rid(16), "applied_amount": paid, "applied_at": paidAt, "txn_status": "success", "txn_date": paidAt, "txn_amount": paid, "object": "linked_payment"}}
	}
}

// failAutoCollection marks a card payment that failed: payment_due while dunning
// retries (in_progress), not_paid once the retries ran out (exhausted). Each
// attempt is a failed transaction in linked_payments and in dunning_attempts.
func (g *gen) failAutoCollection(in *inv, attempts int, first, last int64, exhausted bool) {
	status, dunning := "payment_due", "in_progress"
	if exhausted {
		status, dunning = "not_paid", "exhausted"
	}
	g.setStatus(in, status, last)
	amt := in.m["amount_due"].(int64)
	var lps, das []any
	for k := range attempts {
		at := first
		if attempts > 1 {
			at = first + (last-first)*int64(k)/int64(attempts-1)
		}
		txn := "txn_" + g.rid(16)
		lps = append(lps, obj{"txn_id": txn, "applied_amount": int64(0), "applied_at": at, "txn_status": "failure", "txn_date": at, "txn_amount": amt, "object": "linked_payment"})
		das = append(das, obj{"attempt": int64(k), "transaction_id": txn, "dunning_type": "auto_collect", "created_at": at, "txn_status": "failure", "txn_amount": amt, "retry_engine": "chargebee", "object": "dunning_attempt"})
	}
	in.m["linked_payments"] = lps
	in.m["dunning_attempts"] = das
	in.m["dunning_status"] = dunning
	if !exhausted {
		in.m["next_retry_at"] = day1Now + 6*3600 + g.between(0, 3600)
	}
}

// issueCreditNote records a credit note on the invoice it refers to, as the
// invoice's issued_credit_notes[] declares it; buildCreditNotes writes the
// credit_note objects themselves.
func (g *gen) issueCreditNote(in *inv, cn obj) {
	in.m["issued_credit_notes"] = append(asList(in.m["issued_credit_notes"]), obj{
		"cn_id": cn["id"], "cn_reason_code": cn["reason_code"], "cn_date": cn["date"], "cn_total": cn["total"],
		"cn_status": cn["status"], "object": "issued_credit_note",
	})
	g.cnByInv[in.id] = append(g.cnByInv[in.id], cn)
}

func asList(v any) []any {
	if l, ok := v.([]any); ok {
		return l
	}
	return nil
}

func has(list, x string) bool {
	for _, v := range strings.Split(list, ",") {
		if v == x {
			return true
		}
	}
	return false
}

func (g *gen) subInvoices(s *sub) {
	sc := s.sc
	if s.billed == 0 || sc.gift != "" || (sc.id != "" && sc.bad != "deleted") || s.c.p.consolidated {
		return
	}
	n := 1 + g.rng.IntN(3)
	if has(sc.inv, "offline_due") || has(sc.inv, "cn_adjusted") {
		n = max(n, 2) // the scenario needs the invoice before the latest
	}
	if n > s.billed {
		n = s.billed
	}
	o := invOpts{recurring: true, termFinalized: true}
	if has(sc.inv, "coupon_doc") {
		o.docPct = 10
	}
	if has(sc.inv, "coupon_item") {
		o.itemPct = 20
	}
	var prev *inv
	for k := s.billed - n; k < s.billed; k++ {
		var lines []lineSpec
		for i, l := range s.lines {
			if sc.prorate > 0 && i == sc.prorateIdx {
				l.qty -= sc.prorate // the quantity before the mid-term upgrade
			}
			if !l.charge || k == 0 {
				lines = append(lines, l)
			}
		}
		o.first = k == 0
		o.from, o.to = s.bnd(k), s.bnd(k+1)
		o.credits, o.promo = 0, 0
		last := k == s.billed-1
		if last && has(sc.inv, "credits") {
			o.credits = 500
		}
		if last && has(sc.inv, "promo") {
			o.promo = 300
		}
		date := o.from
		if last && has(sc.inv, "voided_prev") {
			// first attempt voided (wrong address), re-issued an hour later
			v := g.newInvoice(s, s.c, date, lines, o)
			g.setStatus(v, "voided", date+2400)
			g.add(s, v)
			date += 3600
		}
		in := g.newInvoice(s, s.c, date, lines, o)
		g.add(s, in)
		if k == s.billed-2 && has(sc.inv, "offline_due") {
			// Net 30, not paid by its due date: payment_due with no transaction at
			// all, which is how offline invoicing looks, not a failed payment.
			if date+30*day >= day1Now {
				panic("the offline payer's previous invoice is not overdue")
			}
			g.setStatus(in, "payment_due", date+30*day+3600)
		}
		if !last {
			prev = in
			continue
		}
		switch {
		case sc.due:
			g.failAutoCollection(in, 2, date+300, min(date+3*day+g.between(0, 3600), day1Now-3600), false)
		case sc.reason == "not_paid":
			g.failAutoCollection(in, 4, date+300, s.end, true)
		case sc.reason == "fraud_review_failed":
			g.setStatus(in, "voided", s.end)
		case has(sc.inv, "pending"):
			g.setStatus(in, "pending", date)
		case has(sc.inv, "dd_in_progress"):
			// A direct debit takes days to clear: the invoice stays payment_due with
			// its transaction in_progress, and no dunning.
			at := date + 240
			g.setStatus(in, "payment_due", at)
			due := in.m["amount_due"].(int64)
			in.m["linked_payments"] = []any{obj{"txn_id": "txn_" + g.rid(16), "applied_amount": due, "applied_at": at, "txn_status": "in_progress", "txn_date": at, "txn_amount": due, "object": "linked_payment"}}
		case has(sc.inv, "refund_full"):
			in.cns = append(in.cns, cnSpec{status: "refunded", amount: in.m["total"].(int64), when: s.end, reason: "subscription_cancellation"})
		case has(sc.inv, "refund_partial"):
			in.cns = append(in.cns, cnSpec{status: "refunded", amount: in.m["total"].(int64) / 2, when: min(date+4*day, day1Now-7200), reason: "product_unsatisfactory"})
		case has(sc.inv, "cn_refund_due"):
			// Cancelled mid-term: a credit note for the unused part, not yet refunded.
			unused := in.m["total"].(int64) * (s.curEnd - s.end) / (s.curEnd - s.curStart)
			in.cns = append(in.cns, cnSpec{status: "refund_due", amount: unused, when: s.end + 60, reason: "subscription_cancellation"})
		case has(sc.inv, "cn_voided"):
			in.cns = append(in.cns, cnSpec{status: "voided", amount: lines[len(lines)-1].amount(), when: date + 2*day, reason: "order_change"})
		}
		if has(sc.inv, "cn_adjusted") {
			// The 500 of credits applied to the latest invoice came from a credit note
			// against the one before, adjusted (allocated) rather than refunded.
			if prev == nil {
				panic("cn_adjusted needs two invoices")
			}
			prev.cns = append(prev.cns, cnSpec{status: "adjusted", amount: 500, when: date - 10*day, reason: "service_unsatisfactory", allocateTo: in})
		}
	}
	if has(sc.inv, "adhoc") {
		// Product Catalog 1.0: a one-off charge not from the catalog.
		d := g.between(s.curStart+3600, day1Now-3600)
		in := g.newInvoice(s, s.c, d, []lineSpec{{entityType: "adhoc", itemType: "charge", desc: "Data migration (one-off)", model: "flat_fee", unit: 7500, qty: 1, charge: true}}, invOpts{recurring: true, from: d, to: d, termFinalized: true})
		g.add(s, in)
	}
	if has(sc.inv, "oneoff") {
		// A one-off charge after the latest renewal: the subscription's newest
		// invoice, recurring like every invoice of a subscription.
		p := g.priceMap["onboarding-"+s.cur]
		d := g.between(s.curStart+3600, day1Now-3600)
		lo := invOpts{recurring: true, from: d, to: d, termFinalized: true}
		in := g.newInvoice(s, s.c, d, []lineSpec{{entityType: "charge_item_price", entityID: p.id, itemType: "charge", desc: p.ext, model: p.model, unit: p.price, qty: 1, charge: true}}, lo)
		g.add(s, in)
	}
	if sc.prorate > 0 {
		g.prorationInvoice(s)
	}
	if sc.bad == "deleted" {
		for _, in := range s.invs {
			in.m["deleted"] = true
			in.m["updated_at"] = s.c.updated
			in.m["resource_version"] = g.rv(s.c.updated)
		}
	}
}

// prorationInvoice bills a mid-term quantity increase after the latest renewal:
// the item at its new quantity for the rest of the term, less prorated credits
// for the old quantity's unused part. It is the subscription's newest invoice, and
// recurring.
func (g *gen) prorationInvoice(s *sub) {
	sc := s.sc
	u := s.curStart + (s.curEnd-s.curStart)/3
	if u >= day1Now-day {
		u = g.between(s.curStart+3600, day1Now-3600)
	}
	u = u - u%60
	l := s.lines[sc.prorateIdx]
	frac := func(amount int64) int64 { return amount * (s.curEnd - u) / (s.curEnd - s.curStart) }
	newL := l
	newL.amt = frac(l.unit * l.qty)
	oldAmt := frac(l.unit * (l.qty - sc.prorate))
	in := g.newInvoice(s, s.c, u, []lineSpec{newL}, invOpts{recurring: true, termFinalized: true, from: u, to: s.curEnd, prorated: oldAmt})
	g.add(s, in)
	if s.m["updated_at"].(int64) < u {
		s.m["updated_at"] = u + 2
		s.m["resource_version"] = g.rv(u + 2)
	}
}

// consolidatedInvoices bills the subscriptions of a consolidated-invoicing customer
// on one invoice per renewal: the invoice has no subscription_id, each line item
// names its subscription.
func (g *gen) consolidatedInvoices() {
	for _, c := range g.custs {
		if !c.p.consolidated {
			continue
		}
		a := c.subs[0]
		for _, b := range c.subs[1:] {
			if b.anchor != a.anchor || b.unit != a.unit || b.period != a.period || b.cur != a.cur || b.billed != a.billed {
				panic("consolidated subscriptions must renew together")
			}
		}
		for k := max(0, a.billed-3); k < a.billed; k++ {
			var lines []lineSpec
			for _, s := range c.subs {
				for _, l := range s.lines {
					if !l.charge || k == 0 {
						l.subID = s.id
						lines = append(lines, l)
					}
				}
			}
			in := g.newInvoice(a, c, a.bnd(k), lines, invOpts{recurring: true, termFinalized: true, first: k == 0, from: a.bnd(k), to: a.bnd(k + 1), consolidated: true})
			g.add(a, in)
			for _, s := range c.subs[1:] {
				s.invs = append(s.invs, in)
			}
		}
	}
}

func (g *gen) add(s *sub, in *inv) {
	s.invs = append(s.invs, in)
	g.invs = append(g.invs, in)
}

// latestRecurring returns the latest recurring invoice of a subscription.
func (s *sub) latestRecurring() *inv {
	var best *inv
	for _, in := range s.invs {
		if in.m["recurring"] == true && (best == nil || in.date >= best.date) {
			best = in
		}
	}
	return best
}

// finishSub sets the dues: every payment_due or not_paid invoice of the
// subscription counts, whatever made it due (a failed card, an offline payer past
// the due date, a direct debit still clearing).
func (g *gen) finishSub(s *sub) {
	var n, total, since int64
	for _, in := range s.invs {
		switch in.m["status"] {
		case "payment_due", "not_paid":
			n++
			total += in.m["amount_due"].(int64)
			if since == 0 || in.date < since {
				since = in.date
			}
		}
	}
	if n > 0 {
		s.m["due_invoices_count"] = n
		s.m["due_since"] = since
		s.m["total_dues"] = total
	}
}

// giftsAndInvoices writes the gifter invoices and the gift objects.
func (g *gen) giftsAndInvoices() {
	type giftSpec struct {
		id, receiver, gifter, status, note string
		bought                             int64
		scheduled                          string
		autoClaim                          bool
	}
	specs := []giftSpec{
		{"gift_0001", "sofia", "bad_gifter", "claimed", "¡Feliz cumpleaños, Sofía!", ts("2026-05-20T16:02:00Z"), "2026-06-01T00:00:00Z", true},
		{"gift_0002", "ethan", "bad_gifter", "scheduled", "Merry Christmas, Ethan!", ts("2026-11-02T18:39:00Z"), "2026-12-24T00:00:00Z", true},
		{"gift_0003", "clara", "emily", "unclaimed", "Viel Spaß damit!", ts("2026-11-10T09:14:00Z"), "2026-11-10T09:15:00Z", false},
	}
	for _, sp := range specs {
		rc := g.byH[sp.receiver]
		gc := g.byH[sp.gifter]
		rs := rc.subs[0]
		lines := rs.lines
		o := invOpts{gifted: true, termFinalized: sp.status == "claimed", from: sp.bought, to: boundary(sp.bought, rs.unit, rs.period, 1)}
		in := g.newInvoice(rs, gc, sp.bought, lines, o)
		in.m["first_invoice"] = false
		g.add(rs, in)
		gifter := obj{"customer_id": gc.id, "signature": gc.p.first + " " + gc.p.last, "note": sp.note, "object": "gifter"}
		g.giftInv = append(g.giftInv, giftRef{gifter, in})
		gift := obj{
			"id": sp.id, "status": sp.status, "scheduled_at": ts(sp.scheduled), "auto_claim": sp.autoClaim, "no_expiry": sp.autoClaim,
			"gifter":        gifter,
			"gift_receiver": obj{"customer_id": rc.id, "subscription_id": rs.id, "first_name": rc.p.first, "last_name": rc.p.last, "email": rc.p.email, "object": "gift_receiver"},
			"object":        "gift",
		}
		upd := sp.bought + 30
		if sp.status == "claimed" {
			upd = ts(sp.scheduled) + 12
		}
		if !sp.autoClaim {
			gift["claim_expiry_date"] = ts("2026-12-10T09:15:00Z")
		}
		gift["updated_at"] = upd
		gift["resource_version"] = g.rv(upd)
		g.gifts = append(g.gifts, obj{"gift": gift, "subscription": rs.m})
	}
}

// ---------------------------------------------------------------- day 2

func deepCopy(v any) any {
	switch x := v.(type) {
	case obj:
		m := obj{}
		for k, vv := range x {
			m[k] = deepCopy(vv)
		}
		return m
	case []any:
		out := make([]any, len(x))
		for i, vv := range x {
			out[i] = deepCopy(vv)
		}
		return out
	default:
		return v
	}
}

func (g *gen) nextInvoice(s *sub, c *cust, date int64, lines []lineSpec, o invOpts) *inv {
	in := g.newInvoice(s, c, date, lines, o)
	in.id = fmt.Sprintf("inv_%05d", g.invNext)
	g.invNext++
	in.m["id"] = in.id
	g.d2Invs = append(g.d2Invs, in)
	return in
}

func (g *gen) buildDay2() {
	subOf := func(h string) *sub {
		c := g.byH[h]
		for _, s := range c.subs {
			if s.sc.id == "" {
				return s
			}
		}
		panic(h)
	}
	changedCust := map[string]obj{} // by customer id, for subscription entries
	var custEntries []*cust
	var subEntries []*sub
	subState := map[*sub]obj{}

	// In time order, so new invoice numbers follow their dates.
	// 1. active -> cancelled (not_paid): the payment_due invoice is now not_paid
	{
		s := subOf("ryan")
		m := deepCopy(s.m).(obj)
		when := ts("2026-11-20T08:31:05Z")
		last := s.latestRecurring()
		li := &inv{id: last.id, s: s, c: s.c, date: last.date, m: deepCopy(last.m).(obj)}
		g.failAutoCollection(li, 4, li.date+300, when, true)
		g.d2Invs = append(g.d2Invs, li)
		m["status"] = "cancelled"
		m["cancel_reason"] = "not_paid"
		m["cancelled_at"] = when
		m["mrr"] = int64(0)
		delete(m, "next_billing_at")
		m["updated_at"] = when
		m["resource_version"] = g.rv(when)
		subEntries = append(subEntries, s)
		subState[s] = m
		g.d2Notes = append(g.d2Notes, [2]string{"active → cancelled (not_paid)", fmt.Sprintf("%s of %s; its invoice %s payment_due → not_paid", s.id, s.c.id, li.id)})
	}
	// 2. email change
	{
		c := g.byH["hannah"]
		when := ts("2026-11-20T09:12:44Z")
		cm := deepCopy(c.m).(obj)
		old := cm["email"]
		cm["email"] = "h.weber@example.net"
		cm["updated_at"] = when
		cm["resource_version"] = g.rv(when)
		changedCust[c.id] = cm
		custEntries = append(custEntries, c)
		g.d2Notes = append(g.d2Notes, [2]string{"email change", fmt.Sprintf("%s: %s → h.weber@example.net", c.id, old)})
	}
	// 3. amount change at renewal: quantity 2 -> 5, new paid recurring invoice
	{
		s := subOf("jessica")
		m := deepCopy(s.m).(obj)
		renew := s.curEnd
		if renew <= day1Now || renew >= day2Now {
			panic("jessica does not renew on day 2")
		}
		s2 := *s
		s2.lines = append([]lineSpec(nil), s.lines...)
		s2.lines[0].qty = 5
		s2.anchor = renew
		s2.curStart, s2.curEnd = s2.bnd(0), s2.bnd(1)
		in := g.nextInvoice(&s2, s.c, renew, s2.lines, invOpts{recurring: true, termFinalized: true, from: s2.curStart, to: s2.curEnd})
		g.setPaid(in, renew+41)
		items := g.subItems(&s2)
		if s.sc.pc1 != "" {
			panic("jessica must be PC2")
		}
		m["subscription_items"] = items
		m["current_term_start"] = s2.curStart
		m["current_term_end"] = s2.curEnd
		m["next_billing_at"] = s2.curEnd
		m["mrr"] = mrrOf(s2.recurringAmount(), s.unit, s.period)
		m["updated_at"] = renew + 3
		m["resource_version"] = g.rv(renew + 3)
		subEntries = append(subEntries, s)
		subState[s] = m
		g.d2Notes = append(g.d2Notes, [2]string{"amount change", fmt.Sprintf("%s of %s: pro-USD-monthly quantity 2 → 5 at renewal 2026-11-20T10:00:00Z, new paid recurring invoice %s total %d (was %d)", s.id, s.c.id, in.id, in.m["total"], s.latestRecurring().m["total"])})
	}

	// 4. brand-new customer with an active subscription and a paid invoice
	np := newPerson
	nc := &cust{p: &np, created: ts(np.created)}
	nc.id = fmt.Sprintf("cus_%04d", len(g.custs)-countExplicit(g.custs)+1)
	nc.subs = nil
	g.customerObjAt(nc, nc.created+30)
	ns := &sub{sc: &scen{h: "priya", status: "active", items: []item{it("pro-USD-monthly", 2), it("extra-seat-USD-monthly", 1)}}, c: nc}
	g.items(ns)
	ns.created = ts("2026-11-20T11:07:30Z")
	ns.anchor = ns.created
	ns.billed = 1
	ns.curStart, ns.curEnd = ns.bnd(0), ns.bnd(1)
	ns.id = fmt.Sprintf("sub_%04d", len(g.subs)-countExplicitSubs(g.subs)+1)
	nc.subs = []*sub{ns}
	g.byH["priya"] = nc
	g.subObj2(ns)
	in := g.nextInvoice(ns, nc, ns.created+1, ns.lines, invOpts{recurring: true, first: true, termFinalized: true, from: ns.curStart, to: ns.curEnd})
	g.setPaid(in, ns.created+3)
	custEntries = append(custEntries, nc)
	subEntries = append(subEntries, ns)
	subState[ns] = ns.m
	g.d2Notes = append(g.d2Notes, [2]string{"new customer", fmt.Sprintf("%s (%s) with active subscription %s and paid invoice %s", nc.id, np.email, ns.id, in.id)})

	// 5. in_trial -> active with a new paid invoice
	{
		s := subOf("isla")
		m := deepCopy(s.m).(obj)
		te := s.trialEnd
		s2 := *s
		s2.anchor = te
		s2.curStart, s2.curEnd = s2.bnd(0), s2.bnd(1)
		in := g.nextInvoice(&s2, s.c, te, s.lines, invOpts{recurring: true, first: true, termFinalized: true, from: s2.curStart, to: s2.curEnd})
		g.setPaid(in, te+37)
		m["status"] = "active"
		m["activated_at"] = te
		m["current_term_start"] = s2.curStart
		m["current_term_end"] = s2.curEnd
		m["next_billing_at"] = s2.curEnd
		m["mrr"] = mrrOf(s.recurringAmount(), s.unit, s.period)
		delete(m, "trial_end_action")
		m["updated_at"] = te + 38
		m["resource_version"] = g.rv(te + 38)
		subEntries = append(subEntries, s)
		subState[s] = m
		g.d2Notes = append(g.d2Notes, [2]string{"in_trial → active", fmt.Sprintf("%s of %s; new paid invoice %s", s.id, s.c.id, in.id)})
	}
	// 6. customer deleted (its subscription and invoices deleted too)
	{
		c := g.byH["rachel"]
		when := ts("2026-11-20T14:22:10Z")
		cm := deepCopy(c.m).(obj)
		cm["deleted"] = true
		cm["updated_at"] = when
		cm["resource_version"] = g.rv(when)
		changedCust[c.id] = cm
		custEntries = append(custEntries, c)
		var invIDs []string
		for _, s := range c.subs {
			m := deepCopy(s.m).(obj)
			m["deleted"] = true
			m["updated_at"] = when + 1
			m["resource_version"] = g.rv(when + 1)
			subEntries = append(subEntries, s)
			subState[s] = m
			for _, x := range s.invs {
				im := deepCopy(x.m).(obj)
				im["deleted"] = true
				im["updated_at"] = when + 2
				im["resource_version"] = g.rv(when + 2)
				g.d2Invs = append(g.d2Invs, &inv{id: x.id, s: s, c: c, date: x.date, m: im})
				invIDs = append(invIDs, x.id)
			}
		}
		g.d2Notes = append(g.d2Notes, [2]string{"customer deleted", fmt.Sprintf("%s (deleted true), subscription %s deleted true, invoices %s deleted true", c.id, c.subs[0].id, strings.Join(invIDs, ", "))})
	}
	// 7. active -> paused
	{
		s := subOf("james")
		m := deepCopy(s.m).(obj)
		pd := ts("2026-11-20T16:00:00Z")
		if s.curEnd <= pd {
			panic("james renews before the pause")
		}
		m["status"] = "paused"
		m["pause_date"] = pd
		m["resume_date"] = ts("2027-01-20T16:00:00Z")
		m["next_billing_at"] = m["resume_date"]
		m["mrr"] = int64(0)
		m["updated_at"] = pd + 2
		m["resource_version"] = g.rv(pd + 2)
		subEntries = append(subEntries, s)
		subState[s] = m
		g.d2Notes = append(g.d2Notes, [2]string{"active → paused", fmt.Sprintf("%s of %s (pause_date 2026-11-20T16:00:00Z, resume_date 2027-01-20T16:00:00Z)", s.id, s.c.id)})
	}
	custEntries = g.day2Extras(custEntries, changedCust)
	// assemble
	for _, c := range custEntries {
		m := c.m
		if cm, ok := changedCust[c.id]; ok {
			m = cm
		}
		e := &cust{p: c.p, id: c.id, m: m, card: c.card, updated: m["updated_at"].(int64)}
		if m["pii_cleared"] == "cleared" {
			e.card = nil // erased with its payment details
		}
		g.d2Custs = append(g.d2Custs, e)
	}
	sort.SliceStable(g.d2Custs, func(i, j int) bool { return g.d2Custs[i].updated < g.d2Custs[j].updated })
	sort.SliceStable(subEntries, func(i, j int) bool {
		return subState[subEntries[i]]["updated_at"].(int64) < subState[subEntries[j]]["updated_at"].(int64)
	})
	for _, s := range subEntries {
		cm := s.c.m
		if x, ok := changedCust[s.c.id]; ok {
			cm = x
		}
		e := obj{"subscription": subState[s], "customer": cm}
		if s.c.card != nil {
			e["card"] = s.c.card
		}
		g.d2Subs = append(g.d2Subs, e)
	}
	sort.SliceStable(g.d2Invs, func(i, j int) bool {
		return g.d2Invs[i].m["updated_at"].(int64) < g.d2Invs[j].m["updated_at"].(int64)
	})
}

func countExplicit(cs []*cust) int {
	n := 0
	for _, c := range cs {
		if c.explicit {
			n++
		}
	}
	return n
}

func countExplicitSubs(ss []*sub) int {
	n := 0
	for _, s := range ss {
		if s.sc.id != "" || s.sc.sid != "" {
			n++
		}
	}
	return n
}

func (g *gen) customerObjAt(c *cust, updated int64) {
	c.p.updated = iso(updated)
	g.customerObj(c)
}

// subObj2 builds a day-2 subscription object (subObj clamps to the day-1 "now").
func (g *gen) subObj2(s *sub) {
	g.subObj(s)
	s.m["updated_at"] = s.created + 2
	s.m["resource_version"] = g.rv(s.created + 2)
}

// ---------------------------------------------------------------- output

func encode(v any) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

// writePages writes entries as pages of pageSize; key(i) gives the sort value
// (seconds) behind the opaque next_offset of the page ending at entry i.
func writePages(dir string, entries []any, key func(i int) int64) int {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		panic(err)
	}
	old, _ := filepath.Glob(filepath.Join(dir, "page-*.json"))
	for _, f := range old {
		if err := os.Remove(f); err != nil {
			panic(err)
		}
	}
	pages := 0
	for start := 0; start < len(entries) || start == 0; start += pageSize {
		end := min(start+pageSize, len(entries))
		page := obj{"list": append([]any{}, entries[start:end]...)}
		if end < len(entries) {
			page["next_offset"] = fmt.Sprintf(`["%d","%d"]`, key(end-1)*1000, 230000000000+int64(end-1)*7+13)
		}
		pages++
		name := filepath.Join(dir, fmt.Sprintf("page-%03d.json", pages))
		if err := os.WriteFile(name, encode(page), 0o644); err != nil {
			panic(err)
		}
		if len(entries) == 0 {
			break
		}
	}
	return pages
}

func (g *gen) write(out string) {
	d1 := filepath.Join(out, "chargebee")
	d2 := filepath.Join(out, "chargebee-day2")

	// day 1 customers (the duplicate id right after the original)
	var ce []any
	var ck []int64
	for _, c := range g.custs {
		e := obj{"customer": c.m}
		if c.card != nil {
			e["card"] = c.card
		}
		ce = append(ce, e)
		ck = append(ck, c.created)
		if c.dup != nil {
			e2 := obj{"customer": c.dup}
			if c.card != nil {
				e2["card"] = c.card
			}
			ce = append(ce, e2)
			ck = append(ck, c.created)
		}
	}
	writePages(filepath.Join(d1, "customers"), ce, func(i int) int64 { return ck[i] })

	var se []any
	var sk []int64
	for _, s := range g.subs {
		e := obj{"subscription": s.m, "customer": s.c.m}
		if s.c.card != nil {
			e["card"] = s.c.card
		}
		se = append(se, e)
		sk = append(sk, s.m["created_at"].(int64))
	}
	writePages(filepath.Join(d1, "subscriptions"), se, func(i int) int64 { return sk[i] })

	var ie []any
	for _, in := range g.invs {
		ie = append(ie, obj{"invoice": in.m})
	}
	writePages(filepath.Join(d1, "invoices"), ie, func(i int) int64 { return g.invs[i].date })

	// Item prices as the API lists them without sort_by: newest first.
	var pe []any
	var pk []int64
	for i := len(g.prices) - 1; i >= 0; i-- {
		pe = append(pe, obj{"item_price": g.priceObj(g.prices[i])})
		pk = append(pk, g.prices[i].created)
	}
	writePages(filepath.Join(d1, "item_prices"), pe, func(i int) int64 { return pk[i] })

	var ge []any
	for _, x := range g.gifts {
		ge = append(ge, x)
	}
	writePages(filepath.Join(d1, "gifts"), ge, func(i int) int64 { return 0 })

	// day 2
	var c2 []any
	for _, c := range g.d2Custs {
		e := obj{"customer": c.m}
		if c.card != nil {
			e["card"] = c.card
		}
		c2 = append(c2, e)
	}
	writePages(filepath.Join(d2, "customers"), c2, func(i int) int64 { return g.d2Custs[i].updated })
	writePages(filepath.Join(d2, "subscriptions"), g.d2Subs, func(i int) int64 {
		return g.d2Subs[i].(obj)["subscription"].(obj)["updated_at"].(int64)
	})
	var i2 []any
	for _, in := range g.d2Invs {
		i2 = append(i2, obj{"invoice": in.m})
	}
	writePages(filepath.Join(d2, "invoices"), i2, func(i int) int64 { return g.d2Invs[i].m["updated_at"].(int64) })
	writePages(filepath.Join(d2, "item_prices"), nil, func(i int) int64 { return 0 })
	g.writeExtras(d1, d2)

	if err := os.WriteFile(filepath.Join(out, "README.md"), []byte(g.readme(len(ce), len(se), len(ie), len(pe), len(ge))), 0o644); err != nil {
		panic(err)
	}
	fmt.Printf("day 1: %d customer entries (%d distinct), %d subscriptions, %d invoices, %d item prices, %d gifts\n", len(ce), len(g.custs), len(se), len(ie), len(pe), len(ge))
	fmt.Printf("day 2: %d customers, %d subscriptions, %d invoices\n", len(c2), len(g.d2Subs), len(i2))
	fmt.Printf("wrote %s and %s\n", d1, d2)
}

// ---------------------------------------------------------------- README

func (g *gen) subFor(h string, pred func(*sub) bool) string {
	var ids []string
	for _, s := range g.byH[h].subs {
		if pred(s) {
			ids = append(ids, s.id)
		}
	}
	return strings.Join(ids, ", ")
}

func (g *gen) statusIDs(pred func(*sub) bool) string {
	var ids []string
	for _, s := range g.subs {
		if pred(s) {
			ids = append(ids, s.id)
		}
	}
	return strings.Join(ids, ", ")
}

func (g *gen) readme(nc, ns, ni, np, ngift int) string {
	var b strings.Builder
	w := func(f string, a ...any) { fmt.Fprintf(&b, f, a...) }
	cid := func(h string) string { return g.byH[h].id }
	good := func(s *sub) bool { return s.sc.id == "" }
	w("# Fixtures\n\n")
	w("Generated, do not edit by hand: regenerate with `go run ./scripts/genfixtures` (add `-out DIR` to write elsewhere).\n")
	w("The output is byte-for-byte identical on every run.\n\n")
	w("Chargebee API v2 list pages, read by the `pages` extract source (README \"Commands\", ARCHITECTURE.md) and served by the sandbox\n")
	w("(sandbox/chargebee): each file is one `{\"list\":[...],\"next_offset\":\"...\"}` page as the API returns it, 20 entries a page,\n")
	w("`next_offset` absent on the last page. Every object uses only the field names, types and enum values of Chargebee's\n")
	w("official Go SDK (chargebee-go v3.48.0, models/<resource>/<resource>.go and enum/; recorded in\n")
	w("testdata/chargebee/chargebee-model-fields.tsv and chargebee-model-enums.tsv), which `go test ./scripts/genfixtures` checks.\n\n")
	w("Timestamps are Unix seconds (UTC). Money is in the currency's minor unit as Chargebee counts it: hundredths for every\n")
	w("currency but Chargebee's zero-decimal ones (JPY, KRW, XAF, XOF). So KWD, three decimals for ISO, is still ×100\n")
	w("(KWD 95.00 is 9500) and CLP, zero-decimal for ISO, is ×100 too (CLP 44,900 is 4490000); JPY 1,500 is 1500 and\n")
	w("KRW 19,000 is 19000. With multi-decimal pricing, `price_in_decimal`, `unit_price_in_decimal`, `quantity_in_decimal`,\n")
	w("`amount_in_decimal` are strings in major units (\"9.995\") and replace the integer fields.\n\n")

	w("## chargebee/ — a Product Catalog 2.0 site, day 1 (full read, \"now\" = 2026-11-20T02:00:00Z)\n\n")
	w("| folder | entries | order | shape (chargebee-go model) |\n|---|---|---|---|\n")
	w("| customers/ | %d (%d distinct ids: one duplicated on purpose) `{customer, card?}` | created_at asc | customer.Customer (primary_payment_source_id, payment_method, auto_collection), card.Card when the customer has a card |\n", nc, len(g.custs))
	w("| subscriptions/ | %d `{subscription, customer, card?}` | created_at asc | subscription.Subscription: subscription_items[] (billing_cycles), payment_source_id, auto_collection only where it overrides the customer's, contract_term |\n", ns)
	w("| invoices/ | %d `{invoice}` | date asc | invoice.Invoice: line_items[], discounts[], linked_payments[], dunning_attempts[], issued_credit_notes[], applied_credits[] |\n", ni)
	w("| credit_notes/ | %d `{credit_note}` | date asc | creditnote.CreditNote: refunds live here (linked_refunds[], allocations[]) |\n", len(g.creditNotes))
	w("| payment_sources/ | %d `{payment_source}` | created_at asc | paymentsource.PaymentSource: card{brand…}, paypal{}, bank_account{} |\n", len(g.paySources))
	w("| item_prices/ | %d `{item_price}` | created_at desc (the API's default for item prices) | itemprice.ItemPrice: name internal and unique, external_name customer-facing |\n", np)
	w("| items/ | %d `{item}` | newest first, like item prices | item.Item: the product (name \"Pro\") |\n", len(g.itemObjs()))
	w("| gifts/ | %d `{gift, subscription}` | id | gift.Gift |\n\n", ngift)
	w("No plans/ or addons/: a 2.0 site answers those lists with 400 configuration_incompatible (the sandbox does too with\n")
	w("`ProductCatalog: \"2.0\"`). The six subscriptions that were on 1.0 plans (%s) now bill item prices of the same period.\n\n",
		g.statusIDs(func(s *sub) bool {
			return s.c.p.h == "oliver" || s.c.p.h == "charlotte" || s.c.p.h == "harry" || s.c.p.h == "amelia" || s.c.p.h == "max" || s.c.p.h == "hugo"
		}))

	w("### Customers added with the SDK-shaped fixtures\n\n| id | what |\n|---|---|\n")
	w("| cus_consolidated | consolidated invoicing: sub_consolidated_a and sub_consolidated_b billed on one invoice per renewal with no subscription_id (the line items carry it): %s |\n",
		strings.Join(g.invIDs(func(in *inv) bool { _, ok := in.m["subscription_id"]; return !ok && in.c.id == "cus_consolidated" }), ", "))
	w("| cus_erased | \"Clear personal data\" before day 1: pii_cleared cleared, no email, names, phone, company, address lines or payment method; cancelled sub_erased |\n")
	w("| cus_clp | CLP (×100 in Chargebee): sub_clp on pro-CLP-monthly, CLP 44,900 × 2 = 8980000 |\n")
	w("| cus_krw | KRW (zero-decimal): sub_krw on basic-KRW-monthly, 19000 |\n")
	w("| cus_decimal | multi-decimal pricing: sub_decimal has storage-gb-USD-monthly with quantity_in_decimal \"2.5\", unit_price_in_decimal \"9.995\", amount_in_decimal \"24.9875\" (invoice line amount 2499) |\n\n")

	w("### Deliberately bad records\n\n| id | code | what |\n|---|---|---|\n")
	w("| %s | missing_email | no `email` key (subscription %s) |\n", cid("bad_noemail"), g.subFor("bad_noemail", good))
	for i := 1; i <= 3; i++ {
		h := fmt.Sprintf("bad_invalid_%d", i)
		w("| %s | invalid_email | email %q (subscription %s) |\n", cid(h), g.byH[h].p.email, g.subFor(h, good))
	}
	w("| %s | duplicate_email | %q, updated 2025-02-10; loses to %s (subscription %s) |\n", cid("bad_dupemail_1"), g.byH["bad_dupemail_1"].p.email, cid("bad_dupemail_2"), g.subFor("bad_dupemail_1", good))
	w("| %s | (wins) | %q, updated 2026-09-15, the most recently updated (subscription %s) |\n", cid("bad_dupemail_2"), g.byH["bad_dupemail_2"].p.email, g.subFor("bad_dupemail_2", good))
	w("| %s | no_subscription | customer with no subscription and no invoice |\n", cid("bad_nosub"))
	w("| %s | no_subscription, unless sync_gift_purchasers is on | gift purchaser: no subscription of its own; paid is_gifted invoices for gifts gift_0001 (claimed, term_finalized true) and gift_0002 (scheduled, term_finalized false) |\n", cid("bad_gifter"))
	w("| %s | (not an error: a delete) | deleted true; its subscription sub_bad_deleted and invoices deleted true |\n", cid("bad_deleted"))
	w("| %s | bad_date | customer created_at 0 (subscription %s is fine) |\n", cid("bad_date0"), g.subFor("bad_date0", good))
	w("| %s | duplicate_id | appears twice, last entry of customers/page-002.json and first of page-003.json, same resource_version, emails robin.ellis@example.com / r.ellis@example.org (subscription %s) |\n", cid("bad_dupid"), g.subFor("bad_dupid", good))
	w("| sub_bad_unknown_status | unknown_status | status \"suspended\" (customer %s, who also has a good subscription) |\n", cid("michael"))
	w("| sub_bad_amount | bad_amount | addon extra-seat-USD-monthly with unit_price -1000, amount -2000 (customer %s) |\n", cid("laura"))
	w("| sub_bad_currency | unknown_currency | currency_code \"XYZ\" (customer %s) |\n", cid("daniel"))
	w("| sub_bad_date_created | bad_date | created_at -5 (customer %s) |\n", cid("megan"))
	w("| sub_bad_date_term | bad_date | current_term_end 30 days before current_term_start (customer %s) |\n\n", cid("brian"))

	w("### Status coverage (good subscriptions)\n\n")
	row := func(label string, pred func(*sub) bool) {
		w("- %s: %s\n", label, g.statusIDs(func(s *sub) bool { return good(s) && pred(s) }))
	}
	st := func(s *sub) string { return s.sc.status }
	row("future", func(s *sub) bool { return st(s) == "future" && s.sc.gift == "" })
	row("future, gift (scheduled / unclaimed)", func(s *sub) bool { return st(s) == "future" && s.sc.gift != "" })
	row("in_trial", func(s *sub) bool { return st(s) == "in_trial" })
	row("active with due_invoices_count > 0", func(s *sub) bool { return st(s) == "active" && s.sc.due })
	row("non_renewing", func(s *sub) bool { return st(s) == "non_renewing" && !s.sc.due && s.sc.gift == "" })
	row("non_renewing, claimed gift", func(s *sub) bool { return st(s) == "non_renewing" && s.sc.gift != "" })
	row("non_renewing with due_invoices_count > 0", func(s *sub) bool { return st(s) == "non_renewing" && s.sc.due })
	row("paused with resume_date", func(s *sub) bool { return st(s) == "paused" && s.sc.resume })
	row("paused without resume_date", func(s *sub) bool { return st(s) == "paused" && !s.sc.resume })
	row("cancelled, not_paid", func(s *sub) bool { return st(s) == "cancelled" && s.sc.reason == "not_paid" })
	row("cancelled, remaining_billing_cycles 0 (expired)", func(s *sub) bool { return st(s) == "cancelled" && s.sc.rbc != nil })
	for _, r := range []string{"no_card", "fraud_review_failed", "non_compliant_eu_customer", "tax_calculation_failed", "currency_incompatible_with_gateway", "non_compliant_customer"} {
		row("cancelled, "+r, func(s *sub) bool { return st(s) == "cancelled" && s.sc.reason == r })
	}
	row("cancelled, no cancel_reason", func(s *sub) bool { return st(s) == "cancelled" && s.sc.reason == "" && s.sc.rbc == nil })
	row("transferred", func(s *sub) bool { return st(s) == "transferred" })
	w("- every other good subscription is active.\n\n")

	w("### Invoices and payments worth knowing\n\n")
	w("Every invoice of a subscription is `recurring: true` — renewals, one-off charges and prorations alike; only the gifters'\n")
	w("is_gifted invoices are not. So \"the latest recurring invoice\" is not the renewal: see the charge and proration rows.\n\n")
	subOf := func(h string) *sub {
		for _, x := range g.byH[h].subs {
			if good(x) {
				return x
			}
		}
		panic(h)
	}
	last := func(s *sub, back int) *inv {
		invs := append([]*inv(nil), s.invs...)
		sort.SliceStable(invs, func(i, j int) bool { return invs[i].date < invs[j].date })
		return invs[len(invs)-1-back]
	}
	irow := func(what string, h string, back int) {
		s := subOf(h)
		in := last(s, back)
		w("- %s: %s of %s (customer %s)\n", what, in.id, s.id, s.c.id)
	}
	irow("newest invoice a one-off charge (onboarding, charge_item_price) after the renewal", "daniel", 0)
	irow("  its renewal", "daniel", 1)
	irow("newest invoice a one-off charge after the renewal", "camille", 0)
	irow("newest invoice a proration (mid-term quantity +1: the plan at its new quantity, less prorated_credits)", "david", 0)
	irow("newest invoice a proration of the KWD storage-pack addon", "fatima", 0)
	irow("offline payer (auto_collection off, net 30): posted, not yet due", "tyler", 0)
	irow("  and payment_due past its due date with no transaction at all (normal invoicing, not a failure)", "tyler", 1)
	irow("direct debit clearing: payment_due, linked payment txn_status in_progress, no dunning", "louis", 0)
	irow("card failure: payment_due, dunning_status in_progress, two failed linked payments and dunning_attempts", "ryan", 0)
	irow("card failure, the same", "carmen", 0)
	irow("dunning exhausted: not_paid, four failed attempts (subscription cancelled not_paid)", "jason", 0)
	irow("full refund of the renewal: credit note refunded, cn_total == total", "olivia", 0)
	irow("partial refund of the renewal: credit note refunded, half the total", "lucia", 0)
	irow("credit note refund_due (cancelled mid-term, unused part not yet refunded)", "felix", 0)
	irow("credit note adjusted: 500 allocated to the next invoice (credits_applied 500, applied_credits[])", "oliver", 1)
	irow("  the invoice it went to", "oliver", 0)
	irow("credit note voided", "amelia", 0)
	irow("status pending", "kenji", 0)
	irow("re-issued after a voided first attempt (the voided one is dated the same day)", "chloe", 0)
	irow("voided (fraud_review_failed)", "gabriel", 0)
	irow("discounts[]: document_level_coupon LOYAL10", "laura", 0)
	irow("discounts[]: item_level_coupon SEATS20 on the addon (line item_level_discount_amount)", "camille", 1)
	irow("discounts[]: promotional_credits 300 (a credit, not a coupon)", "harry", 0)
	w("- credit notes: %s\n", func() string {
		var ids []string
		for _, cn := range g.creditNotes {
			ids = append(ids, fmt.Sprintf("%s %s (invoice %s)", cn["id"], cn["status"], cn["reference_invoice_id"]))
		}
		return strings.Join(ids, ", ")
	}())
	w("- billing cycles: %s (plan item billing_cycles 12, remaining_billing_cycles 4), %s (6 and 2); contract_term on %s\n", subOf("hannah").id, subOf("lucia").id, subOf("zoe").id)
	w("- auto_collection on the subscription (off, overriding the customer's on): %s\n", g.statusIDs(func(s *sub) bool { return s.sc.autoColl != "" }))
	w("- cancelled by hand with a site-defined cancel_reason_code and no cancel_reason: %s (too_expensive), %s (switched_plan)\n", subOf("olivia").id, g.subFor("david", func(s *sub) bool { return s.sc.reasonCode == "switched_plan" }))
	w("- is_gifted true (gifter invoices, recurring false): %s\n", func() string {
		var ids []string
		for _, in := range g.invs {
			if in.m["is_gifted"] == true {
				ids = append(ids, fmt.Sprintf("%s (customer %s, subscription %s)", in.id, in.c.id, in.s.id))
			}
		}
		return strings.Join(ids, ", ")
	}())
	w("- subscriptions with no invoice at all: future, in_trial and the sub_bad_* ones except sub_bad_deleted; gift subscriptions have only the gifter's is_gifted invoice.\n\n")

	w("Multi-subscription customers: %s (active + cancelled), %s (active + cancelled no_card), %s (active + cancelled), %s (three: two active + one cancelled).\n\n",
		cid("emily"), cid("kevin"), cid("sarah"), cid("david"))

	w("## chargebee-day2/ — day 2 (incremental `updated_at[after]` read, \"now\" = 2026-11-21T02:00:00Z)\n\n")
	w("Only the objects changed on 2026-11-20, in updated_at order; resource_version larger than day 1's. `item_prices/page-001.json` is an\n")
	w("empty page (`{\"list\": []}`); there is no gifts/ or items/ folder. Subscription entries carry the current customer object.\n")
	w("A credit note does not put its invoice in the change set (we do not assume Chargebee bumps the invoice's updated_at).\n\n")
	for _, n := range g.d2Notes {
		w("- %s: %s\n", n[0], n[1])
	}
	w("\n")
	g.pc1.readmePC1(w)
	return b.String()
}

// invIDs lists the day-1 invoices that pred picks.
func (g *gen) invIDs(pred func(*inv) bool) []string {
	var ids []string
	for _, in := range g.invs {
		if pred(in) {
			ids = append(ids, in.id)
		}
	}
	return ids
}

// readmePC1 describes the Product Catalog 1.0 site.
func (g *gen) readmePC1(w func(string, ...any)) {
	w("## chargebee-pc1/ — a Product Catalog 1.0 site (\"now\" = 2026-11-20T02:00:00Z)\n\n")
	w("A small legacy site: plans/ and addons/ (plan.Plan, addon.Addon: name internal, invoice_name on invoices) instead of\n")
	w("item prices; subscriptions carry plan_id, plan_quantity, plan_unit_price, plan_amount, setup_fee and addons[]; invoice\n")
	w("line items have entity_type plan, addon, plan_setup (the setup fee on the first invoice) or adhoc. No item_prices/ or\n")
	w("items/: such a site answers those lists with 400 configuration_incompatible (sandbox `ProductCatalog: \"1.0\"`).\n\n")
	w("| folder | entries |\n|---|---|\n| customers/ | %d |\n| subscriptions/ | %d |\n| invoices/ | %d |\n| plans/ | %d |\n| addons/ | %d |\n| payment_sources/ | %d |\n\n",
		len(g.custs), len(g.subs), len(g.invs), countLegacy(false), countLegacy(true), len(g.paySources))
	w("| subscription | customer | status | plan | addons |\n|---|---|---|---|---|\n")
	for _, s := range g.subs {
		var ad []string
		for _, a := range s.sc.pc1Addons {
			ad = append(ad, fmt.Sprintf("%s × %d", a.price, a.qty))
		}
		w("| %s | %s | %s | %s | %s |\n", s.id, s.c.id, s.sc.status, s.sc.pc1, strings.Join(ad, ", "))
	}
	w("\n")
	for _, in := range g.invs {
		for _, l := range asList(in.m["line_items"]) {
			switch l.(obj)["entity_type"] {
			case "plan_setup":
				w("- plan_setup line: %s (%s)\n", in.id, in.m["subscription_id"])
			case "adhoc":
				w("- adhoc line: %s (%s)\n", in.id, in.m["subscription_id"])
			}
		}
	}
}

func countLegacy(addon bool) int {
	n := 0
	for _, p := range legacyPlans {
		if p.addon == addon {
			n++
		}
	}
	return n
}

func main() {
	out := flag.String("out", "fixtures", "output directory")
	flag.Parse()
	run(*out)
}

// run writes every fixture folder and the README under out.
func run(out string) {
	pc1 := buildPC1()
	g := newGen()
	g.pc1 = pc1
	g.buildDay1()
	g.buildDay2()
	g.write(out)
	pc1.writePC1(filepath.Join(out, "chargebee-pc1"))
}
