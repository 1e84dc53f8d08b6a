package account

import (
	"context"
	"errors"
	"fmt"

	"github.com/lectern/lectern/internal/store"
)

// Session returns the live session whose token this is, or ErrNoSession.
// An expired session is deleted on the way.
func (s *Service) Session(ctx context.Context, token string) (Current, error) {
	sess, err := s.store.SessionByTokenHash(ctx, hashToken(token))
	if errors.Is(err, store.ErrNotFound) {
		return Current{}, ErrNoSession
	}
	if err != nil {
		return Current{}, fmt.Errorf("look up session: %w", err)
	}
	if !s.opt.Now().Before(sess.ExpiresAt) {
		if err := s.store.DeleteSession(ctx, sess.UserID, sess.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
			s.opt.Log(ctx).Warn("delete expired session", "err", err)
		}
		return Current{}, ErrNoSession
	}
	u, err := s.store.UserByID(ctx, sess.UserID)
	if errors.Is(err, store.ErrNotFound) {
		return Current{}, ErrNoSession
	}
	if err != nil {
		return Current{}, fmt.Errorf("look up session user: %w", err)
	}
	return Current{Token: token, Session: sess, User: u}, nil
}

// Refresh slides a remembered session forward by SessionTTL once it is
// SessionUpdateAge old, and reports whether it did.
func (s *Service) Refresh(ctx context.Context, cur *Current) (bool, error) {
	now := s.opt.Now()
	if cur.Session.DontRemember || now.Before(cur.Session.ExpiresAt.Add(-SessionTTL+SessionUpdateAge)) {
		return false, nil
	}
	exp := now.Add(SessionTTL)
	if err := s.store.ExtendSession(ctx, cur.Session.ID, exp, now); err != nil {
		return false, fmt.Errorf("refresh session: %w", err)
	}
	cur.Session.ExpiresAt, cur.Session.UpdatedAt = exp, now
	return true, nil
}

// SignOut ends the session.
func (s *Service) SignOut(ctx context.Context, cur Current) error {
	s.tokens.forgetUser(cur.User.ID)
	if err := s.store.DeleteSession(ctx, cur.User.ID, cur.Session.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("sign-out: %w", err)
	}
	return nil
}

// Sessions lists the user's live sessions.
func (s *Service) Sessions(ctx context.Context, cur Current) ([]store.Session, error) {
	list, err := s.store.ListSessions(ctx, cur.User.ID, s.opt.Now())
	if err != nil {
		return nil, fmt.Errorf("list sessions: %w", err)
	}
	return list, nil
}

// RevokeSession ends one of the user's sessions, named by its token or by
// its id, and reports whether it was the current one. Another user's
// session is left alone, as if it did not exist.
func (s *Service) RevokeSession(ctx context.Context, cur Current, handle string) (bool, error) {
	id := handle
	if sess, err := s.store.SessionByTokenHash(ctx, hashToken(handle)); err == nil {
		id = sess.ID
	}
	s.tokens.forgetUser(cur.User.ID)
	if err := s.store.DeleteSession(ctx, cur.User.ID, id); err != nil && !errors.Is(err, store.ErrNotFound) {
		return false, fmt.Errorf("revoke session: %w", err)
	}
	return id == cur.Session.ID, nil
}

// RevokeSessions ends every session of the user, or every other one.
func (s *Service) RevokeSessions(ctx context.Context, cur Current, keepCurrent bool) error {
	except := ""
	if keepCurrent {
		except = cur.Session.ID
	}
	s.tokens.forgetUser(cur.User.ID)
	if err := s.store.DeleteSessions(ctx, cur.User.ID, except); err != nil {
		return fmt.Errorf("revoke sessions: %w", err)
	}
	return nil
}
