package extract

import (
	"maps"
	"slices"
	"sync"

	"github.com/cb2ac/cb2ac/schemas"
	"github.com/cb2ac/cb2ac/stages/extract/chargebee"
)

// drift adds up the unknown fields of the pages of every list (lists are read
// concurrently, hence the lock).
type drift struct {
	mu    sync.Mutex
	lists map[string]map[string]int64
}

// add counts a page of list. A field of the list's own resource is named bare
// ("loyalty_tier" in customers), one of a resource beside it with that resource
// ("card.wallet" in customers).
func (d *drift) add(list string, u chargebee.Unknown) {
	if len(u) == 0 {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.lists == nil {
		d.lists = map[string]map[string]int64{}
	}
	if d.lists[list] == nil {
		d.lists[list] = map[string]int64{}
	}
	for res, fields := range u {
		prefix := res + "."
		if res+"s" == list { // customers holds customer, item_prices item_price, ...
			prefix = ""
		}
		for f, n := range fields {
			d.lists[list][prefix+f] += n
		}
	}
}

// report is the drift by list name, nil when there was none.
func (d *drift) report() []schemas.Drift {
	if d == nil {
		return nil
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []schemas.Drift
	for _, l := range slices.Sorted(maps.Keys(d.lists)) {
		out = append(out, schemas.Drift{List: l, UnknownFields: d.lists[l]})
	}
	return out
}
