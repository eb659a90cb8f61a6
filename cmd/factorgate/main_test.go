package main

import (
	"os"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/factorgate/factorgate/internal/testutil"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"factorgate": func() { os.Exit(runMain()) },
	})
}

// TestScript runs the end-to-end CLI scripts of testdata/script, one
// behaviour per file.
func TestScript(t *testing.T) {
	testscript.Run(t, testscript.Params{
		UpdateScripts:       testutil.Update(),
		Dir:                 "testdata/script",
		RequireExplicitExec: true,
		Setup:               scriptSetup,
	})
}

// scriptSetup gives every script the repository's testdata as $TESTDATA.
func scriptSetup(env *testscript.Env) error {
	wd, err := os.Getwd()
	if err != nil {
		return err
	}
	env.Setenv("TESTDATA", wd+"/../../testdata")
	return nil
}
