package api

import (
	"fmt"
	"testing"
)

func TestRenderCache(t *testing.T) {
	c := newRenderCache()
	sum := c.sum("It says [1].", []byte(`[{"url":"/docs/a#b"}]`))
	if _, ok := c.get("m1", sum); ok {
		t.Fatal("hit in an empty cache")
	}
	c.put("m1", sum, "<p>It says</p>")
	if h, ok := c.get("m1", sum); !ok || h != "<p>It says</p>" {
		t.Fatalf("get = %q, %v", h, ok)
	}

	t.Run("a change of content or sources misses", func(t *testing.T) {
		for _, other := range []uint64{
			c.sum("It says [2].", []byte(`[{"url":"/docs/a#b"}]`)),
			c.sum("It says [1].", []byte(`[{"url":"/docs/a#c"}]`)),
			c.sum("It says [1].[", []byte(`{"url":"/docs/a#b"}]`)), // the same bytes, split elsewhere
		} {
			if _, ok := c.get("m1", other); ok {
				t.Errorf("sum %x hit the entry made for %x", other, sum)
			}
		}
	})

	t.Run("bounded, and recently read entries survive", func(t *testing.T) {
		c := newRenderCache()
		c.put("kept", 1, "k")
		for i := range 3 * renderCacheGen {
			c.put(fmt.Sprint(i), 2, "x")
			if i%(renderCacheGen/2) == 0 {
				if _, ok := c.get("kept", 1); !ok {
					t.Fatalf("a regularly read entry was dropped after %d puts", i)
				}
			}
		}
		if n := len(c.cur) + len(c.old); n > 2*renderCacheGen {
			t.Errorf("cache holds %d entries, more than two generations", n)
		}
		if _, ok := c.get("0", 2); ok {
			t.Error("the oldest unread entry is still there")
		}
	})
}
