package inventory_test

import (
	"fmt"

	"github.com/factorgate/factorgate/contract"
	"github.com/factorgate/factorgate/scanner/inventory"
)

func ExampleLoad() {
	inv, err := inventory.Load("testdata/fleet.yaml")
	if err != nil {
		fmt.Println(err)
		return
	}
	hosts, err := inv.Select([]string{"env=prod"})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, h := range hosts {
		fmt.Println(h.Name, h.Address, h.Port, h.SSH.User)
	}
	// Output:
	// web-01 10.0.0.5 22 ops
	// db-01 10.0.1.7 22 dba
}

func ExampleParse() {
	_, err := inventory.Parse("fleet.yaml", []byte("hosts:\n  - name: web-01\n    ssh: {user: ops, password: hunter2}\n"))
	fmt.Println(err)
	// Output:
	// fleet.yaml:3: hosts[0].ssh.password: a password may not be written in the inventory: use password_env (an environment variable) or password_file
}

func ExampleInventory_Resolve() {
	inv, err := inventory.Parse("fleet.yaml", []byte(`
defaults:
  ssh: {user: ops}
discover:
  hss: {os: linux}
hosts:
  - {name: db-01, address: db.example.com}
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	// The caller lists the HSS hosts (cloud.Client.ListHosts); the
	// inventory dials nothing.
	inv, err = inv.Resolve([]contract.CloudHost{
		{HostID: "id-1", HostName: "web-01", PrivateIP: "10.0.0.5", OSType: "Linux"},
		{HostID: "id-2", HostName: "db-01", PrivateIP: "10.0.1.7", OSType: "Linux"},
		{HostID: "id-3", HostName: "win-01", PrivateIP: "10.0.0.9", OSType: "Windows"},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, h := range inv.Hosts {
		fmt.Println(h.Name, h.Address, h.SSH.User, h.HSSHostID)
	}
	// Output:
	// db-01 db.example.com ops id-2
	// web-01 10.0.0.5 ops id-1
}

func ExampleParseShard() {
	shard, err := inventory.ParseShard("3/3")
	if err != nil {
		fmt.Println(err)
		return
	}
	inv, _ := inventory.Load("testdata/fleet.yaml")
	for _, h := range shard.Filter(inv.Hosts) {
		fmt.Println(h.Name, inventory.ShardOf(h.Name, 3))
	}
	_, err = inventory.ParseShard("4/3")
	fmt.Println(err)
	// Output:
	// db-01 3
	// win-01 3
	// shard "4/3": K must be 1 to N (3): want K/N with 1 <= K <= N, such as 2/4
}
