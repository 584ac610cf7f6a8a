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
	h := make(Hashes, len(sectionFields))
	err := s.each(func(name Section, v reflect.Value) error {
		sum, err := hashValue(v.Interface())
		if err != nil {
			return fmt.Errorf("hash %s: %w", name, err)
		}
		h[name] = sum
		return nil
	})
	return h, err
}

func hashValue(v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
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
	if err := d.verify(); err != nil {
		return nil, fmt.Errorf("inventory: apply delta: %w", err)
	}
	out := &Report{Header: d.Header, Sections: base.Sections, Hashes: make(Hashes, len(base.Hashes))}
	out.Sections.copyFrom(&d.Sections)
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

// verify checks that the delta's sections and hashes match one to one.
func (d *Delta) verify() error {
	got, err := d.Sections.Hashes()
	if err != nil {
		return err
	}
	return matchHashes(got, d.Hashes)
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
