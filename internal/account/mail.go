package account

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/lectern/lectern/internal/randid"
	"github.com/lectern/lectern/internal/store"
)

// RequestPasswordReset mails a single-use reset link to the address if it
// has an account. Whether it has one is not told, by the result or by its
// timing: past the checks of the address and its mail limit, the work
// (looking the address up, storing a token, sending) is done after the
// caller has its answer.
func (s *Service) RequestPasswordReset(ctx context.Context, email, redirectTo string) error {
	email, err := s.mailable(ctx, email, "reset|", ScopePasswordReset)
	if err != nil {
		return err
	}
	s.background(ctx, "password reset", func(ctx context.Context) error {
		u, err := s.store.UserByEmail(ctx, email)
		switch {
		case errors.Is(err, store.ErrNotFound):
			s.opt.Log(ctx).Info("password reset requested for an unknown address")
			return nil
		case err != nil:
			return fmt.Errorf("look up user: %w", err)
		}
		return s.sendReset(ctx, u, redirectTo)
	})
	return nil
}

// mailable checks an address that mail is asked for and applies the
// per-address mail limit, and returns the address normalized.
func (s *Service) mailable(ctx context.Context, email, limitKey, scope string) (string, error) {
	email, ok := NormalizeEmail(email)
	if !ok {
		return "", &FieldError{"email", "Invalid email address"}
	}
	if s.opt.LimitsOn {
		if ok, retry := s.limiter.Allow(ctx, mailRule, limitKey+email); !ok {
			return "", s.limited(scope, retry)
		}
	}
	return email, nil
}

// background does work for a request after its answer, on a context that
// outlives it for up to 30 seconds; Wait waits for it. Failures are logged.
func (s *Service) background(ctx context.Context, what string, work func(context.Context) error) {
	log := s.opt.Log(ctx)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		if err := work(ctx); err != nil {
			log.Error(what+" failed", "err", err)
		}
	}()
}

func (s *Service) sendReset(ctx context.Context, u store.User, redirectTo string) error {
	if err := s.store.DeleteVerifications(ctx, resetPrefix, u.ID); err != nil {
		return fmt.Errorf("password reset: drop older tokens: %w", err)
	}
	token, err := s.newVerification(ctx, resetPrefix, u.ID, resetTokenTTL)
	if err != nil {
		return fmt.Errorf("password reset: %w", err)
	}
	s.deliver(ctx, u.Email, "Reset your Lectern password",
		"Hello,\n\nSomeone asked to reset the password of your Lectern account. If it was you, open this link within an hour:\n\n"+
			s.opt.ResetLink(token, redirectTo)+"\n\nIf it was not you, ignore this message; your password stays as it is.\n",
		"password reset link")
	return nil
}

// newVerification stores a single-use token for userID under prefix and
// returns it.
func (s *Service) newVerification(ctx context.Context, prefix, userID string, ttl time.Duration) (string, error) {
	token := randid.New()
	now := s.opt.Now()
	if err := s.store.CreateVerification(ctx, store.Verification{ID: randid.New(), Identifier: verificationID(prefix, token),
		Value: userID, ExpiresAt: now.Add(ttl), CreatedAt: now}); err != nil {
		return "", fmt.Errorf("store token: %w", err)
	}
	return token, nil
}

