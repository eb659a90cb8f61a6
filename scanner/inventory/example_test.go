package inventory_test

import (
	"fmt"

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
