package envflag

import (
	"flag"
	"io"
	"testing"
)

func TestEnvFillsUnsetFlags(t *testing.T) {
	t.Setenv("REACH_TEST_LISTEN", ":9000")
	t.Setenv("REACH_TEST_TURN_THREADS", "4")
	t.Setenv("REACH_TEST_VERBOSE", "true")
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	listen := fs.String("listen", ":1", "address")
	threads := fs.Int("turn-threads", 1, "threads")
	verbose := fs.Bool("verbose", false, "verbose")
	if err := Parse(fs, "REACH_TEST", []string{"-listen", ":2"}); err != nil {
		t.Fatal(err)
	}
	if *listen != ":2" || *threads != 4 || !*verbose {
		t.Fatalf("listen=%q threads=%d verbose=%v", *listen, *threads, *verbose)
	}
}

func TestBadEnvValueIsAnError(t *testing.T) {
	t.Setenv("REACH_TEST_TURN_THREADS", "many")
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Int("turn-threads", 1, "threads")
	if err := Parse(fs, "REACH_TEST", nil); err == nil {
		t.Fatal("accepted REACH_TEST_TURN_THREADS=many")
	}
}
