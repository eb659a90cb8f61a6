package cloud

import (
	"errors"
	"log/slog"
	"strings"
)

// The environment variables credentials come from, as the SDK names them.
const (
	EnvAK            = "HUAWEICLOUD_SDK_AK"
	EnvSK            = "HUAWEICLOUD_SDK_SK"
	EnvProjectID     = "HUAWEICLOUD_SDK_PROJECT_ID"
	EnvSecurityToken = "HUAWEICLOUD_SDK_SECURITY_TOKEN"
	EnvRegion        = "HUAWEICLOUD_SDK_REGION"
	EnvHSSEndpoint   = "FACTORGATE_HSS_ENDPOINT"
	EnvSMNEndpoint   = "FACTORGATE_SMN_ENDPOINT"
)

// ErrNoCredentials is returned by [CredentialsFromEnv] when no access key is
// set at all.
var ErrNoCredentials = errors.New("no cloud credentials: set " + EnvAK + ", " + EnvSK + " and " + EnvProjectID)

// Secret is a string that never shows itself in logs or formatted output.
type Secret string

// String redacts the secret.
func (Secret) String() string { return "[redacted]" }

// GoString redacts the secret in %#v.
func (Secret) GoString() string { return `"[redacted]"` }

// LogValue redacts the secret in slog output.
func (Secret) LogValue() slog.Value { return slog.StringValue("[redacted]") }

// MarshalText redacts the secret in JSON and text encodings.
func (Secret) MarshalText() ([]byte, error) { return []byte("[redacted]"), nil }

// Credentials are the AK/SK credentials of one project. The access key is
// treated as a secret too: it names the account's key pair.
type Credentials struct {
	AK            Secret
	SK            Secret
	ProjectID     string
	SecurityToken Secret
}

// LogValue shows the project and which parts are set, never their values.
func (c Credentials) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("project_id", c.ProjectID),
		slog.Bool("ak_set", c.AK != ""),
		slog.Bool("sk_set", c.SK != ""),
		slog.Bool("security_token_set", c.SecurityToken != ""),
	)
}

// CredentialsFromEnv reads credentials from the SDK's environment variables.
// It returns [ErrNoCredentials] when none of AK, SK is set, and an error
// naming the missing variables when only some are.
func CredentialsFromEnv(getenv func(string) string) (Credentials, error) {
	c := Credentials{
		AK:            Secret(strings.TrimSpace(getenv(EnvAK))),
		SK:            Secret(strings.TrimSpace(getenv(EnvSK))),
		ProjectID:     strings.TrimSpace(getenv(EnvProjectID)),
		SecurityToken: Secret(strings.TrimSpace(getenv(EnvSecurityToken))),
	}
	if c.AK == "" && c.SK == "" {
		return Credentials{}, ErrNoCredentials
	}
	var missing []string
	if c.AK == "" {
		missing = append(missing, EnvAK)
	}
	if c.SK == "" {
		missing = append(missing, EnvSK)
	}
	if c.ProjectID == "" {
		missing = append(missing, EnvProjectID)
	}
	if len(missing) > 0 {
		return Credentials{}, errors.New("incomplete cloud credentials: set " + strings.Join(missing, ", "))
	}
	return c, nil
}
