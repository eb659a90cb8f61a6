package main

import (
	"errors"
	"fmt"
	"regexp"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/factorgate/factorgate/termtext"
)

// rootAction runs when no verb is given: --version, or the help. A word
// that names no verb is a usage error that suggests the nearest verb.
func rootAction(c *cli.Context) error {
	if c.NArg() > 0 {
		return unknownCommand(c.Args().First(), commandNames(c.App.Commands))
	}
	if c.Bool("version") {
		_, err := fmt.Fprint(c.App.Writer, versionText())
		return err
	}
	return cli.ShowAppHelp(c)
}

// unknownCommand is the usage error of a verb that is not one of names,
// suggesting the nearest.
func unknownCommand(name string, names []string) error {
	if s := termtext.Nearest(name, names); s != "" {
		return usageErrorf("unknown command %q (did you mean %q?)", name, s)
	}
	return usageErrorf("unknown command %q: factorgate help lists the commands", name)
}

// allCommandNames are the names of cmds and of their subcommands (the
// help command holds itself: each command is visited once).
func allCommandNames(cmds []*cli.Command) []string {
	seen := map[*cli.Command]bool{}
	var out []string
	var walk func([]*cli.Command)
	walk = func(cmds []*cli.Command) {
		for _, c := range cmds {
			if seen[c] {
				continue
			}
			seen[c] = true
			if !c.Hidden {
				out = append(out, c.Names()...)
			}
			walk(c.Subcommands)
		}
	}
	walk(cmds)
	return out
}

func commandNames(cmds []*cli.Command) []string {
	var out []string
	for _, c := range cmds {
		if !c.Hidden {
			out = append(out, c.Names()...)
		}
	}
	return out
}

// versionText says which factorgate this is: its module version, the VCS
// revision it was built from, and the Go that built it.
func versionText() string {
	version, revision, when, modified := "(unknown)", "unknown", "", false
	if bi, ok := debug.ReadBuildInfo(); ok {
		version = bi.Main.Version
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				revision = s.Value
			case "vcs.time":
				when = s.Value
			case "vcs.modified":
				modified = s.Value == "true"
			}
		}
	}
	if version == "" {
		version = "(devel)"
	}
	rev := revision
	if when != "" {
		rev += ", committed " + when
	}
	if modified {
		rev += ", with local changes"
	}
	return fmt.Sprintf("factorgate %s\n  revision: %s\n  go:       %s %s/%s\n", version, rev, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}

func versionCommand() *cli.Command {
	return &cli.Command{
		Name:  "version",
		Usage: "print the version: module version, VCS revision and Go version",
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return usageErrorf("version: unexpected argument %q", c.Args().First())
			}
			_, err := fmt.Fprint(c.App.Writer, versionText())
			return err
		},
	}
}

// Shell completion scripts: each asks factorgate itself for the words that
// may come next (urfave/cli's --generate-bash-completion).
const bashCompletion = `# bash completion for factorgate. Load it with
#   source <(factorgate completion bash)
# or save it as /etc/bash_completion.d/factorgate.
_factorgate_complete() {
  local cur words
  COMPREPLY=()
  cur="${COMP_WORDS[COMP_CWORD]}"
  if [[ "$cur" == -* ]]; then
    words=$("${COMP_WORDS[0]}" "${COMP_WORDS[@]:1:$((COMP_CWORD-1))}" "$cur" --generate-bash-completion 2>/dev/null)
  else
    words=$("${COMP_WORDS[0]}" "${COMP_WORDS[@]:1:$((COMP_CWORD-1))}" --generate-bash-completion 2>/dev/null)
  fi
  COMPREPLY=($(compgen -W "$words" -- "$cur"))
  return 0
}
complete -o bashdefault -o default -F _factorgate_complete factorgate
`

const zshCompletion = `#compdef factorgate
# zsh completion for factorgate. Load it with
#   source <(factorgate completion zsh)
# or save it as _factorgate in a directory of $fpath.
_factorgate() {
  local -a opts
  local cur=${words[CURRENT]}
  if [[ "$cur" == -* ]]; then
    opts=("${(@f)$(_CLI_ZSH_AUTOCOMPLETE_HACK=1 ${words[1]} ${words[2,CURRENT-1]} $cur --generate-bash-completion 2>/dev/null)}")
  else
    opts=("${(@f)$(_CLI_ZSH_AUTOCOMPLETE_HACK=1 ${words[1]} ${words[2,CURRENT-1]} --generate-bash-completion 2>/dev/null)}")
  fi
  if [[ -n "${opts[1]}" ]]; then
    _describe 'factorgate' opts
  else
    _files
  fi
}
if [[ "$funcstack[1]" == "_factorgate" ]]; then
  _factorgate "$@"
else
  compdef _factorgate factorgate
fi
`

