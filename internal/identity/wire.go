package identity

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/mail"
	"net/url"
	"reflect"
	"strings"
	"unicode/utf8"

	"github.com/lectern/lectern/internal/httpx"
	"github.com/lectern/lectern/internal/store"
)

// Limits on client input. Better Auth's own: passwords 8..128 characters.
const (
	minPasswordLen = 8
	maxPasswordLen = 128
	maxNameLen     = 256
	maxEmailLen    = 254 // RFC 5321 path limit
	maxURLLen      = 2048
	maxBodyBytes   = 64 << 10
)

// userJSON is Better Auth's user object, fields in the order it emits them.
type userJSON struct {
	Name          string     `json:"name"`
	Email         string     `json:"email"`
	EmailVerified bool       `json:"emailVerified"`
	Image         *string    `json:"image"`
	CreatedAt     httpx.Time `json:"createdAt"`
	UpdatedAt     httpx.Time `json:"updatedAt"`
	ID            string     `json:"id"`
}

func toUserJSON(u store.User) userJSON {
	return userJSON{Name: u.Name, Email: u.Email, EmailVerified: u.EmailVerified, Image: u.Image,
		CreatedAt: httpx.Time(u.CreatedAt), UpdatedAt: httpx.Time(u.UpdatedAt), ID: u.ID}
}

// sessionJSON is Better Auth's session object. Token is the raw session token
// for the caller's own session. Lectern keeps only token hashes, so for the
// caller's other sessions (list-sessions) it carries the session id instead,
// which revoke-session accepts in its place.
type sessionJSON struct {
	ExpiresAt httpx.Time `json:"expiresAt"`
	Token     string     `json:"token"`
	CreatedAt httpx.Time `json:"createdAt"`
	UpdatedAt httpx.Time `json:"updatedAt"`
	IPAddress string     `json:"ipAddress"`
	UserAgent string     `json:"userAgent"`
	UserID    string     `json:"userId"`
	ID        string     `json:"id"`
}

func toSessionJSON(s store.Session, token string) sessionJSON {
	return sessionJSON{ExpiresAt: httpx.Time(s.ExpiresAt), Token: token, CreatedAt: httpx.Time(s.CreatedAt),
		UpdatedAt: httpx.Time(s.UpdatedAt), IPAddress: s.IPAddress, UserAgent: s.UserAgent, UserID: s.UserID, ID: s.ID}
}

// Errors with Better Auth's codes and messages.
var (
	errInvalidCredentials = httpx.Errorf(http.StatusUnauthorized, "INVALID_EMAIL_OR_PASSWORD", "Invalid email or password")
	errUnauthorized       = httpx.Errorf(http.StatusUnauthorized, "UNAUTHORIZED", "Unauthorized")
	errUserExists         = httpx.Errorf(http.StatusUnprocessableEntity, "USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL", "User already exists. Use another email.")
	errPasswordShort      = httpx.Errorf(http.StatusBadRequest, "PASSWORD_TOO_SHORT", "Password too short")
	errPasswordLong       = httpx.Errorf(http.StatusBadRequest, "PASSWORD_TOO_LONG", "Password too long")
	errInvalidPassword    = httpx.Errorf(http.StatusBadRequest, "INVALID_PASSWORD", "Invalid password")
	errInvalidEmail       = httpx.Errorf(http.StatusBadRequest, "INVALID_EMAIL", "Invalid email")
	errEmailImmutable     = httpx.Errorf(http.StatusBadRequest, "EMAIL_CAN_NOT_BE_UPDATED", "Email can not be updated")
	errInvalidToken       = httpx.Errorf(http.StatusBadRequest, "INVALID_TOKEN", "Invalid token")
	errInvalidCallback    = httpx.Errorf(http.StatusForbidden, "INVALID_CALLBACK_URL", "Invalid callbackURL")
	errBadJSON            = httpx.Errorf(http.StatusBadRequest, "BAD_REQUEST", "Invalid JSON in request body")
	errTooManyRequests    = "Too many requests. Please try again later."
)

func validationError(field, msg string) *httpx.Error {
	return httpx.Errorf(http.StatusBadRequest, "VALIDATION_ERROR", fmt.Sprintf("[body.%s] %s", field, msg))
}

// decode reads a JSON (or, where form is true, urlencoded form) body into dst.
// Unknown fields are ignored, as Better Auth ignores them. An empty body is an
// empty object.
func decode(r *http.Request, dst any, form bool) error {
	ct := r.Header.Get("Content-Type")
	mt := ""
	if ct != "" {
		var err error
		if mt, _, err = mime.ParseMediaType(ct); err != nil {
			mt = ct
		}
	}
	switch {
	case mt == "application/json" || (mt == "" && r.ContentLength <= 0):
		dec := json.NewDecoder(r.Body)
		err := dec.Decode(dst)
		var te *json.UnmarshalTypeError
		var mbe *http.MaxBytesError
		switch {
		case err == nil, errors.Is(err, io.EOF): // an empty body is an empty object
			return nil
		case errors.As(err, &mbe):
			return err
		case errors.As(err, &te):
			return typeError(te)
		default:
			return errBadJSON
		}
	case form && mt == "application/x-www-form-urlencoded":
		if err := r.ParseForm(); err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				return err
			}
			return errBadJSON
		}
		m := map[string]any{}
		for k, v := range r.PostForm {
			if len(v) > 0 {
				m[k] = v[0]
				if k == "rememberMe" {
					m[k] = v[0] != "false"
				}
			}
		}
		b, _ := json.Marshal(m)
		if err := json.Unmarshal(b, dst); err != nil {
			return errBadJSON
		}
		return nil
	default:
		allowed := "application/json"
		if form {
			allowed = "application/x-www-form-urlencoded, application/json"
		}
		return httpx.Errorf(http.StatusUnsupportedMediaType, "UNSUPPORTED_MEDIA_TYPE",
			fmt.Sprintf("Content-Type %q is not allowed. Allowed types: %s", mt, allowed))
	}
}

// typeError describes a JSON value of the wrong type as Better Auth's
// validator does: "[body.email] Invalid input: expected string, received number".
func typeError(te *json.UnmarshalTypeError) error {
	typ := te.Type
	for typ.Kind() == reflect.Pointer {
		typ = typ.Elem()
	}
	want := map[reflect.Kind]string{reflect.String: "string", reflect.Bool: "boolean", reflect.Map: "object", reflect.Struct: "object"}[typ.Kind()]
	if want == "" {
		want = typ.Kind().String()
	}
	msg := fmt.Sprintf("Invalid input: expected %s, received %s", want, te.Value)
	if te.Field == "" {
		return httpx.Errorf(http.StatusBadRequest, "VALIDATION_ERROR", "[body] "+msg)
	}
	return validationError(te.Field, msg)
}

// normalizeEmail lower-cases and checks an address the way Better Auth
// does (a plain addr-spec, no display name).
func normalizeEmail(s string) (string, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" || len(s) > maxEmailLen {
		return "", false
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" || !strings.Contains(s[strings.LastIndexByte(s, '@'):], ".") {
		return "", false
	}
	return s, true
}

// checkPassword applies Better Auth's length rules, in characters.
func checkPassword(pw string) error {
	n := utf8.RuneCountInString(pw)
	switch {
	case n < minPasswordLen:
		return errPasswordShort
	case n > maxPasswordLen:
		return errPasswordLong
	}
	return nil
}

func validImage(s string) bool {
	if len(s) > maxURLLen {
		return false
	}
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != ""
}
