package main

import (
	"os"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/factorgate/factorgate/internal/pgtest"
	"github.com/factorgate/factorgate/internal/testutil"
)

// TestMain makes the test binary the `factorgate` command when it runs
// under that name: the real main, signals and all. The PostgreSQL the tests
// start, if any, is stopped at the end.
func TestMain(m *testing.M) {
	testscript.Main(pgMain{m}, map[string]func(){"factorgate": main})
}

// pgMain runs the tests and then stops their PostgreSQL.
type pgMain struct{ m *testing.M }

func (p pgMain) Run() int { return pgtest.Main(p.m) }

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
