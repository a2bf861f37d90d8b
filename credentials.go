package copydb

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// Environment variables read by [EnvCredentials] and [DefaultCredentials],
// as every Alibaba Cloud tool reads them.
const (
	EnvAccessKeyID     = "ALIBABA_CLOUD_ACCESS_KEY_ID"
	EnvAccessKeySecret = "ALIBABA_CLOUD_ACCESS_KEY_SECRET"
	EnvSecurityToken   = "ALIBABA_CLOUD_SECURITY_TOKEN"
	EnvCredentialsFile = "ALIBABA_CLOUD_CREDENTIALS_FILE"
	EnvProfile         = "ALIBABA_CLOUD_PROFILE"
	EnvRegionID        = "ALIBABA_CLOUD_REGION_ID"
)

// Credentials are what a request is signed with. SecurityToken is set only
// for STS (temporary) credentials.
//
// Credentials print themselves redacted under every fmt verb (%v, %+v, %#v,
// %s, %q): the AccessKeyId cut to its first 4 characters, the secret and the
// token replaced by a marker.
type Credentials struct {
	AccessKeyID     string
	AccessKeySecret string
	SecurityToken   string
}

// Format implements [fmt.Formatter] so that no verb prints a secret.
func (c Credentials) Format(f fmt.State, verb rune) {
	tok := ""
	if c.SecurityToken != "" {
		tok = redacted
	}
	sec := ""
	if c.AccessKeySecret != "" {
		sec = redacted
	}
	if verb == 'v' && f.Flag('#') {
		fmt.Fprintf(f, "copydb.Credentials{AccessKeyID:%q, AccessKeySecret:%q, SecurityToken:%q}",
			MaskAccessKeyID(c.AccessKeyID), sec, tok)
		return
	}
	fmt.Fprintf(f, "{AccessKeyID:%s AccessKeySecret:%s SecurityToken:%s}",
		MaskAccessKeyID(c.AccessKeyID), sec, tok)
}

// String returns the redacted form.
func (c Credentials) String() string { return fmt.Sprint(c) }

const redacted = "[redacted]"

// MaskAccessKeyID returns the first 4 characters of id followed by "****",
// the most of an AccessKeyId that copydb ever prints.
func MaskAccessKeyID(id string) string {
	if id == "" {
		return ""
	}
	r := []rune(id)
	if len(r) > 4 {
		r = r[:4]
	}
	return string(r) + "****"
}

// validate reports which part of c is missing.
func (c Credentials) validate() error {
	var errs []error
	if strings.TrimSpace(c.AccessKeyID) == "" {
		errs = append(errs, &ValidationError{Field: "AccessKeyId", Reason: "no credentials: the AccessKeyId is empty", Err: ErrInvalidCredentials})
	}
	if c.AccessKeySecret == "" {
		errs = append(errs, &ValidationError{Field: "AccessKeySecret", Reason: "no credentials: the AccessKeySecret is empty", Err: ErrInvalidCredentials})
	}
	return errors.Join(errs...)
}

// CredentialsProvider supplies the credentials for each call. Implementations
// must be safe for concurrent use; a provider of temporary credentials
// refreshes them itself.
type CredentialsProvider interface {
	Credentials(ctx context.Context) (Credentials, error)
}

// CredentialsProviderFunc adapts a function to [CredentialsProvider].
type CredentialsProviderFunc func(ctx context.Context) (Credentials, error)

// Credentials calls f(ctx).
func (f CredentialsProviderFunc) Credentials(ctx context.Context) (Credentials, error) { return f(ctx) }

// staticProvider returns the same credentials every time.
type staticProvider struct{ c Credentials }

// StaticCredentials returns a provider of fixed credentials; securityToken
// may be empty. The provider prints redacted.
func StaticCredentials(id, secret, securityToken string) CredentialsProvider {
	return staticProvider{Credentials{AccessKeyID: id, AccessKeySecret: secret, SecurityToken: securityToken}}
}

func (p staticProvider) Credentials(context.Context) (Credentials, error) { return p.c, nil }

// Format prints the provider with its credentials redacted.
func (p staticProvider) Format(f fmt.State, verb rune) {
	fmt.Fprintf(f, "copydb.StaticCredentials(%v)", p.c)
}

// envProvider reads the environment at every call.
type envProvider struct{}

// EnvCredentials returns a provider that reads ALIBABA_CLOUD_ACCESS_KEY_ID,
// ALIBABA_CLOUD_ACCESS_KEY_SECRET and, if set, ALIBABA_CLOUD_SECURITY_TOKEN at
// each call. It fails, matching [ErrInvalidCredentials], when the first two
// are not both set.
func EnvCredentials() CredentialsProvider { return envProvider{} }

