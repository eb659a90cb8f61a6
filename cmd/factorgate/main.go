// Command factorgate checks which servers of a fleet can take Host Security
// Service two-factor authentication, and turns it on where they can.
//
// Run `factorgate demo` to see it work on a simulated fleet, and
// `factorgate help` for the verbs.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"

	"github.com/urfave/cli/v2"

	"github.com/factorgate/factorgate/termtext"
)

// Exit codes, as DESIGN.md defines them.
const (
	exitOK     = 0 // every host judged, none failed the gate
	exitGate   = 1 // at least one host failed the gate
	exitBroken = 2 // the command could not do its job
)

func main() { os.Exit(runMain()) }

// runMain runs the program on the process's arguments and files, with a
// context that ends at SIGINT or SIGTERM, and returns the exit code.
func runMain() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return run(ctx, os.Args, os.Stdin, os.Stdout, os.Stderr)
}

// gateError is returned by a verb whose job was done but whose result fails
// the gate (exit 1). Its message, if any, has already been shown.
type gateError struct{ msg string }

func (e *gateError) Error() string { return e.msg }

// run is the whole program: it parses args, runs one verb and maps its error
// to an exit code. Nothing below it exits the process.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	app := newApp(stdin, stdout, stderr)
	err := app.RunContext(ctx, args)
	if err != nil {
		// urfave/cli's own word for a verb it does not know, after help or
		// a verb with subcommands.
		if m := reNoHelpTopic.FindStringSubmatch(err.Error()); m != nil {
			err = unknownCommand(m[1], allCommandNames(app.Commands))
		}
	}
	return exitCode(err, stderr)
}

func exitCode(err error, stderr io.Writer) int {
	if err == nil {
		return exitOK
	}
	var ge *gateError
	if errors.As(err, &ge) {
		if ge.msg != "" {
			fmt.Fprintln(stderr, "factorgate: "+terminalText(ge.msg))
		}
		return exitGate
	}
	msg := terminalText(err.Error())
	// Go's flag words, wherever a verb let them through, in factorgate's.
	msg = reUndefinedAnywhere.ReplaceAllString(msg, "unknown flag --$1")
	msg = reNeedsValueAnywhere.ReplaceAllString(msg, "--$1 needs a value")
	fmt.Fprintln(stderr, "factorgate: "+msg)
	return exitBroken
}

// newApp builds the command line. Each verb lives in a file of its own.
func newApp(stdin io.Reader, stdout, stderr io.Writer) *cli.App {
	log := &logOut{w: stderr}
	app := &cli.App{
		Metadata:             map[string]any{"log": log},
		Name:                 "factorgate",
		Usage:                "check which servers can take HSS 2FA (two-factor authentication), and turn it on where they can",
		Reader:               stdin,
		Writer:               stdout,
		ErrWriter:            stderr,
		EnableBashCompletion: true,
		HideHelpCommand:      false,
		ExitErrHandler:       func(*cli.Context, error) {}, // exit codes are mapped by run
		Flags:                globalFlags(),
		Before: func(c *cli.Context) error {
			if c.Bool("version") && c.Args().Present() {
				return usageErrorf("--version takes no command: factorgate --version, or factorgate version")
			}
			return setLogging(c, log)
		},
		Action: rootAction,
		Commands: []*cli.Command{
			demoCommand(),
			scanCommand(),
			inventoryCommand(),
			checkCommand(),
			enableCommand(),
			disableCommand(),
			policyCommand(),
			serveCommand(),
			historyCommand(),
			diffCommand(),
			versionCommand(),
			completionCommand(),
			manCommand(),
		},
	}
	app.OnUsageError = func(c *cli.Context, err error, _ bool) error { return usageErrorf("%s", flagError(c, err)) }
	for _, c := range app.Commands {
		setUsageError(c)
		addGlobalFlags(c, log)
	}
	return app
}

// globalFlags are the flags of factorgate itself, before the verb;
// --log-level and --quiet are taken after it too ([addGlobalFlags]).
func globalFlags() []cli.Flag {
	return []cli.Flag{
		logLevelFlag(false),
		quietFlag(false),
		&cli.BoolFlag{Name: "version", Aliases: []string{"V"}, Usage: "print the version and exit"},
	}
}

// logLevelFlag is --log-level; hidden where the help shows it once, among
// the global options.
func logLevelFlag(hidden bool) cli.Flag {
	return &cli.StringFlag{Name: "log-level", Value: "warn", Usage: "log level on stderr: debug, info, warn, error", Hidden: hidden}
}

// quietFlag is --quiet; hidden as [logLevelFlag] is.
func quietFlag(hidden bool) cli.Flag {
	return &cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "draw no progress bars, even on a terminal", Hidden: hidden}
}

// addGlobalFlags gives c and its subcommands the [globalFlags], so that
// `factorgate check --log-level debug` works as `factorgate --log-level
// debug check` does.
func addGlobalFlags(c *cli.Command, stderr io.Writer) {
	// The help and the manual list them once, as global options.
	c.Flags = append(c.Flags, logLevelFlag(true), quietFlag(true))
	before := c.Before
	c.Before = func(cc *cli.Context) error {
		if err := setLogging(cc, stderr); err != nil {
			return err
		}
		if before != nil {
			return before(cc)
		}
		return nil
	}
	for _, s := range c.Subcommands {
		addGlobalFlags(s, stderr)
	}
}

// setLogging sets the default logger to the --log-level of c: the one given
// nearest to the verb wins.
func setLogging(c *cli.Context, stderr io.Writer) error {
	name := globalString(c, "log-level")
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(name)); err != nil {
		return usageErrorf("--log-level %s: want debug, info, warn or error", name)
	}
	slog.SetDefault(slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: lvl})))
	return nil
}

// globalString is the value of a [globalFlags] flag: where it was given on
// the command line nearest to the verb, else its default.
func globalString(c *cli.Context, name string) string {
	for _, cc := range c.Lineage() {
		if slices.Contains(cc.LocalFlagNames(), name) {
			return cc.String(name)
		}
	}
	return c.String(name)
}

// quiet reports whether --quiet (-q) was given, before or after the verb.
func quiet(c *cli.Context) bool {
	for _, cc := range c.Lineage() {
		if names := cc.LocalFlagNames(); slices.Contains(names, "quiet") || slices.Contains(names, "q") {
			return cc.Bool("quiet")
		}
	}
	return false
}

func setUsageError(c *cli.Command) {
	c.OnUsageError = func(cc *cli.Context, err error, _ bool) error {
		return usageErrorf("%s: %s", c.Name, flagError(cc, err))
	}
	for _, s := range c.Subcommands {
		setUsageError(s)
	}
}

// usageErrorf is an error in how factorgate was called (exit 2).
func usageErrorf(format string, args ...any) error { return fmt.Errorf(format, args...) }

// terminalText makes text from hosts, files or the API safe for one line or
// cell of a terminal (see [termtext.Clean]), with runs of spaces folded
// into one.
func terminalText(s string) string { return strings.Join(strings.Fields(termtext.Clean(s)), " ") }
