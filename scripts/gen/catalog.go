package main

import (
	"time"

	shared "github.com/cb2ac/cb2ac/scripts/internal/catalog"
)

// The catalog and the people tables are those of scripts/genfixtures, so a generated
// site has the fixtures' variety: four currencies (JPY without decimals, KWD with
// three), daily to yearly plans, addons, one-off charges, Product Catalog 1.0 plans,
// and names, companies and addresses in several scripts.

const day = int64(86400)

var (
	day1Now    = mustTime("2026-11-20T02:00:00Z")
	day2Now    = day1Now + day
	rangeStart = mustTime("2024-01-05T00:00:00Z")
)

func mustTime(s string) int64 {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t.Unix()
}

type itemPrice struct {
	id, name, ext, item, family, typ, cur string
	price, period                         int64
	unit, model, status                   string
	created, updated, rv                  int64
}

var catalog = func() []*itemPrice {
	t0 := mustTime("2024-01-02T09:00:00Z")
	var out []*itemPrice
	add := func(id, name, ext, item, family, typ, cur string, price, period int64, unit, model, status string) {
		n := int64(len(out))
		created := t0 + n*137
		updated := created
		switch {
		case status == "archived":
			updated = mustTime("2024-12-01T10:00:00Z")
		case n%3 == 0:
			updated = created + (1+n*7919%299)*day
		}
		out = append(out, &itemPrice{id, name, ext, item, family, typ, cur, price, period, unit, model, status, created, updated, updated*1000 + 1 + n*331%899})
	}
	for _, p := range shared.Prices {
		add(p.ID, p.Name, p.ExternalName, p.ItemID, p.ItemFamilyID, p.ItemType, p.Currency, p.Price, int64(p.Period), p.PeriodUnit, p.PricingModel, p.Status)
	}
	return out
}()

// Product Catalog 1.0 plans and addons: not item prices, so the catalog does not
// list them (as on a real site migrated from 1.0).
type legacyPlan struct {
	id, name, cur  string
	price, period  int64
	unit           string
	addon          bool
	forPlanPeriods string // addons: the plan id they go with
}

var legacyPlans = []legacyPlan{
	{"legacy-basic-monthly", "Basic (legacy)", "USD", 1500, 1, "month", false, ""},
	{"legacy-premium-yearly", "Premium (legacy)", "USD", 15000, 1, "year", false, ""},
	{"legacy-team-quarterly", "Team (legacy)", "EUR", 12000, 3, "month", false, ""},
	{"legacy-basic-monthly-eur", "Basic EUR (legacy)", "EUR", 1400, 1, "month", false, ""},
	{"legacy-extra-user", "Extra user (legacy)", "USD", 500, 1, "month", true, "legacy-basic-monthly"},
	{"legacy-extra-user-annual", "Extra user annual (legacy)", "USD", 5000, 1, "year", true, "legacy-premium-yearly"},
	{"legacy-support-eur-quarterly", "Support EUR quarterly (legacy)", "EUR", 1500, 3, "month", true, "legacy-team-quarterly"},
}

// Plans by currency, repeated by how often they are bought.
var plansByCur = map[string][]string{
	"USD": {"starter-USD-monthly", "starter-USD-monthly", "starter-USD-yearly", "pro-USD-monthly", "pro-USD-monthly", "pro-USD-quarterly", "pro-USD-yearly", "daily-pass-USD-daily", "weekly-box-USD-biweekly"},
	"EUR": {"starter-EUR-monthly", "starter-EUR-monthly", "starter-EUR-yearly", "pro-EUR-monthly", "pro-EUR-monthly", "pro-EUR-semiannual", "pro-EUR-yearly", "daily-pass-EUR-daily", "weekly-box-EUR-weekly"},
	"JPY": {"basic-JPY-monthly", "basic-JPY-monthly", "basic-JPY-yearly"},
	"KWD": {"gold-KWD-monthly", "gold-KWD-monthly", "gold-KWD-yearly"},
}

var legacyByCur = map[string][]string{
	"USD": {"legacy-basic-monthly", "legacy-premium-yearly"},
	"EUR": {"legacy-team-quarterly", "legacy-basic-monthly-eur"},
}

var (
	priceByID  = map[string]*itemPrice{}
	legacyByID = map[string]*legacyPlan{}
	// addonsFor lists the addons billed with a plan: same currency, unit and period.
	addonsFor = map[string][]string{}
)

func init() {
	for _, p := range catalog {
		priceByID[p.id] = p
	}
	for _, p := range catalog {
		if p.typ != "plan" {
			continue
		}
		for _, a := range catalog {
			if a.typ == "addon" && a.cur == p.cur && a.unit == p.unit && a.period == p.period {
				addonsFor[p.id] = append(addonsFor[p.id], a.id)
			}
		}
	}
	for i := range legacyPlans {
		lp := &legacyPlans[i]
		legacyByID[lp.id] = lp
		if lp.addon {
			addonsFor[lp.forPlanPeriods] = append(addonsFor[lp.forPlanPeriods], lp.id)
		}
	}
}

