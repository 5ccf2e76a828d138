package api

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// sharedDir is the design documents' directory relative to this package:
// /work/main/api -> /work/shared/api.
var sharedDir = filepath.Join("..", "..", "shared", "api")

func TestEmbeddedMatchFiles(t *testing.T) {
	for name, embedded := range map[string][]byte{OpenAPIFile: OpenAPI, GuideExtensionFile: GuideExtension} {
		if len(embedded) == 0 {
			t.Errorf("%s: embedded content is empty", name)
			continue
		}
		onDisk, err := os.ReadFile(name)
		if err != nil {
			t.Fatalf("read %s: %v", name, err)
		}
		if !bytes.Equal(onDisk, embedded) {
			t.Errorf("%s: embedded bytes differ from the file on disk", name)
		}
	}
}

func TestCopiesMatchShared(t *testing.T) {
	if _, err := os.Stat(sharedDir); errors.Is(err, fs.ErrNotExist) {
		t.Skipf("shared design directory %s is absent (normal in a standalone clone or CI); drift check skipped", sharedDir)
	}
	for _, name := range []string{OpenAPIFile, GuideExtensionFile} {
		want, err := os.ReadFile(filepath.Join(sharedDir, name))
		if err != nil {
			t.Errorf("read shared %s: %v", name, err)
			continue
		}
		got, err := os.ReadFile(name)
		if err != nil {
			t.Fatalf("read %s: %v", name, err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("api/%s has drifted from %s: copy it again (cp %s api/)", name, filepath.Join(sharedDir, name), filepath.Join(sharedDir, name))
		}
	}
}
