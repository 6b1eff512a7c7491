// check-codec-go.go: checks codec-go.json against a Go toolchain's encoding/json
//
// Not part of the build (bbsync does not need Go). With any Go toolchain:
//
//	go run tests/data/check-codec-go.go tests/data/codec-go.json
//
// For every encode and decode entry it unmarshals the JSON into the Go type that
// corresponds to the entry's GVariant type, marshals the result again, and compares the
// bytes with the expected ones; floats entries are checked as float64. Tuples have no Go
// type and are skipped, as are entries with a note. It also lists the decode_errors
// inputs that Go accepts (documented differences of bbsync). Exit status 1 on a mismatch.
//
// Go before 1.22 writes \b and \f as \u0008 and \u000c; that difference is evened out, so
// older toolchains can check everything else.
//
// SPDX-License-Identifier: LGPL-2.1-or-later

//go:build ignore

package main

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"runtime"
	"strings"
)

// goType returns the Go type of the first complete GVariant type in s, and the rest of s;
// ok is false for types without a Go counterpart (tuples).
func goType(s string) (t reflect.Type, rest string, ok bool) {
	basic := map[byte]reflect.Type{
		'b': reflect.TypeOf(false), 'y': reflect.TypeOf(uint8(0)), 'n': reflect.TypeOf(int16(0)),
		'q': reflect.TypeOf(uint16(0)), 'i': reflect.TypeOf(int32(0)), 'u': reflect.TypeOf(uint32(0)),
		'x': reflect.TypeOf(int64(0)), 't': reflect.TypeOf(uint64(0)), 'd': reflect.TypeOf(float64(0)),
		's': reflect.TypeOf(""), 'o': reflect.TypeOf(""), 'g': reflect.TypeOf(""),
		'v': reflect.TypeOf((*interface{})(nil)).Elem(),
	}
	if t, found := basic[s[0]]; found {
		return t, s[1:], true
	}
	switch s[0] {
	case 'm':
		if t, rest, ok = goType(s[1:]); ok {
			return reflect.PtrTo(t), rest, true
		}
	case 'a':
		if s[1] == '{' {
			if t, rest, ok = goType(s[3:]); ok && s[2] == 's' {
				return reflect.MapOf(reflect.TypeOf(""), t), rest[1:], true
			}
			return nil, "", false
		}
		if t, rest, ok = goType(s[1:]); ok {
			return reflect.SliceOf(t), rest, true
		}
	}
	return nil, "", false
}

var errSkip = fmt.Errorf("no Go type")

func remarshal(typ string, in []byte) ([]byte, error) {
	t, rest, ok := goType(typ)
	if !ok || rest != "" {
		return nil, errSkip
	}
	p := reflect.New(t)
	if err := json.Unmarshal(in, p.Interface()); err != nil {
		return nil, err
	}
	out, err := json.Marshal(p.Elem().Interface())
	if err != nil {
		return nil, err
	}
	v := runtime.Version()
	if strings.HasPrefix(v, "go1.1") || strings.HasPrefix(v, "go1.20") || strings.HasPrefix(v, "go1.21") {
		out = bytes.ReplaceAll(out, []byte(`\u0008`), []byte(`\b`))
		out = bytes.ReplaceAll(out, []byte(`\u000c`), []byte(`\f`))
	}
	return out, nil
}

func payload(e map[string]string) []byte {
	if h, ok := e["json_hex"]; ok {
		b, err := hex.DecodeString(h)
		if err != nil {
			panic(err)
		}
		return b
	}
	return []byte(e["json"])
}

func main() {
	raw, err := os.ReadFile(os.Args[1])
	if err != nil {
		panic(err)
	}
	var data struct {
		Encode []map[string]string `json:"encode"`
		Decode []map[string]string `json:"decode"`
		Errors []map[string]string `json:"decode_errors"`
		Floats [][2]string         `json:"floats"`
	}
	if err := json.Unmarshal(raw, &data); err != nil {
		panic(err)
	}
	checked, skipped, bad := 0, 0, 0
	check := func(kind, typ string, in []byte, want string) {
		out, err := remarshal(typ, in)
		if err == errSkip {
			skipped++
			return
		}
		checked++
		if err != nil || string(out) != want {
			bad++
			fmt.Printf("%s mismatch: %s %q: Go gives %q (%v), expected %q\n", kind, typ, in, out, err, want)
		}
	}
	for _, e := range data.Encode {
		want := e["json"]
		if e["reencoded"] != "" {
			want = e["reencoded"]
		}
		check("encode", e["type"], payload(e), want)
	}
	for _, e := range data.Decode {
		if e["note"] != "" {
			skipped++
			continue
		}
		want := e["reencoded"]
		if want == "" {
			want = string(payload(e))
		}
		check("decode", e["type"], payload(e), want)
	}
	for _, f := range data.Floats {
		check("float "+f[0], "d", []byte(f[1]), f[1])
	}
	for _, e := range data.Errors {
		if _, err := remarshal(e["type"], payload(e)); err == nil {
			in := string(payload(e))
			if len(in) > 40 {
				in = in[:40] + "…"
			}
			fmt.Printf("accepted by Go, refused by bbsync: %s %q (%s)\n", e["type"], in, e["error"])
		}
	}
	fmt.Printf("%s: %d checked, %d skipped, %d mismatches\n", runtime.Version(), checked, skipped, bad)
	if bad > 0 {
		os.Exit(1)
	}
}