// ---------------------------------------------------------------- people

type name struct{ text, slug string }

type place struct{ city, stateCode, state, zip string }

type country struct {
	code, cur, locale string
	tax               int64 // percent, on invoices of customers with a billing address
	weight            int
	first, last       []name
	places            []place
	streets           []string // one %d: the house number
	phone             string   // fmt format with one %0Nd: the varying digits
	phoneDigits       int
}

func names(pairs ...string) []name {
	out := make([]name, 0, len(pairs)/2)
	for i := 0; i < len(pairs); i += 2 {
		out = append(out, name{pairs[i], pairs[i+1]})
	}
	return out
}

var countries = []country{
	{code: "US", cur: "USD", locale: "en-US", tax: 0, weight: 35,
		first:   names("Emily", "emily", "Michael", "michael", "Sarah", "sarah", "David", "david", "Jessica", "jessica", "Chris", "chris", "Laura", "laura", "Kevin", "kevin", "Rachel", "rachel", "Daniel", "daniel", "Olivia", "olivia", "James", "james", "Megan", "megan", "Brian", "brian", "Ashley", "ashley", "Tyler", "tyler", "Nicole", "nicole", "Jason", "jason", "Amanda", "amanda", "Ryan", "ryan", "Ethan", "ethan"),
		last:    names("Carter", "carter", "Johnson", "johnson", "Thompson", "thompson", "Kim", "kim", "Nguyen", "nguyen", "O'Brien", "obrien", "Martinez", "martinez", "Patel", "patel", "Green", "green", "Wright", "wright", "Brown", "brown", "Wilson", "wilson", "Davis", "davis", "Lee", "lee", "Moore", "moore", "Anderson", "anderson", "Turner", "turner", "Scott", "scott"),
		places:  []place{{"San Francisco", "CA", "California", "94107"}, {"Austin", "TX", "Texas", "78701"}, {"New York", "NY", "New York", "10001"}, {"Seattle", "WA", "Washington", "98101"}, {"Chicago", "IL", "Illinois", "60601"}, {"Denver", "CO", "Colorado", "80202"}, {"Boston", "MA", "Massachusetts", "02110"}},
		streets: []string{"%d Howard St", "%d Congress Ave", "%d W 34th St", "%d Pine St", "%d N Michigan Ave", "%d Larimer St", "%d Atlantic Ave"},
		phone:   "+1 415 555 01%02d", phoneDigits: 2},
	{code: "GB", cur: "USD", locale: "en-GB", tax: 20, weight: 12,
		first:   names("Oliver", "oliver", "Charlotte", "charlotte", "Harry", "harry", "Amelia", "amelia", "George", "george", "Isla", "isla", "Ελένη", "eleni"),
		last:    names("Smith", "smith", "Evans", "evans", "Taylor", "taylor", "Hughes", "hughes", "Walker", "walker", "Wood", "wood", "Παπαδοπούλου", "papadopoulou"),
		places:  []place{{"London", "", "", "EC1A 1BB"}, {"Manchester", "", "", "M1 1AE"}, {"Edinburgh", "", "", "EH1 1YZ"}},
		streets: []string{"%d Baker Street", "%d Deansgate", "%d Royal Mile", "%d High Street"},
		phone:   "+44 20 7946 0%03d", phoneDigits: 3},
	{code: "DE", cur: "EUR", locale: "de-DE", tax: 19, weight: 12,
		first:   names("Zoë", "zoe", "Lukas", "lukas", "Hannah", "hannah", "Felix", "felix", "Jonas", "jonas", "Lea", "lea", "Max", "max", "Sophie", "sophie", "Ærø", "aero", "Łukasz", "lukasz", "Clara", "clara"),
		last:    names("Müller", "mueller", "Schmidt", "schmidt", "Weber", "weber", "Fischer", "fischer", "Becker", "becker", "Hoffmann", "hoffmann", "Wagner", "wagner", "Braun", "braun", "Ødegård", "odegard", "Żółć", "zolc", "Vogel", "vogel"),
		places:  []place{{"Berlin", "BE", "Berlin", "10115"}, {"München", "BY", "Bayern", "80331"}, {"Hamburg", "HH", "Hamburg", "20095"}, {"Köln", "NW", "Nordrhein-Westfalen", "50667"}},
		streets: []string{"Friedrichstraße %d", "Leopoldstraße %d", "Mönckebergstraße %d", "Hohe Straße %d"},
		phone:   "+49 30 901820%02d", phoneDigits: 2},
	{code: "FR", cur: "EUR", locale: "fr-FR", tax: 20, weight: 9,
		first:   names("Camille", "camille", "Louis", "louis", "Chloé", "chloe", "Hugo", "hugo", "Élodie", "elodie", "Manon", "manon"),
		last:    names("Dubois", "dubois", "Martin", "martin", "Lefèvre", "lefevre", "Bernard", "bernard", "Moreau", "moreau", "Petit", "petit"),
		places:  []place{{"Paris", "", "", "75001"}, {"Lyon", "", "", "69002"}, {"Marseille", "", "", "13001"}},
		streets: []string{"%d rue de Rivoli", "%d rue de la République", "%d boulevard Haussmann"},
		phone:   "+33 1 23 45 67 %02d", phoneDigits: 2},
	{code: "ES", cur: "EUR", locale: "es-ES", tax: 21, weight: 7,
		first:   names("José", "jose", "Lucía", "lucia", "Pablo", "pablo", "Marta", "marta", "Carmen", "carmen", "Sofía", "sofia"),
		last:    names("Núñez", "nunez", "García", "garcia", "Fernández", "fernandez", "López", "lopez", "Ruiz", "ruiz", "Marín", "marin"),
		places:  []place{{"Madrid", "M", "Madrid", "28013"}, {"Barcelona", "B", "Barcelona", "08002"}, {"Sevilla", "SE", "Sevilla", "41001"}},
		streets: []string{"Calle de Alcalá %d", "Passeig de Gràcia %d", "Calle Sierpes %d"},
		phone:   "+34 912 345 6%02d", phoneDigits: 2},
	{code: "JP", cur: "JPY", locale: "ja-JP", tax: 10, weight: 8,
		first:   names("太郎", "taro", "花子", "hanako", "Kenji", "kenji", "Yuki", "yuki", "Haruto", "haruto", "Aoi", "aoi"),
		last:    names("山田", "yamada", "佐藤", "sato", "Tanaka", "tanaka", "Suzuki", "suzuki", "Watanabe", "watanabe", "Kobayashi", "kobayashi"),
		places:  []place{{"Chiyoda-ku", "13", "Tokyo", "100-0001"}, {"Kita-ku", "27", "Osaka", "530-0001"}},
		streets: []string{"1-%d Marunouchi", "2-%d Umeda"},
		phone:   "+81 3-1234-56%02d", phoneDigits: 2},
	{code: "KW", cur: "KWD", locale: "ar-KW", tax: 0, weight: 3,
		first:   names("Ahmed", "ahmed", "Fatima", "fatima", "Yousef", "yousef", "Noura", "noura"),
		last:    names("Al-Sabah", "alsabah", "Al-Mutairi", "almutairi", "Al-Kandari", "alkandari", "Al-Enezi", "alenezi"),
		places:  []place{{"Kuwait City", "", "", "13001"}, {"Salmiya", "", "", "20001"}},
		streets: []string{"Block 3, Street %d", "Salem Al Mubarak St, Bldg %d"},
		phone:   "+965 2222 3%03d", phoneDigits: 3},
	{code: "BR", cur: "USD", locale: "pt-BR", tax: 0, weight: 7,
		first:   names("Ana", "ana", "Lucas", "lucas", "Beatriz", "beatriz", "Gabriel", "gabriel", "Mariana", "mariana", "Rafael", "rafael"),
		last:    names("Souza", "souza", "Oliveira", "oliveira", "Santos", "santos", "Costa", "costa", "Rocha", "rocha", "Lima", "lima"),
		places:  []place{{"São Paulo", "SP", "São Paulo", "01310-100"}, {"Rio de Janeiro", "RJ", "Rio de Janeiro", "20040-002"}, {"Belo Horizonte", "MG", "Minas Gerais", "30130-000"}},
		streets: []string{"Av. Paulista, %d", "Rua da Assembleia, %d", "Av. Afonso Pena, %d"},
		phone:   "+55 11 91234-5%03d", phoneDigits: 3},
}

