package account

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/lectern/lectern/internal/store"
)

// User is Better Auth's user object, fields in the order it emits them;
// the wire sends it and the JWT carries it.
type User struct {
	Name          string  `json:"name"`
	Email         string  `json:"email"`
	EmailVerified bool    `json:"emailVerified"`
	Image         *string `json:"image"`
	CreatedAt     string  `json:"createdAt"`
	UpdatedAt     string  `json:"updatedAt"`
	ID            string  `json:"id"`
}

// UserOf returns u as Better Auth shows it, its times as JavaScript's
// Date.toISOString writes them (UTC, milliseconds).
func UserOf(u store.User) User {
	const js = "2006-01-02T15:04:05.000Z"
	return User{Name: u.Name, Email: u.Email, EmailVerified: u.EmailVerified, Image: u.Image,
		CreatedAt: u.CreatedAt.UTC().Format(js), UpdatedAt: u.UpdatedAt.UTC().Format(js), ID: u.ID}
}

// jwtClaims is the payload Better Auth's jwt plugin signs: the user object
// plus the registered claims, in its order.
type jwtClaims struct {
	IssuedAt int64 `json:"iat"`
	User
	Subject  string `json:"sub"`
	Expires  int64  `json:"exp"`
	Issuer   string `json:"iss"`
	Audience string `json:"aud"`
}

// Token returns a JWT for the session cur, which the caller has just read
// (Session), for the API to verify through the JWKS: the one signed last
// for this session while it has two thirds of its life left and says the
// same of the user (see tokenCache), else a new one.
func (s *Service) Token(ctx context.Context, cur Current) (string, error) {
	now := s.opt.Now()
	u := UserOf(cur.User)
	claims := claimsOf(u)
	kid := s.keys.SigningKeyID(ctx)
	if jwt, ok := s.tokens.get(cur.Session.ID, kid, claims, now, cur.Session.ExpiresAt, s.opt.TokenTTL); ok {
		return jwt, nil
	}
	exp := now.Add(s.opt.TokenTTL)
	payload, err := json.Marshal(jwtClaims{
		IssuedAt: now.Unix(), User: u, Subject: cur.User.ID,
		Expires: exp.Unix(), Issuer: s.opt.Issuer, Audience: s.opt.Audience,
	})
	if err != nil {
		return "", fmt.Errorf("encode claims: %w", err)
	}
	jwt, err := s.keys.Sign(ctx, payload)
	if err != nil {
		return "", err
	}
	if cur.Session.ID != "" {
		s.tokens.put(cur.Session.ID, cachedToken{jwt: jwt, kid: kid, userID: cur.User.ID, claims: claims, signed: now, expires: exp}, now, s.opt.TokenTTL)
	}
	return jwt, nil
}

// JWKS returns the public keys that verify the service's JWTs.
func (s *Service) JWKS(ctx context.Context) ([]byte, error) { return s.keys.JWKS(ctx) }
