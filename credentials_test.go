package copydb

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const (
	testKeyID  = "LTAI5tKeyIdForTests01"
	testSecret = "sEcReT-value/For+Tests=01"
	testToken  = "STS.NToken/with+plus=and%percent"
)

// assertNoSecret fails when s holds a secret of the test credentials, raw or
// percent-encoded, or the full AccessKeyId.
func assertNoSecret(t *testing.T, what, s string, extra ...string) {
	t.Helper()
	for _, secret := range append([]string{testSecret, testToken, testKeyID}, extra...) {
		if secret == "" {
			continue
		}
		for _, form := range []string{secret, PercentEncode(secret), PercentEncode(PercentEncode(secret))} {
			if strings.Contains(s, form) {
				t.Errorf("%s leaks a secret (%q):\n%s", what, form, s)
			}
		}
	}
}

func TestCredentialsRedacted(t *testing.T) {
	t.Parallel()
	c := Credentials{AccessKeyID: testKeyID, AccessKeySecret: testSecret, SecurityToken: testToken}
	p := StaticCredentials(testKeyID, testSecret, testToken)
	client, err := New(WithRegion("cn-hangzhou"), WithCredentials(p))
	if err != nil {
		t.Fatal(err)
	}
	opt := WithAccessKey(testKeyID, testSecret)
	values := []any{c, &c, p, client, opt, struct{ C Credentials }{c}, []Credentials{c}, map[string]any{"p": p}}
	for _, v := range values {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X"} {
			out := fmt.Sprintf(verb, v)
			assertNoSecret(t, fmt.Sprintf("%s of %T", verb, v), out)
		}
	}
	if got := fmt.Sprint(c); got != "{AccessKeyID:LTAI**** AccessKeySecret:[redacted] SecurityToken:[redacted]}" {
		t.Errorf("fmt.Sprint(credentials) = %s", got)
	}
}

func TestMaskAccessKeyID(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"": "", "abc": "abc****", "LTAI5tKey": "LTAI****", "中文中文中": "中文中文****"} {
		if got := MaskAccessKeyID(in); got != want {
			t.Errorf("MaskAccessKeyID(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParseCredentialsINI(t *testing.T) {
	t.Parallel()
	const file = `
# comment
[default]
type = access_key
access_key_id = idA
access_key_secret = "secretA"

[sts]
type = sts
access_key_id = idB
access_key_secret = secretB
security_token = tokB

[ram]
type = ecs_ram_role
[half]
access_key_id = only
`
	tests := []struct {
		profile string
		want    Credentials
		wantErr string
	}{
		{"default", Credentials{"idA", "secretA", ""}, ""},
		{"sts", Credentials{"idB", "secretB", "tokB"}, ""},
		{"ram", Credentials{}, `credential type "ecs_ram_role" is not supported (use access_key or sts)`},
		{"half", Credentials{}, "access_key_id and access_key_secret must both be set"},
		{"missing", Credentials{}, "no such profile"},
	}
	for _, tt := range tests {
		t.Run(tt.profile, func(t *testing.T) {
			t.Parallel()
			got, err := parseCredentialsINI([]byte(file), tt.profile)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// The environment tests cannot run in parallel: t.Setenv forbids it.
func TestDefaultCredentialsSources(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "credentials")
	if err := os.WriteFile(file, []byte("[default]\naccess_key_id = fileid\naccess_key_secret = filesecret\n[other]\naccess_key_id = o\naccess_key_secret = os\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()

	t.Run("environment first", func(t *testing.T) {
		t.Setenv(EnvAccessKeyID, "envid")
		t.Setenv(EnvAccessKeySecret, "envsecret")
		t.Setenv(EnvSecurityToken, "envtok")
		t.Setenv(EnvCredentialsFile, file)
		got, err := DefaultCredentials().Credentials(ctx)
		if err != nil || got != (Credentials{"envid", "envsecret", "envtok"}) {
			t.Errorf("got %v, %v", got, err)
		}
		got, err = EnvCredentials().Credentials(ctx)
		if err != nil || got.AccessKeyID != "envid" {
			t.Errorf("EnvCredentials: got %v, %v", got, err)
		}
	})
	t.Run("then the file and profile", func(t *testing.T) {
		t.Setenv(EnvAccessKeyID, "")
		t.Setenv(EnvAccessKeySecret, "")
		t.Setenv(EnvCredentialsFile, file)
		t.Setenv(EnvProfile, "other")
		got, err := DefaultCredentials().Credentials(ctx)
		if err != nil || got != (Credentials{"o", "os", ""}) {
			t.Errorf("got %v, %v", got, err)
		}
	})
	t.Run("nothing found names what was looked at", func(t *testing.T) {
		t.Setenv(EnvAccessKeyID, "")
		t.Setenv(EnvAccessKeySecret, "")
		t.Setenv(EnvCredentialsFile, filepath.Join(dir, "absent"))
		_, err := DefaultCredentials().Credentials(ctx)
		if !errors.Is(err, ErrInvalidCredentials) {
			t.Fatalf("err = %v, want ErrInvalidCredentials", err)
		}
		for _, want := range []string{EnvAccessKeyID, EnvAccessKeySecret, filepath.Join(dir, "absent"), "does not exist"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not mention %q", err, want)
			}
		}
		_, err = EnvCredentials().Credentials(ctx)
		if !errors.Is(err, ErrInvalidCredentials) {
			t.Errorf("EnvCredentials err = %v", err)
		}
	})
	t.Run("half set environment is an error, not a fallback", func(t *testing.T) {
		t.Setenv(EnvAccessKeyID, "envid")
		t.Setenv(EnvAccessKeySecret, "")
		_, err := DefaultCredentials().Credentials(ctx)
		if !errors.Is(err, ErrInvalidRequest) || !strings.Contains(err.Error(), "AccessKeySecret") {
			t.Errorf("err = %v", err)
		}
	})
}