var countryWeightTotal = func() int {
	t := 0
	for _, c := range countries {
		t += c.weight
	}
	return t
}()

var (
	companies = []string{"Carter Analytics", "Kim & Partners LLC", "Nguyen Design Studio", "Martinez Media", "Wright Robotics 🚀",
		"Anderson Freight Inc.", "Evans & Co", "Müller GmbH", "Becker Logistik AG", "Dubois Conseil SARL", "山田商事株式会社",
		"Suzuki Trading KK", "Gulf Horizon Trading", "Shah Labs", "Northwind Traders", "Blue Harbor Ltd"}
	domains     = []string{"example.com", "example.org", "example.net"}
	industries  = []string{"SaaS", "Agency", "Media", "Hardware", "Education", "Retail", "E-commerce"}
	referrals   = []string{"Google", "Partner", "Word of mouth", "LinkedIn", "Podcast"}
	salesReps   = []string{"Dana Whitfield", "Marcus Lee", "Priya Raman", "Tom Becker"}
	line2s      = []string{"Suite 200", "Apt 4B", "2nd floor", "Unit 12", "c/o Reception"}
	badEmails   = []string{"not-an-email", "jane@", "a b@example.com", "x@localhost", "bob@@example.com"}
	giftNotes   = []string{"Happy birthday!", "¡Feliz cumpleaños!", "Merry Christmas!", "Viel Spaß damit!"}
	reasonCodes = []string{"not_satisfied", "switched_plan", "too_expensive"}
)
