// Package contract holds the two data contracts of factorgate: the [Facts] the
// scanner collects about one host, and the [Decision] the policies reach about it.
//
// Both travel as JSON. Facts are read back with a [Reader], which streams JSON
// lines and reports bad input as FILE:LINE errors; decisions are gathered into a
// [Report]. Unknown is null, never a guess: every fact that a probe may fail to
// read is a pointer, and nil means "could not be read".
package contract

import "time"

// FactsSchema is the schema tag every Facts object carries.
const FactsSchema = "factorgate/facts/v1"

// Facts is everything factorgate knows about one host at one time.
type Facts struct {
	Schema      string    `json:"schema"`
	Host        Host      `json:"host"`
	CollectedAt time.Time `json:"collected_at"`
	Reachable   bool      `json:"reachable"`
	Error       *string   `json:"error"`
	OS          *OS       `json:"os"`
	OpenSSH     *OpenSSH  `json:"openssh"`
	SSHD        *SSHD     `json:"sshd"`
	SELinux     *SELinux  `json:"selinux"`
	RDP         *RDP      `json:"rdp"`
	// Accounts are the local accounts of a Windows host; nil is unknown.
	Accounts []Account `json:"accounts"`
	HSS      *HSS      `json:"hss"`
	// SecurityProducts lists 2FA-conflicting security products found on the
	// host (Windows); nil is unknown, empty is none found.
	SecurityProducts []string `json:"security_products"`
	// Topic is the SMN topic chosen for SMS/email 2FA, as the cloud sees it;
	// nil when no topic was checked.
	Topic *Topic `json:"topic"`
	// DurationMS is how long the scan of this host took.
	DurationMS int64 `json:"duration_ms,omitempty"`
}

// Host says which host the facts are about and how it was reached.
type Host struct {
	Name      string            `json:"name"`
	Address   string            `json:"address"`
	Port      int               `json:"port"`
	Transport string            `json:"transport"`
	Auth      *string           `json:"auth"`
	Labels    map[string]string `json:"labels"`
	HSSHostID *string           `json:"hss_host_id"`
}

// OS describes the operating system; Family is "linux" or "windows".
type OS struct {
	Family  *string `json:"family"`
	ID      *string `json:"id"`
	Name    *string `json:"name"`
	Version *string `json:"version"`
	Kernel  *string `json:"kernel"`
	Build   *string `json:"build,omitempty"`
	// DomainRole is Win32_ComputerSystem.DomainRole on Windows (4 and 5
	// are domain controllers, which have no local accounts).
	DomainRole *int `json:"domain_role,omitempty"`
}

// OpenSSH describes the SSH server of the host.
type OpenSSH struct {
	Banner  *string `json:"banner"`
	Version *string `json:"version"`
	Major   *int    `json:"major"`
	Minor   *int    `json:"minor"`
	// Source names where Version came from: "banner", "package" (the
	// openssh-server package, when the banner names no product), or why it
	// is unknown ("banner: not OpenSSH"); "" when nothing was read. The
	// client's `ssh -V` is never taken for the server's version.
	Source string `json:"source"`
	// ClientVersion is what `ssh -V` printed, a cross-check.
	ClientVersion *string `json:"client_version,omitempty"`
	// PackageVersion is the installed openssh-server package version.
	PackageVersion *string `json:"package_version,omitempty"`
	// Windows is true for OpenSSH for Windows.
	Windows bool `json:"windows,omitempty"`
	// Software is the software-version field of the server's identification
	// string (RFC 4253: "SSH-2.0-" software [SP comments]), e.g.
	// "OpenSSH_7.4" or "dropbear_2019.78". Only a field that starts with
	// "OpenSSH_" makes the server OpenSSH.
	Software *string `json:"software,omitempty"`
}

// SSHD holds sshd's effective authentication settings.
type SSHD struct {
	PasswordAuthentication       *bool   `json:"password_authentication"`
	KbdInteractiveAuthentication *bool   `json:"kbd_interactive_authentication"`
	UsePAM                       *bool   `json:"use_pam"`
	PermitEmptyPasswords         *bool   `json:"permit_empty_passwords"`
	PermitRootLogin              *string `json:"permit_root_login"`
	// AuthenticationMethods is the effective AuthenticationMethods value as
	// sshd -T prints it (the scanner always fills it where it read sshd's
	// settings; facts written before it existed lack it, which the policy
	// reads as sshd's default, "any") ("any", or comma-separated method lists separated by
	// spaces, e.g. "publickey,password publickey,keyboard-interactive").
	AuthenticationMethods *string `json:"authentication_methods,omitempty"`
	// Source is "sshd -T" or "sshd_config".
	Source string `json:"source"`
	// Binary and Config name the sshd executable and configuration file
	// whose settings were read; Listener says how they were found:
	// "process" (the process ancestry of the scan's own connection led to
	// the listening sshd) or "path" (the first sshd on the PATH with its
	// default config, when the ancestry could not be read: ListenerError
	// says why).
	Binary        *string `json:"binary,omitempty"`
	Config        *string `json:"config,omitempty"`
	Listener      string  `json:"listener,omitempty"`
	ListenerError *string `json:"listener_error,omitempty"`
	// MatchBlocks are the Match blocks of the configuration that set a
	// password-login keyword; null is unknown (the configuration could not
	// be read whole), empty is none.
	MatchBlocks []MatchBlock `json:"match_blocks"`
}

