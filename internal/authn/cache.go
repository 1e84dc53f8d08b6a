package authn

import (
	"sync"
	"time"
)

// verifiedCache remembers tokens that passed every check, keyed by the whole
// token, so the same bytes verify again without a signature check until the
// entry's deadline. Only successes are stored: a refused token is checked in
// full every time. A nil *verifiedCache is a disabled cache.
type verifiedCache struct {
	max int
	ttl time.Duration

	mu sync.RWMutex
	m  map[string]cachedPrincipal
}

type cachedPrincipal struct {
	p     Principal
	until time.Time
}

func (c *verifiedCache) get(tok string, now time.Time) (Principal, bool) {
	if c == nil {
		return Principal{}, false
	}
	c.mu.RLock()
	e, ok := c.m[tok]
	c.mu.RUnlock()
	if !ok || !now.Before(e.until) {
		return Principal{}, false
	}
	return e.p, true
}

// put remembers tok until expires or now+ttl, whichever is first. When the
// cache is full it drops expired entries, then, if still full, an arbitrary
// tenth of them (map order is random), which keeps put O(1) amortized
// without bookkeeping on the read path.
func (c *verifiedCache) put(tok string, p Principal, expires, now time.Time) {
	if c == nil {
		return
	}
	until := now.Add(c.ttl)
	if expires.Before(until) {
		until = expires
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= c.max {
		for k, e := range c.m {
			if !now.Before(e.until) {
				delete(c.m, k)
			}
		}
		for k := range c.m {
			if len(c.m) < c.max-c.max/10 {
				break
			}
			delete(c.m, k)
		}
	}
	c.m[tok] = cachedPrincipal{p, until}
}
