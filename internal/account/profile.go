package account

import (
	"context"
	"fmt"
)

// ChangePassword sets a new password after checking the current one. With
// revokeOthers every session ends and a new one is opened in place of the
// current, which it returns.
func (s *Service) ChangePassword(ctx context.Context, cur Current, currentPw, newPw string, revokeOthers bool, c Client) (*Current, error) {
	if err := CheckPassword(newPw); err != nil {
		return nil, err
	}
	if err := s.confirmPassword(ctx, cur, currentPw, c); err != nil {
		return nil, err
	}
	hash, err := s.hasher.Hash(ctx, newPw)
	if err != nil {
		return nil, fmt.Errorf("change password: hash: %w", err)
	}
	s.tokens.forgetUser(cur.User.ID)
	if err := s.store.SetPassword(ctx, cur.User.ID, hash, s.opt.Now()); err != nil {
		return nil, fmt.Errorf("change password: %w", err)
	}
	s.opt.Log(ctx).Info("password changed", "user_id", cur.User.ID)
	if !revokeOthers {
		return nil, nil
	}
	if err := s.store.DeleteSessions(ctx, cur.User.ID, ""); err != nil {
		return nil, fmt.Errorf("change password: revoke sessions: %w", err)
	}
	next, err := s.open(ctx, cur.User, cur.Session.DontRemember, c)
	if err != nil {
		return nil, err
	}
	return &next, nil
}

// Profile is a change to a user's profile; nil fields stay as they are.
type Profile struct {
	Name *string
	// Image, when SetImage, replaces the image; nil or "" removes it.
	SetImage bool
	Image    *string
}

// UpdateProfile changes the user's name or image. The email and the role
// cannot be changed here.
func (s *Service) UpdateProfile(ctx context.Context, cur Current, p Profile) error {
	u := cur.User
	name, image := u.Name, u.Image
	if p.Name != nil {
		name = *p.Name
	}
	if p.SetImage {
		image = p.Image
	}
	name, image, err := checkProfile(name, image)
	if err != nil {
		return err
	}
	u.Name, u.Image, u.UpdatedAt = name, image, s.opt.Now()
	s.tokens.forgetUser(u.ID)
	if err := s.store.UpdateUser(ctx, u); err != nil {
		return fmt.Errorf("update user: %w", err)
	}
	return nil
}

// DeleteUser deletes the account and everything it owns. It takes the
// password, or without one a session opened within the last day.
func (s *Service) DeleteUser(ctx context.Context, cur Current, pw *string, c Client) error {
	switch {
	case pw != nil:
		if err := s.confirmPassword(ctx, cur, *pw, c); err != nil {
			return err
		}
	case s.opt.Now().Sub(cur.Session.CreatedAt) > sessionFreshAge:
		return ErrSessionNotFresh
	}
	s.tokens.forgetUser(cur.User.ID)
	if err := s.store.DeleteUser(ctx, cur.User.ID); err != nil {
		return fmt.Errorf("delete user: %w", err)
	}
	s.opt.Log(ctx).Info("user deleted", "user_id", cur.User.ID)
	return nil
}
