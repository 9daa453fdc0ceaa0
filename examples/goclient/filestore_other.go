//go:build !unix

package goclient

import "io/fs"

// openNoFollow adds nothing where the platform has no such flag; the Lstat
// check and os.SameFile still refuse a link.
const openNoFollow = 0

// checkPrivate accepts every file: the platform has no Unix mode or owner to
// compare (on Windows the file's ACL, inherited from the user's profile
// directory, is what keeps others out).
func checkPrivate(fs.FileInfo) error { return nil }

// syncDir does nothing: a directory cannot be synced on this platform.
func syncDir(string) error { return nil }
