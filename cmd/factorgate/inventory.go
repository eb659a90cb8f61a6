package main

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"

	"github.com/urfave/cli/v2"
	"gopkg.in/yaml.v3"

	"github.com/factorgate/factorgate/contract"
	"github.com/factorgate/factorgate/history"
	"github.com/factorgate/factorgate/scanner/inventory"
)

func inventoryCommand() *cli.Command {
	return &cli.Command{
		Name:  "inventory",
		Usage: "print the resolved inventory: every host with its defaults merged in, as scan would reach it",
		Description: "Reads the inventory of -i (a factorgate YAML file, or an Ansible inventory in INI or YAML\n" +
			"with its group_vars/ and host_vars/), adds the hosts its discover: block finds in HSS (cloud\n" +
			"credentials needed), applies --limit and --shard, and prints every host, as\n" +
			"ansible-inventory --list does: YAML, or one JSON object {\"hosts\": [...]} with --format json.\n" +
			"Every field is printed; what is not set is null. A password is never printed, nor where it\n" +
			"is kept: \"password\" only says env, file or null. Hosts left out are named on stderr.",
		ArgsUsage: " ",
		Flags: mergeFlags([]cli.Flag{
			inventoryFlag(),
			limitFlag(),
			&cli.StringFlag{Name: "format", Value: "yaml", Usage: "`FORMAT`: yaml or json"},
		}, shardFlags(), cloudFlags()),
		Action: runInventory,
	}
}

// shardFlags select one shard of the fleet: scan, check and inventory take
// them.
func shardFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "shard", Usage: "only shard `K/N` of the hosts --limit selects (1 <= K <= N): a stable part chosen by a hash of each host's name, so that N runners with 1/N .. N/N cover the fleet once"},
	}
}

// auditIDFlag names the audit a recorded shard belongs to: check takes it.
func auditIDFlag() cli.Flag {
	return &cli.StringFlag{Name: "audit-id", Usage: "with --record and --shard, the `ID` of the audit this run is a shard of: all its shards record into one run (letters, digits, '.', '_', '-')"}
}

// selection is what --limit, --shard and --audit-id ask for.
type selection struct {
	limit   []string
	shard   inventory.Shard
	auditID string
}

func selectionFromFlags(c *cli.Context) (selection, error) {
	s := selection{limit: c.StringSlice("limit"), auditID: c.String("audit-id")}
	var err error
	if s.shard, err = inventory.ParseShard(c.String("shard")); err != nil {
		return s, usageErrorf("--%v", err)
	}
	if s.auditID != "" {
		if err := history.ValidAuditID(s.auditID); err != nil {
			return s, usageErrorf("--audit-id: %v", err)
		}
	}
	return s, nil
}

// loadFleet loads the inventory of -i, adds the hosts its discover: block
// finds in HSS (which needs the cloud credentials), and selects the hosts
// of --limit, then of --shard. The inventory returned is the whole fleet
// (discovered hosts included, before --limit): hosts it holds are never
// "not scanned". Hosts the inventory leaves out are warned of on stderr.
func loadFleet(c *cli.Context) (*inventory.Inventory, []inventory.Host, error) {
	path := c.String("inventory")
	if path == "" {
		return nil, nil, fmt.Errorf("%s: -i FILE (the inventory) is required", c.Command.Name)
	}
	sel, err := selectionFromFlags(c)
	if err != nil {
		return nil, nil, err
	}
	inv, err := inventory.Load(path)
	if err != nil {
		return nil, nil, err
	}
	listed := -1
	if inv.Discover != nil {
		cloudHosts, err := discoverHosts(c, inv)
		if err != nil {
			return nil, nil, err
		}
		line := inv.Discover.HSS.Line
		if inv, err = inv.Resolve(cloudHosts); err != nil {
			return nil, nil, err
		}
		if len(inv.Hosts) == 0 {
			return nil, nil, fmt.Errorf("%s:%d: discover.hss: no host to scan: HSS lists %d, none of which passes the filters", inv.Path, line, len(cloudHosts))
		}
		listed = len(cloudHosts)
	}
	for _, w := range inv.Warnings {
		fmt.Fprintln(c.App.ErrWriter, "factorgate: warning: "+w)
	}
	if listed >= 0 {
		slog.Info("discover.hss", "listed", listed, "hosts", len(inv.Hosts))
	}
	hosts, err := inv.Select(sel.limit)
	if err != nil {
		return nil, nil, err
	}
	if !sel.shard.IsZero() {
		n := len(hosts)
		hosts = sel.shard.Filter(hosts)
		// A shard of a recorded audit that holds no host still records
		// (an empty shard), or the audit's run would never complete.
		if len(hosts) == 0 && !(c.Bool("record") && sel.auditID != "") {
			return nil, nil, fmt.Errorf("--shard %s holds none of the %d hosts selected: choose a smaller N", sel.shard, n)
		}
	}
	if sel.auditID != "" || !sel.shard.IsZero() {
		slog.Info("shard of an audit", "audit_id", sel.auditID, "shard", sel.shard.String(), "hosts", len(hosts))
	}
	return inv, hosts, nil
}

