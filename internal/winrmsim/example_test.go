package winrmsim_test

import (
	"context"
	"fmt"

	"github.com/factorgate/factorgate/internal/winprofiles"
	"github.com/factorgate/factorgate/internal/winrmsim"
)

func ExampleStart() {
	sim, err := winrmsim.Start(context.Background(), winrmsim.Config{
		Hosts: []winrmsim.HostSpec{
			{Name: "win-01", Profile: winprofiles.Server2019},
			{Name: "win-02", Profile: winprofiles.MustChange},
		},
		TLS:  true,
		User: "Administrator", Password: "example-only",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer sim.Close()
	for _, h := range sim.Hosts() {
		p, _ := winprofiles.Get(h.Profile)
		fmt.Println(h.Name, h.Address, h.Profile, p.Expect.Status, p.Expect.Violations)
	}
	fmt.Println(sim.CAFile() != "")
	// Output:
	// win-01 127.0.0.1 server-2019 eligible []
	// win-02 127.0.0.1 must-change ineligible [must_change_password]
	// true
}
