package identity

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"

	"github.com/lectern/lectern/internal/account"
	"github.com/lectern/lectern/internal/fault"
	"github.com/lectern/lectern/internal/httpx"
	"github.com/lectern/lectern/internal/store"
)

// maxURLLen bounds a callback URL.
const maxURLLen = 2048

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

// Errors only the wire gives, with Better Auth's codes and messages; the
// account service's own carry theirs (see wireError).
var (
	errUnauthorized    = httpx.Errorf(http.StatusUnauthorized, "UNAUTHORIZED", "Unauthorized")
	errEmailImmutable  = httpx.Errorf(http.StatusBadRequest, "EMAIL_CAN_NOT_BE_UPDATED", "Email can not be updated")
	errInvalidCallback = httpx.Errorf(http.StatusForbidden, "INVALID_CALLBACK_URL", "Invalid callbackURL")
	errBadJSON         = httpx.Errorf(http.StatusBadRequest, "BAD_REQUEST", "Invalid JSON in request body")
	errTooManyRequests = "Too many requests. Please try again later."
)

// wireError turns the account service's errors into Better Auth's
// responses where its status or shape is not what the fault kind alone
// gives: a field error as its validation message, a limit with both of its
// retry headers and no code, and an existing user as 422. The rest go to
// httpx as they are.
func wireError(err error) error {
	var fe *account.FieldError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &fe):
		return validationError(fe.Field, fe.Message)
	case errors.Is(err, account.ErrUserExists):
		return &httpx.Error{Status: http.StatusUnprocessableEntity, Code: account.ErrUserExists.Code, Message: account.ErrUserExists.Message, Err: err}
	}
	if f, ok := fault.As(err); ok && f.Kind == fault.Limited {
		return tooMany(f.RetryAfter)
	}
	return err
}

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
