package policies

import "os"

// UseBundleDir makes the package read its bundle from dir/bundle/*.rego
// instead of the embedded files, as if they had been embedded, until
// restore is called: tests drop a new check into a copy of the bundle.
func UseBundleDir(dir string) (restore func()) {
	catalogue.Lock()
	old := bundleFS
	bundleFS = os.DirFS(dir)
	catalogue.done = false
	catalogue.Unlock()
	return func() {
		catalogue.Lock()
		bundleFS = old
		catalogue.done = false
		catalogue.Unlock()
	}
}