func (envProvider) Credentials(context.Context) (Credentials, error) {
	c, found := envCredentials()
	if !found {
		return Credentials{}, fmt.Errorf("%w: %s and %s are not set", ErrInvalidCredentials, EnvAccessKeyID, EnvAccessKeySecret)
	}
	return c, c.validate()
}

func (envProvider) Format(f fmt.State, verb rune) { io.WriteString(f, "copydb.EnvCredentials()") }

func envCredentials() (Credentials, bool) {
	c := Credentials{
		AccessKeyID:     os.Getenv(EnvAccessKeyID),
		AccessKeySecret: os.Getenv(EnvAccessKeySecret),
		SecurityToken:   os.Getenv(EnvSecurityToken),
	}
	return c, c.AccessKeyID != "" || c.AccessKeySecret != ""
}

// defaultProvider tries the environment, then the credentials file.
type defaultProvider struct{}

// DefaultCredentials returns the provider used when no credentials option is
// given: the environment as [EnvCredentials] reads it, then the INI file named
// by ALIBABA_CLOUD_CREDENTIALS_FILE or ~/.alibabacloud/credentials, profile
// ALIBABA_CLOUD_PROFILE or "default", with type = access_key (access_key_id,
// access_key_secret) or type = sts (also security_token). When nothing is
// found its error, matching [ErrInvalidCredentials], names every variable and
// file it looked at.
func DefaultCredentials() CredentialsProvider { return defaultProvider{} }

func (defaultProvider) Format(f fmt.State, verb rune) {
	io.WriteString(f, "copydb.DefaultCredentials()")
}

func (defaultProvider) Credentials(ctx context.Context) (Credentials, error) {
	if c, found := envCredentials(); found {
		if err := c.validate(); err != nil {
			return Credentials{}, fmt.Errorf("from environment variables %s and %s: %w", EnvAccessKeyID, EnvAccessKeySecret, err)
		}
		return c, nil
	}
	path, how := credentialsFilePath()
	profile := os.Getenv(EnvProfile)
	if profile == "" {
		profile = "default"
	}
	looked := fmt.Sprintf("looked at environment variables %s, %s and the credentials file %s (%s)",
		EnvAccessKeyID, EnvAccessKeySecret, path, how)
	if path == "" {
		return Credentials{}, fmt.Errorf("%w: no credentials found: %s", ErrInvalidCredentials, looked)
	}
	data, err := readBounded(path, 1<<20)
	if errors.Is(err, os.ErrNotExist) {
		return Credentials{}, fmt.Errorf("%w: no credentials found: %s: the file does not exist", ErrInvalidCredentials, looked)
	}
	if err != nil {
		return Credentials{}, fmt.Errorf("%w: %s: %w", ErrInvalidCredentials, looked, err)
	}
	c, err := parseCredentialsINI(data, profile)
	if err != nil {
		return Credentials{}, fmt.Errorf("%w: credentials file %s, profile [%s]: %w", ErrInvalidCredentials, path, profile, err)
	}
	return c, nil
}

// credentialsFilePath returns the credentials file to read and how it was
// chosen.
func credentialsFilePath() (path, how string) {
	if p := os.Getenv(EnvCredentialsFile); p != "" {
		return p, "from " + EnvCredentialsFile
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", "no home directory: " + err.Error()
	}
	return filepath.Join(home, ".alibabacloud", "credentials"), "the default location"
}

// readBounded reads at most limit bytes of a file.
func readBounded(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("file larger than %d bytes", limit)
	}
	return data, nil
}

// parseCredentialsINI reads one profile of an Alibaba Cloud credentials file.
// Values never appear in its errors.
func parseCredentialsINI(data []byte, profile string) (Credentials, error) {
	sc := bufio.NewScanner(bytes.NewReader(data))
	section, found := "", false
	kv := map[string]string{}
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		if line[0] == '[' && line[len(line)-1] == ']' {
			section = strings.TrimSpace(line[1 : len(line)-1])
			found = found || section == profile
			continue
		}
		if section != profile {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		kv[strings.TrimSpace(k)] = strings.Trim(strings.TrimSpace(v), `"'`)
	}
	if err := sc.Err(); err != nil {
		return Credentials{}, err
	}
	if !found {
		return Credentials{}, errors.New("no such profile")
	}
	c := Credentials{AccessKeyID: kv["access_key_id"], AccessKeySecret: kv["access_key_secret"]}
	switch t := kv["type"]; t {
	case "access_key", "":
	case "sts":
		c.SecurityToken = kv["security_token"]
		if c.SecurityToken == "" {
			return Credentials{}, errors.New("type sts needs security_token")
		}
	default:
		return Credentials{}, fmt.Errorf("credential type %q is not supported (use access_key or sts)", t)
	}
	if err := c.validate(); err != nil {
		return Credentials{}, errors.New("access_key_id and access_key_secret must both be set")
	}
	return c, nil
}