// MatchBlock is one sshd_config Match block that sets a password-login
// keyword (PasswordAuthentication, KbdInteractiveAuthentication or
// ChallengeResponseAuthentication, PermitEmptyPasswords,
// AuthenticationMethods, PermitRootLogin).
type MatchBlock struct {
	// Criteria is the Match line's criteria as written, e.g. "User bob".
	Criteria string `json:"criteria"`
	File     string `json:"file"`
	Line     int    `json:"line"`
	// AllConnections is true when the block applies to every connection
	// (Match all, Address *, User *, Host *, and the like).
	AllConnections bool `json:"all_connections"`
	// Settings are the block's password-login keywords, lower-cased as
	// sshd -T prints them, with their values as written.
	Settings map[string]string `json:"settings"`
	// Effective, when sshd -T -C could be run for a connection this block
	// matches, holds the settings sshd resolved for it (same keys).
	Effective map[string]string `json:"effective,omitempty"`
}

// SELinux holds the SELinux state now and at next boot.
type SELinux struct {
	Installed  *bool   `json:"installed"`
	Mode       *string `json:"mode"`        // enforcing, permissive, disabled
	ConfigMode *string `json:"config_mode"` // SELINUX= in /etc/selinux/config
	Source     string  `json:"source"`
}

// RDP holds the Remote Desktop settings of a Windows host.
type RDP struct {
	Enabled *bool `json:"enabled"`
	Port    *int  `json:"port"`
	NLA     *bool `json:"nla"`
	// PolicyOverride is true when Group Policy sets fDenyTSConnections.
	PolicyOverride *bool `json:"policy_override,omitempty"`
	// ServiceStartMode is the TermService start mode from Win32_Service
	// ("Auto", "Manual", "Disabled"); RDP is off when it is "Disabled".
	ServiceStartMode *string `json:"service_start_mode,omitempty"`
	// WinStationEnabled is WinStations\RDP-Tcp\fEnableWinStation != 0.
	WinStationEnabled *bool `json:"win_station_enabled,omitempty"`
	// FirewallEnabled is false when the "Remote Desktop" firewall rule
	// group is disabled.
	FirewallEnabled *bool `json:"firewall_enabled,omitempty"`
}

// Account is one local account of a Windows host.
type Account struct {
	Name               string `json:"name"`
	Enabled            *bool  `json:"enabled"`
	MustChangePassword *bool  `json:"must_change_password"`
}

// HSS holds the Host Security Service view of the host: the agent as seen on
// the host, and protection and 2FA as the HSS API reports them.
type HSS struct {
	AgentInstalled *bool      `json:"agent_installed"`
	AgentRunning   *bool      `json:"agent_running"`
	HostID         *string    `json:"host_id"`
	AgentStatus    *string    `json:"agent_status"`
	ProtectStatus  *string    `json:"protect_status"`
	HostStatus     *string    `json:"host_status"`
	TwoFactor      *TwoFactor `json:"two_factor"`
	// CloudQueried is true when the scan asked the HSS API about this host;
	// the cloud fields above are then null only when HSS could not say
	// (CloudError tells why), never because nobody asked.
	CloudQueried bool    `json:"cloud_queried,omitempty"`
	CloudError   *string `json:"cloud_error,omitempty"`
	// HostName is the name HSS lists for the host it matched (the ECS
	// name) when it differs from the inventory's name, as it may when the
	// match was made by IP address or by hss_host_id; null when the names
	// agree or no HSS host was matched. (Set only when it differs, so that
	// the policies judge it without reading the host's own name.)
	HostName *string `json:"host_name,omitempty"`
}

// TwoFactor is the host's current HSS 2FA setting.
type TwoFactor struct {
	Enabled  *bool   `json:"enabled"`
	AuthType *string `json:"auth_type"`
	TopicURN *string `json:"topic_urn"`
}

// Topic is the SMN topic chosen for SMS/email codes.
type Topic struct {
	URN       string `json:"urn"`
	Exists    *bool  `json:"exists"`
	Confirmed *bool  `json:"confirmed"`
	// Protocols lists the protocols of the confirmed subscriptions.
	Protocols []string `json:"protocols"`
	Error     *string  `json:"error,omitempty"`
}

// Ptr returns a pointer to v, for filling nullable facts.
func Ptr[T any](v T) *T { return &v }
