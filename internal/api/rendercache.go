package api

import (
	"hash/maphash"
	"sync"
)

// renderCache keeps the HTML of recently rendered answers, so reading a
// conversation's history again does not render its Markdown again: on a
// loaded server rendering took a tenth of the CPU, nearly all of it for
// answers already rendered before (docs/benchmarks.md, "Load").
//
// Entries are keyed by message id and checked against a hash of what was
// rendered, so a changed message can never get stale HTML. Memory is
// bounded by two generations of at most renderCacheGen entries: when the
// current one fills up it becomes the old one, and the old one is dropped;
// an entry found in the old generation moves back to the current one.
type renderCache struct {
	seed     maphash.Seed
	mu       sync.Mutex
	cur, old map[string]renderedAnswer
}

type renderedAnswer struct {
	sum  uint64
	html string
}

// renderCacheGen bounds each generation; answers render to a few KiB, so
// the cache holds at most some tens of MiB.
const renderCacheGen = 4096

func newRenderCache() *renderCache {
	return &renderCache{seed: maphash.MakeSeed(), cur: make(map[string]renderedAnswer)}
}

// sum hashes what an answer's HTML is made from.
func (c *renderCache) sum(content string, sources []byte) uint64 {
	var h maphash.Hash
	h.SetSeed(c.seed)
	h.WriteString(content)
	h.WriteByte(0)
	h.Write(sources)
	return h.Sum64()
}

// get returns the HTML kept for message id when it was made from the same
// content and sources.
func (c *renderCache) get(id string, sum uint64) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.cur[id]; ok && e.sum == sum {
		return e.html, true
	}
	if e, ok := c.old[id]; ok && e.sum == sum {
		c.putLocked(id, e)
		return e.html, true
	}
	return "", false
}

// put keeps html as message id's rendering of the content hashed to sum.
func (c *renderCache) put(id string, sum uint64, html string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.putLocked(id, renderedAnswer{sum: sum, html: html})
}

func (c *renderCache) putLocked(id string, e renderedAnswer) {
	if len(c.cur) >= renderCacheGen {
		c.old, c.cur = c.cur, make(map[string]renderedAnswer, renderCacheGen)
	}
	c.cur[id] = e
}