func completionCommand() *cli.Command {
	return &cli.Command{
		Name:      "completion",
		Usage:     "print the shell completion script for bash or zsh",
		ArgsUsage: "bash|zsh",
		Description: "Prints a script that completes factorgate's commands and flags. Load it with\n" +
			"  source <(factorgate completion bash)     # or zsh\n" +
			"in your shell's startup file.",
		Action: func(c *cli.Context) error {
			scripts := map[string]string{"bash": bashCompletion, "zsh": zshCompletion}
			if c.NArg() != 1 || scripts[c.Args().First()] == "" {
				return usageErrorf("completion: name the shell: factorgate completion bash, or zsh")
			}
			_, err := fmt.Fprint(c.App.Writer, scripts[c.Args().First()])
			return err
		},
	}
}

func manCommand() *cli.Command {
	return &cli.Command{
		Name:  "man",
		Usage: "print the manual page (roff), made from the commands and flags",
		Description: "Read it with: factorgate man | man -l -\n" +
			"or install it: factorgate man > /usr/local/share/man/man8/factorgate.8",
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return usageErrorf("man: unexpected argument %q", c.Args().First())
			}
			page, err := c.App.ToMan()
			if err != nil {
				return err
			}
			_, err = fmt.Fprint(c.App.Writer, page)
			return err
		},
	}
}

var (
	reNoHelpTopic        = regexp.MustCompile(`^No help topic for '(.*)'$`)
	reUndefined          = regexp.MustCompile(`^flag provided but not defined: -+(.+)$`)
	reNeedsValue         = regexp.MustCompile(`^flag needs an argument: -+(.+)$`)
	reBadValue           = regexp.MustCompile(`^invalid (?:boolean )?value "(.*)" for (?:flag )?-+([^:]+): (.*)$`)
	reUndefinedAnywhere  = regexp.MustCompile(`flag provided but not defined: -+(\S+)`)
	reNeedsValueAnywhere = regexp.MustCompile(`flag needs an argument: -+(\S+)`)
	reBadEnv             = regexp.MustCompile(`^could not parse "(.*)" as \w+ value from (?:env var|environment variable) "?([A-Z0-9_]+)"? for flag ([^:]+): (.*)$`)
)

// flagError says in factorgate's words what Go's flag package or
// urfave/cli found wrong with the flags of c: "unknown flag --x (did you
// mean --y?)", "--timeout-dial 5: want a duration such as 5s".
func flagError(c *cli.Context, err error) string {
	msg := err.Error()
	flags := c.App.Flags
	if c.Command != nil && len(c.Command.Flags) > 0 {
		flags = c.Command.Flags
	}
	if m := reUndefined.FindStringSubmatch(msg); m != nil {
		s := "unknown flag --" + m[1]
		if n := termtext.Nearest(m[1], allFlagNames(flags)); n != "" {
			s += " (did you mean --" + n + "?)"
		}
		return s
	}
	if m := reNeedsValue.FindStringSubmatch(msg); m != nil {
		return fmt.Sprintf("--%s needs a value", m[1])
	}
	if m := reBadValue.FindStringSubmatch(msg); m != nil {
		return fmt.Sprintf("--%s %s: want %s", m[2], m[1], flagWant(findFlag(flags, m[2]), m[3]))
	}
	if m := reBadEnv.FindStringSubmatch(msg); m != nil {
		return fmt.Sprintf("$%s=%s (for --%s): want %s", m[2], m[1], m[3], flagWant(findFlag(flags, m[3]), m[4]))
	}
	return msg
}

func allFlagNames(flags []cli.Flag) []string {
	var out []string
	for _, f := range flags {
		for _, n := range f.Names() {
			if len(n) > 1 {
				out = append(out, n)
			}
		}
	}
	return out
}

func findFlag(flags []cli.Flag, name string) cli.Flag {
	for _, f := range flags {
		if slices.Contains(f.Names(), name) {
			return f
		}
	}
	return nil
}

// flagWant says what a flag's value must look like.
func flagWant(f cli.Flag, detail string) string {
	switch f.(type) {
	case *cli.DurationFlag:
		return "a duration such as 5s, 2m or 1h30m (with its unit)"
	case *cli.IntFlag, *cli.Int64Flag, *cli.UintFlag, *cli.Uint64Flag:
		return "a whole number"
	case *cli.Float64Flag:
		return "a number"
	case *cli.BoolFlag:
		return "true or false"
	}
	return strings.TrimPrefix(errors.New(detail).Error(), "parse error")
}
