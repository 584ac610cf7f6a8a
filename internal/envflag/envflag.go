// Package envflag lets every command-line flag be set from the environment:
// flag -turn-listen of a command with prefix REACH_RELAY is read from
// REACH_RELAY_TURN_LISTEN when it is not given on the command line. Flags
// win over the environment; both are listed in -help.
package envflag

import (
	"flag"
	"fmt"
	"os"
	"strings"
)

// Parse parses args into fs, then fills every flag not set by args from its
// environment variable.
func Parse(fs *flag.FlagSet, prefix string, args []string) error {
	fs.VisitAll(func(f *flag.Flag) {
		f.Usage = fmt.Sprintf("%s (env %s)", f.Usage, Name(prefix, f.Name))
	})
	if err := fs.Parse(args); err != nil {
		return err
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if set[f.Name] || err != nil {
			return
		}
		if v, ok := os.LookupEnv(Name(prefix, f.Name)); ok {
			if e := fs.Set(f.Name, v); e != nil {
				err = fmt.Errorf("%s: %w", Name(prefix, f.Name), e)
			}
		}
	})
	return err
}

// Name is the environment variable for flag name under prefix.
func Name(prefix, name string) string {
	return prefix + "_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}
