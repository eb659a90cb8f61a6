package cloud_test

import (
	"context"
	"fmt"

	"github.com/factorgate/factorgate/cloud"
	"github.com/factorgate/factorgate/contract"
	"github.com/factorgate/factorgate/internal/hsssim"
	"github.com/factorgate/factorgate/scanner/inventory"
)

// ExampleNewView fills one scanned host's cloud facts from the HSS API, here
// the emulator; against the real cloud, set Options.Region instead of the
// endpoints and take the credentials from CredentialsFromEnv.
func ExampleNewView() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sim, err := hsssim.Start(ctx, hsssim.Config{AK: "AKEXAMPLE00000000001", SK: "SKexample", ProjectID: "p1"})
	if err != nil {
		fmt.Println(err)
		return
	}
	sim.AddHost(hsssim.Host{ID: "a1b2", Name: "web-01", PrivateIP: "10.0.0.5"})
	sim.AddHost(hsssim.Host{ID: "c3d4", Name: "forgotten", PrivateIP: "10.0.0.6"})

	client, err := cloud.New(cloud.Credentials{AK: "AKEXAMPLE00000000001", SK: "SKexample", ProjectID: "p1"},
		cloud.Options{HSSEndpoint: sim.URL(), SMNEndpoint: sim.URL()})
	if err != nil {
		fmt.Println(err)
		return
	}
	inventory := []inventory.Host{{Name: "web-01", Address: "10.0.0.5"}}
	view, err := cloud.NewView(ctx, client, inventory, cloud.TopicOptions{AuthMode: cloud.AuthCode})
	if err != nil {
		fmt.Println(err)
		return
	}
	f := &contract.Facts{Host: contract.Host{Name: "web-01"}, Reachable: true}
	if err := view.Fill(ctx, inventory[0], f); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(*f.Host.HSSHostID, *f.HSS.AgentStatus, *f.HSS.ProtectStatus, *f.HSS.TwoFactor.Enabled)
	for _, h := range view.NotScanned() {
		fmt.Println("not in the inventory:", h.HostName, h.HostID)
	}
	// Output:
	// a1b2 online opened false
	// not in the inventory: forgotten c3d4
}
