package debitura_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReadmeSnippetsComeFromExamples keeps README.md's Go snippets from drifting: every ```go
// block must appear, line for line (whitespace-trimmed, blank lines ignored), as a contiguous run
// of lines in one example*_test.go file of the root package or of webhook/, where it is compiled
// and run.
func TestReadmeSnippetsComeFromExamples(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := goBlocks(string(readme))
	if len(blocks) == 0 {
		t.Fatal("README.md has no ```go block; the extraction is broken")
	}

	var files []string
	for _, pattern := range []string{"example*_test.go", "webhook/example*_test.go"} {
		matched, err := filepath.Glob(pattern)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, matched...)
	}
	sources := map[string][]string{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		sources[f] = codeLines(string(b))
	}

	for _, blk := range blocks {
		want := codeLines(blk.text)
		if len(want) == 0 {
			t.Errorf("README.md:%d: empty ```go block", blk.line)
			continue
		}
		found, best, bestFile := false, -1, ""
		for _, f := range files {
			n := longestPrefixRun(sources[f], want)
			if n == len(want) {
				found = true
				break
			}
			if n > best {
				best, bestFile = n, f
			}
		}
		if !found {
			t.Errorf("README.md:%d: the ```go block starting %q is not a contiguous part of any example*_test.go file; copy it from the Example it documents (or change that Example). Closest: %s matches its first %d lines, then differs at %q",
				blk.line, want[0], bestFile, best, want[best])
		}
	}
}

type readmeBlock struct {
	line int // 1-based line of the opening fence
	text string
}

// goBlocks returns the contents of the ```go fenced blocks of a Markdown document.
func goBlocks(md string) []readmeBlock {
	var (
		out   []readmeBlock
		cur   *readmeBlock
		lines []string
		fence bool // inside a fence of another language
	)
	for i, l := range strings.Split(md, "\n") {
		tl := strings.TrimSpace(l)
		switch {
		case cur != nil && tl == "```":
			cur.text = strings.Join(lines, "\n")
			out = append(out, *cur)
			cur, lines = nil, nil
		case cur != nil:
			lines = append(lines, l)
		case fence && tl == "```":
			fence = false
		case fence:
		case tl == "```go":
			cur = &readmeBlock{line: i + 1}
		case strings.HasPrefix(tl, "```"):
			fence = true
		}
	}
	return out
}

// codeLines returns the lines of s, whitespace-trimmed, without blank lines.
func codeLines(s string) []string {
	var out []string
	for l := range strings.Lines(s) {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// longestPrefixRun returns the length of the longest prefix of want that occurs as a contiguous
// run in have; len(want) when all of want does.
func longestPrefixRun(have, want []string) int {
	best := 0
	for i := range have {
		n := 0
		for n < len(want) && i+n < len(have) && have[i+n] == want[n] {
			n++
		}
		if n > best {
			best = n
		}
		if best == len(want) {
			break
		}
	}
	return best
}
