package encode

import "errors"

var (
	// ErrUnknownCodec is returned by New for a codec this build lacks.
	ErrUnknownCodec = errors.New("encode: codec not available")
	// ErrInvalid is returned for an unusable configuration or picture.
	ErrInvalid = errors.New("encode: invalid argument")
	// ErrClosed is returned by Encode after Close.
	ErrClosed = errors.New("encode: encoder closed")
)