// discoverHosts fetches the HSS host list (every page) for an inventory
// that discovers its hosts there.
func discoverHosts(c *cli.Context, inv *inventory.Inventory) ([]contract.CloudHost, error) {
	client, err := cloudFromFlags(c)
	if err != nil {
		return nil, err
	}
	if client == nil {
		return nil, fmt.Errorf("%s:%d: discover.hss needs the cloud credentials (HUAWEICLOUD_SDK_AK, HUAWEICLOUD_SDK_SK, HUAWEICLOUD_SDK_PROJECT_ID)",
			inv.Path, inv.Discover.HSS.Line)
	}
	list, err := client.ListHosts(c.Context)
	if err != nil {
		return nil, fmt.Errorf("%s:%d: discover.hss: %w", inv.Path, inv.Discover.HSS.Line, err)
	}
	out := make([]contract.CloudHost, 0, len(list))
	for _, h := range list {
		out = append(out, contract.CloudHost{HostID: h.HostID, HostName: h.HostName, PrivateIP: h.PrivateIP,
			PublicIP: h.PublicIP, OSType: h.OSType, AgentStatus: h.AgentStatus, ProtectStatus: h.ProtectStatus})
	}
	return out, nil
}

// resolvedHost is one host as `inventory` prints it: every field, null
// when unset, and of a password only where it comes from (env or file),
// never the variable's name or the file's path, either of which may be a
// password pasted by mistake.
type resolvedHost struct {
	Name         string            `json:"name" yaml:"name"`
	Address      string            `json:"address" yaml:"address"`
	Port         *int              `json:"port" yaml:"port"`
	Transport    string            `json:"transport" yaml:"transport"`
	OS           *string           `json:"os" yaml:"os"`
	User         *string           `json:"user" yaml:"user"`
	Password     *string           `json:"password" yaml:"password"`
	IdentityFile *string           `json:"identity_file" yaml:"identity_file"`
	KnownHosts   *string           `json:"known_hosts" yaml:"known_hosts"`
	ProxyJump    *string           `json:"proxy_jump" yaml:"proxy_jump"`
	Agent        *bool             `json:"agent" yaml:"agent"`
	Sudo         *bool             `json:"sudo" yaml:"sudo"`
	HTTPS        *bool             `json:"https" yaml:"https"`
	Insecure     *bool             `json:"insecure" yaml:"insecure"`
	CAFile       *string           `json:"ca_file" yaml:"ca_file"`
	Auth         *string           `json:"auth" yaml:"auth"`
	HSSHostID    *string           `json:"hss_host_id" yaml:"hss_host_id"`
	Labels       map[string]string `json:"labels" yaml:"labels"`
}

func orNull[T comparable](v T) *T {
	var zero T
	if v == zero {
		return nil
	}
	return &v
}

func passwordSource(s inventory.Secret) *string {
	switch {
	case s.Env != "":
		return orNull("env")
	case s.File != "":
		return orNull("file")
	}
	return nil
}

func resolve(h inventory.Host) resolvedHost {
	r := resolvedHost{Name: h.Name, Address: h.Address, Port: orNull(h.Port), Transport: h.Transport,
		OS: orNull(h.OS), HSSHostID: orNull(h.HSSHostID), Labels: maps.Clone(h.Labels)}
	if r.Labels == nil {
		r.Labels = map[string]string{}
	}
	if h.Transport == inventory.TransportWinRM {
		w := h.WinRM
		r.User, r.Password, r.CAFile, r.Auth = orNull(w.User), passwordSource(w.Password), orNull(w.CAFile), orNull(w.Auth)
		r.HTTPS, r.Insecure = &w.HTTPS, &w.Insecure
		return r
	}
	s := h.SSH
	sudo := !s.NoSudo
	r.User, r.Password, r.IdentityFile, r.KnownHosts, r.ProxyJump = orNull(s.User), passwordSource(s.Password),
		orNull(s.IdentityFile), orNull(s.KnownHosts), orNull(s.ProxyJump)
	r.Agent, r.Sudo = &s.Agent, &sudo
	return r
}

func runInventory(c *cli.Context) error {
	if c.NArg() > 0 {
		return usageErrorf("inventory: unexpected argument %q (the inventory goes after -i)", c.Args().First())
	}
	format := c.String("format")
	if format != "yaml" && format != "json" {
		return usageErrorf("--format: want yaml or json, got %q", format)
	}
	_, hosts, err := loadFleet(c)
	if err != nil {
		return err
	}
	doc := struct {
		Hosts []resolvedHost `json:"hosts" yaml:"hosts"`
	}{Hosts: make([]resolvedHost, 0, len(hosts))}
	for _, h := range hosts {
		doc.Hosts = append(doc.Hosts, resolve(h))
	}
	slices.SortStableFunc(doc.Hosts, func(a, b resolvedHost) int { return cmp.Compare(a.Name, b.Name) })
	w := c.App.Writer
	if format == "json" {
		enc := json.NewEncoder(w)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		return enc.Encode(doc)
	}
	enc := yaml.NewEncoder(w)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return errors.Join(err, enc.Close())
	}
	return enc.Close()
}