// ResetPassword sets a new password with a reset token, which it uses up,
// and signs the user out everywhere.
func (s *Service) ResetPassword(ctx context.Context, token, newPw string) error {
	if token == "" {
		return ErrInvalidToken
	}
	if err := CheckPassword(newPw); err != nil {
		return err
	}
	// Hash first, so a failure here cannot burn the single-use token.
	hash, err := s.hasher.Hash(ctx, newPw)
	if err != nil {
		return fmt.Errorf("reset password: hash: %w", err)
	}
	now := s.opt.Now()
	v, err := s.store.ConsumeVerification(ctx, verificationID(resetPrefix, token), now)
	if errors.Is(err, store.ErrNotFound) {
		return ErrInvalidToken
	}
	if err != nil {
		return fmt.Errorf("reset password: consume token: %w", err)
	}
	if err := s.store.SetPassword(ctx, v.Value, hash, now); errors.Is(err, store.ErrNotFound) {
		return ErrInvalidToken
	} else if err != nil {
		return fmt.Errorf("reset password: %w", err)
	}
	// Whoever knew the old password is signed out everywhere.
	s.tokens.forgetUser(v.Value)
	if err := s.store.DeleteSessions(ctx, v.Value, ""); err != nil {
		return fmt.Errorf("reset password: revoke sessions: %w", err)
	}
	if u, err := s.store.UserByID(ctx, v.Value); err == nil {
		s.limiter.Reset(ctx, "sign-in|"+u.Email) // the account-wide count; per-address ones expire
	}
	s.opt.Log(ctx).Info("password reset", "user_id", v.Value)
	return nil
}

// SendVerification mails a verification link to the address if it has an
// account that is not verified yet; the result and its timing are the same
// either way (see RequestPasswordReset).
func (s *Service) SendVerification(ctx context.Context, email, callbackURL string) error {
	email, err := s.mailable(ctx, email, "verify|", ScopeVerificationEmail)
	if err != nil {
		return err
	}
	s.background(ctx, "verification mail", func(ctx context.Context) error {
		u, err := s.store.UserByEmail(ctx, email)
		switch {
		case errors.Is(err, store.ErrNotFound):
			return nil
		case err != nil:
			return fmt.Errorf("look up user: %w", err)
		}
		if !u.EmailVerified {
			s.sendVerification(ctx, u, callbackURL)
		}
		return nil
	})
	return nil
}

func (s *Service) sendVerification(ctx context.Context, u store.User, callbackURL string) {
	token, err := s.newVerification(ctx, verifyPrefix, u.ID, verifyTokenTTL)
	if err != nil {
		s.opt.Log(ctx).Error("verification mail", "err", err)
		return
	}
	s.deliver(ctx, u.Email, "Confirm your email address for Lectern",
		"Hello,\n\nPlease confirm your email address by opening this link within a day:\n\n"+s.opt.VerifyLink(token, callbackURL)+"\n",
		"email verification link")
}

// VerifyEmail marks the address of the token's user verified, using the
// token up; ErrInvalidToken when it is unknown, used or expired.
func (s *Service) VerifyEmail(ctx context.Context, token string) error {
	v, err := s.store.ConsumeVerification(ctx, verificationID(verifyPrefix, token), s.opt.Now())
	if errors.Is(err, store.ErrNotFound) {
		return ErrInvalidToken
	}
	if err != nil {
		return fmt.Errorf("verify email: %w", err)
	}
	u, err := s.store.UserByID(ctx, v.Value)
	if errors.Is(err, store.ErrNotFound) {
		return ErrInvalidToken
	}
	if err != nil {
		return fmt.Errorf("verify email: %w", err)
	}
	u.EmailVerified, u.UpdatedAt = true, s.opt.Now()
	s.tokens.forgetUser(u.ID)
	if err := s.store.UpdateUser(ctx, u); err != nil {
		return fmt.Errorf("verify email: %w", err)
	}
	s.opt.Log(ctx).Info("email verified", "user_id", u.ID)
	return nil
}

// Mail never carries what a user wrote (their name): anyone can sign up
// with someone else's address, and a name such as "Eve\nClick
// https://evil.example" would put the attacker's words and links in a
// message from Lectern.

// deliver sends mail in the background, so that the answer (and its
// timing) is the same whether or not a message went out.
func (s *Service) deliver(ctx context.Context, to, subject, body, what string) {
	s.background(ctx, "send "+what, func(ctx context.Context) error {
		return s.mail.Send(ctx, to, subject, body)
	})
}
