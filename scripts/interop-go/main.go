// Checks a running dutyproof gateway's log with the Go reference implementation of signed notes
// and tiled transparency logs (golang.org/x/mod/sumdb/note and sumdb/tlog), knowing only its
// URL and the verifier key it publishes: opens /tlog/checkpoint, reads tiles over HTTP, checks
// that they hash to the signed root, proves inclusion of entries read from entry bundles and
// consistency with an earlier size. Run by `npm run interop:go` (scripts/interop-go.ts).
package main

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

func get(url string) ([]byte, error) {
	res, err := http.Get(url)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, err
	}
	if res.StatusCode != 200 {
		return nil, fmt.Errorf("GET %s: %s", url, res.Status)
	}
	return body, nil
}

// C2SP tile paths: tile/<L>/<N>[.p/<W>] and tile/entries/<N>[.p/<W>] (no height element).
func tilePath(level string, n int64, w int) string {
	digits := strconv.FormatInt(n, 10)
	for len(digits)%3 != 0 {
		digits = "0" + digits
	}
	var groups []string
	for i := 0; i < len(digits); i += 3 {
		groups = append(groups, digits[i:i+3])
	}
	for i := 0; i < len(groups)-1; i++ {
		groups[i] = "x" + groups[i]
	}
	path := "tile/" + level + "/" + strings.Join(groups, "/")
	if w < 256 {
		path += ".p/" + strconv.Itoa(w)
	}
	return path
}

type tiles struct{ prefix string }

func (t tiles) Height() int { return 8 }

func (t tiles) ReadTiles(list []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(list))
	for i, tile := range list {
		body, err := get(t.prefix + "/" + tilePath(strconv.Itoa(tile.L), tile.N, tile.W))
		if err != nil {
			return nil, err
		}
		out[i] = body
	}
	return out, nil
}

func (t tiles) SaveTiles([]tlog.Tile, [][]byte) {}

func run(base, vkey string) error {
	verifier, err := note.NewVerifier(vkey)
	if err != nil {
		return fmt.Errorf("verifier key: %w", err)
	}
	msg, err := get(base + "/tlog/checkpoint")
	if err != nil {
		return err
	}
	opened, err := note.Open(msg, note.VerifierList(verifier))
	if err != nil {
		return fmt.Errorf("opening the checkpoint: %w", err)
	}
	lines := strings.Split(opened.Text, "\n")
	if len(lines) != 4 || lines[0] != verifier.Name() || lines[3] != "" {
		return errors.New("the checkpoint is not origin, size and root")
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil || size < 2 {
		return errors.New("the checkpoint's size is not a number of at least 2")
	}
	rootBytes, err := base64.StdEncoding.DecodeString(lines[2])
	if err != nil || len(rootBytes) != 32 {
		return errors.New("the checkpoint's root is not 32 bytes of base64")
	}
	var root tlog.Hash
	copy(root[:], rootBytes)
	tree := tlog.Tree{N: size, Hash: root}
	// TileHashReader checks every tile it reads against the signed tree hash.
	reader := tlog.TileHashReader(tree, tiles{prefix: base + "/tlog"})
	computed, err := tlog.TreeHash(size, reader)
	if err != nil {
		return fmt.Errorf("tree hash from tiles: %w", err)
	}
	if computed != root {
		return errors.New("the tiles do not hash to the signed root")
	}
	width := int(size)
	if width > 256 {
		width = 256
	}
	bundle, err := get(base + "/tlog/" + tilePath("entries", 0, width))
	if err != nil {
		return err
	}
	for i := int64(0); i < int64(width); i++ {
		if len(bundle) < 2 {
			return errors.New("the entry bundle is short")
		}
		length := int(bundle[0])<<8 | int(bundle[1])
		entry := bundle[2 : 2+length]
		bundle = bundle[2+length:]
		proof, err := tlog.ProveRecord(size, i, reader)
		if err != nil {
			return fmt.Errorf("inclusion proof of entry %d: %w", i, err)
		}
		if err := tlog.CheckRecord(proof, size, root, i, tlog.RecordHash(entry)); err != nil {
			return fmt.Errorf("entry %d: %w", i, err)
		}
		if i == 0 && !bytes.HasPrefix(entry, []byte("DPL1")) && !bytes.HasPrefix(entry, []byte("DPD1")) {
			return errors.New("entry 0 is neither a DPL1 record nor a DPD1 demand")
		}
	}
	if len(bundle) != 0 {
		return errors.New("the entry bundle has trailing bytes")
	}
	older := size / 2
	olderRoot, err := tlog.TreeHash(older, reader)
	if err != nil {
		return err
	}
	consistency, err := tlog.ProveTree(size, older, reader)
	if err != nil {
		return fmt.Errorf("consistency proof: %w", err)
	}
	if err := tlog.CheckTree(consistency, size, root, older, olderRoot); err != nil {
		return fmt.Errorf("consistency %d → %d: %w", older, size, err)
	}
	fmt.Printf("ok: %s size %d opened with the Go note package; tiles hash to its root; %d entries proved included; consistent with size %d\n", verifier.Name(), size, width, older)
	return nil
}

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: interop-go <gateway URL> <verifier key>")
		os.Exit(2)
	}
	if err := run(strings.TrimRight(os.Args[1], "/"), os.Args[2]); err != nil {
		fmt.Fprintln(os.Stderr, "interop-go: "+err.Error())
		os.Exit(1)
	}
}
