package account

import (
	"sync"
	"time"
)

// maxCachedTokens bounds the tokens kept: about 200 bytes each with their
// keys, so at most a few megabytes.
const maxCachedTokens = 20_000

// tokenCache keeps the JWT last signed for each session, so that /token
// and get-session serve it again while it has at least two thirds of its
// life left instead of signing a new one: signing (RSA-2048, about 0.8 ms
// of a core) is the whole cost of those endpoints, and a busy reader's
// pages ask for a token often.
//
// A token is served only to a session the caller has just read from the
// database, so a revoked session gets none, whichever process asks. It is
// served again only while its claims are the user's as read (a profile
// change signs a new one), its key still signs (a rotation signs a new
// one), and it expires before its session does. The service also drops a user's tokens at once when they sign out,
// revoke sessions, change their password or profile, or delete the account.
type tokenCache struct {
	mu        sync.Mutex
	bySession map[string]cachedToken
}

type cachedToken struct {
	jwt     string
	kid     string // the key that signed it
	userID  string
	claims  userClaims
	signed  time.Time
	expires time.Time
}

// userClaims is User made comparable: what a cached token says of its user.
type userClaims struct {
	User
	image    string
	hasImage bool
}

func claimsOf(u User) userClaims {
	c := userClaims{User: u}
	if u.Image != nil {
		c.image, c.hasImage = *u.Image, true
	}
	c.Image = nil
	return c
}

// get returns the token of session sessionID that may be served at now
// with claims, for a session that expires at sessionExpires, when kid is
// the signing key.
func (c *tokenCache) get(sessionID, kid string, claims userClaims, now, sessionExpires time.Time, ttl time.Duration) (string, bool) {
	c.mu.Lock()
	t, ok := c.bySession[sessionID]
	c.mu.Unlock()
	if !ok || t.kid != kid || t.claims != claims || now.Before(t.signed) || now.Sub(t.signed) > ttl/3 || t.expires.After(sessionExpires) {
		return "", false
	}
	return t.jwt, true
}

// put keeps t for sessionID. When the cache is full, the tokens too old to
// be served again go first; if none is, t is not kept.
func (c *tokenCache) put(sessionID string, t cachedToken, now time.Time, ttl time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.bySession == nil {
		c.bySession = map[string]cachedToken{}
	}
	if _, ok := c.bySession[sessionID]; !ok && len(c.bySession) >= maxCachedTokens {
		for id, old := range c.bySession {
			if now.Sub(old.signed) > ttl/3 || now.Before(old.signed) {
				delete(c.bySession, id)
			}
		}
		if len(c.bySession) >= maxCachedTokens {
			return
		}
	}
	c.bySession[sessionID] = t
}

// forgetUser drops every token of userID.
func (c *tokenCache) forgetUser(userID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for id, t := range c.bySession {
		if t.userID == userID {
			delete(c.bySession, id)
		}
	}
}
