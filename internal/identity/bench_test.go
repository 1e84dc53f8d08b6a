package identity_test

import (
	"io"
	"net/http"
	"testing"

	"github.com/lectern/lectern/internal/password"
)

// The benchmarks go through real HTTP on loopback against a real store, so
// they measure what a client sees, minus the network.
//
//	go test -run '^$' -bench . -benchmem ./internal/identity/

func BenchmarkEndpoints(b *testing.B) {
	for _, eng := range engines() {
		for _, alg := range []string{"RS256", "EdDSA"} {
			b.Run(eng.Name+"/"+alg, func(b *testing.B) {
				e := newEnv(b, eng.Open(b), envOptions{alg: alg})
				c := e.client()
				c.signUp(uniqueEmail())
				for _, bc := range []struct{ name, path string }{
					{"token", "/api/auth/token"},
					{"get-session", "/api/auth/get-session"},
					{"jwks", "/api/auth/jwks"},
				} {
					b.Run(bc.name, func(b *testing.B) {
						req, _ := http.NewRequest("GET", e.url+bc.path, nil)
						req.Header.Set("Cookie", "better-auth.session_token="+c.cookies["better-auth.session_token"])
						b.ReportAllocs()
						for b.Loop() {
							res, err := http.DefaultClient.Do(req)
							if err != nil {
								b.Fatal(err)
							}
							io.Copy(io.Discard, res.Body)
							res.Body.Close()
							if res.StatusCode != 200 {
								b.Fatalf("status %d", res.StatusCode)
							}
						}
					})
				}
			})
		}
	}
}

// BenchmarkSignIn signs in with the production password parameters
// (argon2id m=19 MiB, t=2, p=1), so it shows the real cost of a sign-in.
func BenchmarkSignIn(b *testing.B) {
	for _, eng := range engines() {
		b.Run(eng.Name, func(b *testing.B) {
			p := password.Default()
			e := newEnv(b, eng.Open(b), envOptions{hash: &p})
			email := uniqueEmail()
			e.client().signUp(email)
			c := e.client()
			b.ReportAllocs()
			for b.Loop() {
				if r := c.signIn(email, pw); r.status != 200 {
					b.Fatalf("status %d", r.status)
				}
			}
		})
	}
}
