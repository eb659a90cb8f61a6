package fleetsim_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/factorgate/factorgate/internal/fleetsim"
)

// A fleet of three hosts whose inventory `factorgate scan -i` can read.
func ExampleStart() {
	dir, _ := os.MkdirTemp("", "fleet")
	defer os.RemoveAll(dir)
	f, err := fleetsim.Start(context.Background(), fleetsim.Config{Hosts: []fleetsim.HostSpec{
		{Name: "web-01", Profile: fleetsim.CentOS7},
		{Name: "web-02", Profile: fleetsim.Debian12},
		{Name: "db-01", Profile: fleetsim.SELinuxEnforcing},
	}, Dir: dir})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer f.Close()
	if err := f.WriteInventory(filepath.Join(dir, "fleet.yaml")); err != nil {
		fmt.Println(err)
		return
	}
	for _, h := range f.Hosts() {
		p, _ := fleetsim.Lookup(h.Profile)
		fmt.Printf("%s %s %s %v\n", h.Name, p.Banner, p.Expect.Status, p.Expect.Violations)
	}
	// Output:
	// web-01 SSH-2.0-OpenSSH_7.4 eligible []
	// web-02 SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3 ineligible [openssh_version]
	// db-01 SSH-2.0-OpenSSH_7.4 ineligible [selinux]
}
