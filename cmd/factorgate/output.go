package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// openOutput returns where a report or facts go: stdout for "" or "-"; a
// device or pipe (/dev/null, a FIFO) written as it is, never replaced;
// else a temporary file beside path that commit renames over it, so that a
// reader never sees half a file and a failed run leaves the old one in
// place.
func openOutput(path string, stdout io.Writer) (w io.Writer, commit func() error, abort func(), err error) {
	if path == "" || path == "-" {
		return stdout, func() error { return nil }, func() {}, nil
	}
	if st, err := os.Stat(path); err == nil && !st.Mode().IsRegular() {
		if st.IsDir() {
			return nil, nil, nil, fmt.Errorf("--output %s: is a directory", path)
		}
		f, err := os.OpenFile(path, os.O_WRONLY, 0)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("--output: %w", err)
		}
		return f, f.Close, func() { f.Close() }, nil
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return nil, nil, nil, fmt.Errorf("--output: %w", err)
	}
	abort = func() {
		tmp.Close()
		os.Remove(tmp.Name())
	}
	commit = func() error {
		err := tmp.Sync()
		if cerr := tmp.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			err = os.Chmod(tmp.Name(), 0o644)
		}
		if err == nil {
			err = os.Rename(tmp.Name(), path)
		}
		if err != nil {
			os.Remove(tmp.Name())
		}
		return err
	}
	return tmp, commit, abort, nil
}

// writeOutput runs write on the output of path (see [openOutput]).
func writeOutput(path string, stdout io.Writer, write func(io.Writer) error) error {
	w, commit, abort, err := openOutput(path, stdout)
	if err != nil {
		return err
	}
	if err := write(w); err != nil {
		abort()
		return err
	}
	if err := commit(); err != nil {
		return fmt.Errorf("-o %s: %w", path, err)
	}
	return nil
}
