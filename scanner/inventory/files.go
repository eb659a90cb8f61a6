package inventory

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"gopkg.in/yaml.v3"
)

// checkFile is [checkReadable] on a field of the file being parsed, when
// the parser was asked to open files ([Load]).
func (p *invParser) checkFile(v *yaml.Node, field, path string, secret bool) error {
	if !p.checkFiles {
		return nil
	}
	if err := checkReadable(relTo(filepath.Dir(p.file), path), secret); err != nil {
		return p.errf(v, "%s: %v", field, err)
	}
	return nil
}

// checkReadable opens the file an inventory field names (relative paths
// already taken from the inventory's folder; ~ is the home folder) and
// closes it again. secret keeps the path out of the error: a password_file
// value may be a password pasted by mistake. A path holding OpenSSH's %
// tokens is left to the scan, which alone knows what they stand for.
func checkReadable(path string, secret bool) error {
	if strings.Contains(path, "%") {
		return nil
	}
	shown := path
	if path == "~" || strings.HasPrefix(path, "~/") {
		home, err := os.UserHomeDir()
		if err != nil {
			return fmt.Errorf("cannot expand ~: %w", err)
		}
		path = home + path[1:]
	}
	fail := func(err error) error {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		if secret {
			return fmt.Errorf("cannot read the file: %w", err)
		}
		return fmt.Errorf("cannot read %s: %w", shown, err)
	}
	st, err := os.Stat(path)
	if err != nil {
		return fail(err)
	}
	if st.IsDir() {
		return fail(errors.New("is a directory"))
	}
	if !st.Mode().IsRegular() {
		return nil // a pipe or device: opening it could block or consume it
	}
	f, err := os.Open(path)
	if err != nil {
		return fail(err)
	}
	return f.Close()
}

// decodedYAML is a file decoded as YAML once, for the checks that tell
// inventory formats apart and for the parser that reads it.
type decodedYAML struct {
	doc yaml.Node
	err error
}

func decode(data []byte) *decodedYAML {
	d := &decodedYAML{}
	d.err = yaml.Unmarshal(data, &d.doc)
	return d
}

// get returns the decoded document, decoding data when d is nil.
func (d *decodedYAML) get(data []byte) (yaml.Node, error) {
	if d == nil {
		d = decode(data)
	}
	return d.doc, d.err
}

// mapping returns the document's root when it is a mapping.
func (d *decodedYAML) mapping() (*yaml.Node, bool) {
	if d.err != nil || len(d.doc.Content) == 0 {
		return nil, false
	}
	root := resolve(d.doc.Content[0])
	return root, root.Kind == yaml.MappingNode
}
