package main

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// openOutput returns where a report or facts go: stdout for "" or "-"; a
// device or pipe (/dev/null, a FIFO) written as it is, never replaced;
// else a temporary file beside path that commit renames over it, so that a
// reader never sees half a file and a failed run leaves the old one in
// place. A new file gets the mode the umask allows (0666 less the umask);
// a file replaced keeps its mode, so a private report stays private. Errors
// name path as the user gave it, never the temporary file.
func openOutput(path string, stdout io.Writer) (w io.Writer, commit func() error, abort func(), err error) {
	if path == "" || path == "-" {
		return stdout, func() error { return nil }, func() {}, nil
	}
	keepMode := fs.FileMode(0)
	if st, err := os.Stat(path); err == nil {
		if st.IsDir() {
			return nil, nil, nil, fmt.Errorf("-o %s: is a directory", path)
		}
		if !st.Mode().IsRegular() {
			f, err := os.OpenFile(path, os.O_WRONLY, 0)
			if err != nil {
				return nil, nil, nil, outputErr(path, err)
			}
			return f, f.Close, func() { f.Close() }, nil
		}
		keepMode = st.Mode().Perm()
	}
	tmp, err := createTemp(path)
	if err != nil {
		return nil, nil, nil, outputErr(path, err)
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
		if err == nil && keepMode != 0 {
			err = os.Chmod(tmp.Name(), keepMode)
		}
		if err == nil {
			err = os.Rename(tmp.Name(), path)
		}
		if err != nil {
			os.Remove(tmp.Name())
			return outputErr(path, err)
		}
		return nil
	}
	return tmp, commit, abort, nil
}

// createTemp creates a new file beside path, named after it, with mode
// 0666 less the umask (os.CreateTemp would make it 0600 whatever the umask).
func createTemp(path string) (*os.File, error) {
	dir, base := filepath.Split(path)
	for range 100 {
		name := filepath.Join(dir, "."+base+"."+rand.Text()[:10]+".tmp")
		f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o666)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		return f, err
	}
	return nil, errors.New("no free temporary name")
}

// outputErr is err of writing -o path, naming path rather than a temporary
// file.
func outputErr(path string, err error) error {
	var pe *fs.PathError
	var le *os.LinkError
	switch {
	case errors.As(err, &pe):
		err = pe.Err
	case errors.As(err, &le):
		err = le.Err
	}
	return fmt.Errorf("-o %s: %w", path, err)
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
	return commit()
}
