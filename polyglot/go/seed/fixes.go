package seed

import (
	"fmt"
	"strconv"
	"strings"
)

// Bugs is how many bugs LISTINGS.md names for the Go listing.
const Bugs = 6

// Fixes is the set of the listing's bugs fixed in a run, numbered as in LISTINGS.md's Go list.
type Fixes uint64

// ParseFixes reads SEED_FIXES: bug numbers separated by commas ("1,3"); blanks are ignored.
func ParseFixes(s string) (Fixes, error) {
	var f Fixes
	for _, field := range strings.Split(s, ",") {
		field = strings.TrimSpace(field)
		if field == "" {
			continue
		}
		n, err := strconv.Atoi(field)
		if err != nil || n < 1 || n > Bugs {
			return 0, fmt.Errorf("SEED_FIXES=%q: %q is not a bug of the Go listing (1 to %d)", s, field, Bugs)
		}
		f |= 1 << n
	}
	return f, nil
}

// Has says whether bug n is fixed.
func (f Fixes) Has(n int) bool { return n >= 1 && n <= Bugs && f&(1<<n) != 0 }

// All is every bug fixed.
func All() Fixes {
	var f Fixes
	for n := 1; n <= Bugs; n++ {
		f |= 1 << n
	}
	return f
}
