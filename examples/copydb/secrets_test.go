package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rdskit/copydb"
	"github.com/rdskit/copydb/copydbtest"
)

// TestNoSecretInOutput runs the command with STS credentials from the
// environment, -v included, and checks that neither the secret, the token,
// the full AccessKeyId nor a signature reaches stdout or stderr.
func TestNoSecretInOutput(t *testing.T) {
	const (
		id     = "STS.NUgYrLnoTestAccessKeyId42"
		secret = "s3cr3t-Value-9f8e7d6c5b4a"
		token  = "CAIS-security-token-0123456789abcdef"
	)
	t.Setenv(copydb.EnvAccessKeyID, id)
	t.Setenv(copydb.EnvAccessKeySecret, secret)
	t.Setenv(copydb.EnvSecurityToken, token)
	t.Setenv(copydb.EnvCredentialsFile, filepath.Join(t.TempDir(), "none"))
	copyAction := copydb.ActionCopyDatabaseBetweenInstances
	tests := []struct {
		name  string
		args  []string
		fault *copydbtest.Fault
		want  int
	}{
		{name: "copy", args: realArgs("-db", "sales", "-v"), want: exitOK},
		{name: "json", args: realArgs("-db", "sales", "-v", "-json"), want: exitOK},
		{name: "dry run", args: realArgs("-db", "sales", "-v", "-dry-run"), want: exitOK},
		{name: "violation", args: realArgs("-db", "sales:crm", "-v"), want: exitViolations},
		{name: "refused", args: realArgs("-db", "sales", "-v"), want: exitFailed,
			fault: &copydbtest.Fault{Action: copyAction, Status: 403, Code: "IncorrectDBInstanceState"}},
		{name: "unknown", args: realArgs("-db", "sales", "-v", "-skip-preflight"), want: exitUnknown,
			fault: &copydbtest.Fault{Action: copyAction, Code: "InternalError"}},
		{name: "proxy page", args: realArgs("-db", "sales", "-v", "-json"), want: exitFailed,
			fault: &copydbtest.Fault{HTML: true, Times: 10}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClock()
			f := newTestFake(c, copydbtest.WithCredentials(id, secret, token))
			if tt.fault != nil {
				f.InjectFault(*tt.fault)
			}
			e := realEnv(c, f)
			e.creds = nil // copydb.DefaultCredentials: the environment
			o := runTest(t, context.Background(), e, tt.args...)
			if o.code != tt.want {
				t.Errorf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", o.code, tt.want, o.stdout, o.stderr)
			}
			if !strings.Contains(o.stderr, "level=DEBUG") {
				t.Errorf("-v logged nothing at debug level:\n%s", o.stderr)
			}
			checkNoSecret(t, o, secret, token, id, "Signature=", `"Signature"`)
		})
	}
	t.Run("demo", func(t *testing.T) {
		o := runTest(t, context.Background(), demoEnv(newClock()), "-v", "-json")
		if o.code != exitOK {
			t.Errorf("exit code %d\n%s", o.code, o.stderr)
		}
		checkNoSecret(t, o, copydbtest.AccessKeySecret, copydbtest.AccessKeyID, "Signature=")
	})
}

func checkNoSecret(t *testing.T, o outcome, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		for name, out := range map[string]string{"stdout": o.stdout, "stderr": o.stderr} {
			if strings.Contains(out, s) {
				t.Errorf("%s holds %q:\n%s", name, s, out)
			}
		}
	}
}

// TestMissingCredentials checks that the message names what was looked at.
func TestMissingCredentials(t *testing.T) {
	file := filepath.Join(t.TempDir(), "credentials")
	t.Setenv(copydb.EnvAccessKeyID, "")
	t.Setenv(copydb.EnvAccessKeySecret, "")
	t.Setenv(copydb.EnvSecurityToken, "")
	t.Setenv(copydb.EnvCredentialsFile, file)
	c := newClock()
	e := realEnv(c, newTestFake(c))
	e.creds = nil
	o := runTest(t, context.Background(), e, realArgs("-db", "sales")...)
	if o.code != exitUsage {
		t.Errorf("exit code %d, want %d", o.code, exitUsage)
	}
	for _, s := range []string{copydb.EnvAccessKeyID, copydb.EnvAccessKeySecret, file} {
		if !strings.Contains(o.stderr, s) {
			t.Errorf("stderr does not name %s:\n%s", s, o.stderr)
		}
	}
	t.Log(o.stderr)
}
