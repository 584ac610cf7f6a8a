package inventory

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
)

// Hashes maps each section to the hex SHA-256 of its canonical JSON.
type Hashes map[Section]string

// Hashes returns the hash of every present section.
func (s *Sections) Hashes() (Hashes, error) {
	h, _, err := s.encode()
	return h, err
}

// encode returns the hash and the canonical JSON of every present section.
func (s *Sections) encode() (Hashes, map[Section][]byte, error) {
	h := make(Hashes, len(sectionFields))
	enc := make(map[Section][]byte, len(sectionFields))
	err := s.each(func(name Section, v reflect.Value) error {
		b, err := json.Marshal(v.Interface())
		if err != nil {
			return fmt.Errorf("hash %s: %w", name, err)
		}
		h[name], enc[name] = hashBytes(b), b
		return nil
	})
	return h, enc, err
}

func hashBytes(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// StateHash condenses a set of section hashes into one: the hex SHA-256 of
// "name=hash\n" lines sorted by name. Agent and console compare it to agree
// on the state a delta starts from.
func StateHash(h Hashes) string {
	names := make([]string, 0, len(h))
	for name := range h {
		names = append(names, string(name))
	}
	sort.Strings(names)
	d := sha256.New()
	for _, name := range names {
		fmt.Fprintf(d, "%s=%s\n", name, h[Section(name)])
	}
	return hex.EncodeToString(d.Sum(nil))
}

// Delta carries the sections of a sealed report whose hash differs from the
// state the console last acknowledged. A delta where nothing changed has no
// sections and is a few hundred bytes.
type Delta struct {
	Header
	Base   string `json:"base"`             // StateHash the delta applies to
	State  string `json:"state"`            // StateHash after applying it
	Hashes Hashes `json:"hashes,omitempty"` // hash of each included section
	Sections

	encoded map[Section][]byte // canonical JSON of each section, once verified
}

// Diff returns the delta from the acknowledged section hashes prev to the
// sealed report cur. With a nil prev every section is included.
func Diff(prev Hashes, cur *Report) *Delta {
	changed := make(map[Section]bool)
	hashes := make(Hashes)
	for name, h := range cur.Hashes {
		if prev[name] != h {
			changed[name] = true
			hashes[name] = h
		}
	}
	return &Delta{
		Header:   cur.Header,
		Base:     StateHash(prev),
		State:    StateHash(cur.Hashes),
		Hashes:   hashes,
		Sections: cur.Sections.only(changed),
	}
}

// Apply returns the report that results from applying d to base, the last
// full state the console holds. It fails with ErrBaseMismatch when d was
// computed against another state (the console then asks for a full report)
// and with ErrHashMismatch when the result is not the state d claims.
func (d *Delta) Apply(base *Report) (*Report, error) {
	if StateHash(base.Hashes) != d.Base {
		return nil, fmt.Errorf("inventory: apply delta: %w", ErrBaseMismatch)
	}
	if d.encoded == nil { // not from DecodeDelta, which verified it
		if err := d.verify(); err != nil {
			return nil, fmt.Errorf("inventory: apply delta: %w", err)
		}
	}
	out := &Report{Header: d.Header, Sections: base.Sections, Hashes: make(Hashes, len(base.Hashes))}
	out.Sections.copyFrom(&d.Sections)
	if base.encoded != nil {
		out.encoded = make(map[Section][]byte, len(base.encoded))
		for name, b := range base.encoded {
			out.encoded[name] = b
		}
		for name, b := range d.encoded {
			out.encoded[name] = b
		}
	}
	for name, h := range base.Hashes {
		out.Hashes[name] = h
	}
	for name, h := range d.Hashes {
		out.Hashes[name] = h
	}
	if StateHash(out.Hashes) != d.State {
		return nil, fmt.Errorf("inventory: apply delta: resulting state: %w", ErrHashMismatch)
	}
	return out, nil
}

// verify checks that the delta's sections and hashes match one to one and
// keeps the sections' encodings for Apply.
func (d *Delta) verify() error {
	got, enc, err := d.Sections.encode()
	if err != nil {
		return err
	}
	if err := matchHashes(got, d.Hashes); err != nil {
		return err
	}
	d.encoded = enc
	return nil
}

// matchHashes checks that computed and stated hashes cover the same sections
// with the same values.
func matchHashes(computed, stated Hashes) error {
	if len(computed) != len(stated) {
		return &FieldError{Field: "hashes", Err: ErrHashMismatch, Msg: "sections and hashes differ"}
	}
	for name, h := range computed {
		if stated[name] != h {
			return &FieldError{Field: "hashes." + string(name), Err: ErrHashMismatch, Msg: "does not match the section"}
		}
	}
	return nil
}

// SectionJSON returns the canonical JSON of the named section, the bytes its
// hash is computed over, or nil when the section is absent. A report from
// Decode or Apply returns the encodings made while checking its hashes.
func (r *Report) SectionJSON(name Section) ([]byte, error) {
	if b, ok := r.encoded[name]; ok {
		return b, nil
	}
	sec := r.Sections.Get(name)
	if sec == nil {
		return nil, nil
	}
	return json.Marshal(sec)
}

// Encode returns the report's JSON, the same bytes as json.Marshal(r),
// reusing the section encodings SectionJSON returns.
func (r *Report) Encode() ([]byte, error) {
	if r.encoded == nil {
		return json.Marshal(r)
	}
	head, err := json.Marshal(&r.Header)
	if err != nil {
		return nil, err
	}
	hashes, err := json.Marshal(r.Hashes)
	if err != nil {
		return nil, err
	}
	n := len(head) + len(hashes) + 16
	for _, b := range r.encoded {
		n += len(b) + 24
	}
	out := make([]byte, 0, n)
	out = append(out, head[:len(head)-1]...) // without its closing brace
	for _, f := range sectionFields {
		b, err := r.SectionJSON(f.name)
		if err != nil {
			return nil, err
		}
		if b == nil {
			continue
		}
		out = append(out, `,"`...)
		out = append(out, f.name...)
		out = append(out, `":`...)
		out = append(out, b...)
	}
	out = append(out, `,"hashes":`...)
	out = append(out, hashes...)
	return append(out, '}'), nil
}
