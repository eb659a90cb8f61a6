package policies_test

import (
	"context"
	"fmt"

	"github.com/factorgate/factorgate/policies"
)

// Judge one host from its raw Facts line.
func ExampleEvaluator_Decide() {
	ctx := context.Background()
	ev, err := policies.New(ctx, policies.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	raw := []byte(`{"schema":"factorgate/facts/v1","host":{"name":"web-09","address":"10.0.0.9"},"reachable":false,"error":"dial tcp 10.0.0.9:22: connect: connection refused"}`)
	d, err := ev.Decide(ctx, raw)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(d.Host, d.Status, d.Eligible)
	for _, v := range d.Violations {
		fmt.Printf("%s: %s\n", v.Check, v.Message)
	}
	// Output:
	// web-09 unreachable false
	// reachable: the host could not be scanned: dial tcp 10.0.0.9:22: connect: connection refused
}

// Tune a parameter and judge in SMS/email mode.
func ExampleNew() {
	ev, err := policies.New(context.Background(), policies.Options{
		Params: map[string]any{"auth_mode": "sms", "openssh_max_major": 8},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	p := ev.Params()
	fmt.Println(p["auth_mode"], p["openssh_max_major"])
	// Output: sms 8
}

// List the bundled checks, as the SARIF report's rules and the README's
// table do.
func ExampleChecks() {
	checks, err := policies.Checks()
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, c := range checks {
		fmt.Printf("%s %v %v\n", c.ID, c.Platforms, c.Sources)
	}
	// Output:
	// must_change_password [windows] [hss_01_0568]
	// openssh_version [linux] [hss_01_0568]
	// os_supported [linux windows] [hss_01_0568]
	// password_login [linux] [hss_01_0568 hss_01_0440]
	// protection [linux windows] [hss_01_0568 hss_01_0260]
	// rdp [windows] [hss_01_0568]
	// reachable [linux windows] [hss_01_0568]
	// selinux [linux] [hss_01_0568 hss_01_0472]
	// topic [linux windows] [hss_01_0568 hss_01_0441]
}
