package metrics

import (
	"bytes"
	"compress/zlib"
	"encoding/base64"
	"encoding/binary"
	"math"
	"sync"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// encodeV2 returns the standard HDR V2 compressed encoding (base64) of the
// buckets each yields, in ascending index: the same bytes as
// hdrhistogram-go's Encode for the same histogram (TestEncodeMatchesHDR
// checks it), but with a zlib writer reused from a pool. The library makes
// a new writer for every histogram, and a result holds hundreds of
// thousands: its hour of a 10-step journey took 28 s to write, most of it
// clearing new writers' buffers.
func encodeV2(each func(fn func(idx int, count int64) bool)) []byte {
	// The counts from bucket 0 to the last one used, zig-zag LEB128, a
	// run of two or more empty buckets as one negative count.
	inner := make([]byte, 40, 256)
	next := 0
	each(func(idx int, c int64) bool {
		switch gap := idx - next; {
		case gap == 1:
			inner = appendZigZag(inner, 0)
		case gap > 1:
			inner = appendZigZag(inner, -int64(gap))
		}
		inner = appendZigZag(inner, c)
		next = idx + 1
		return true
	})
	be := binary.BigEndian
	be.PutUint32(inner[0:], uint32(hdr.V2EncodingCookieBase|0x10))
	be.PutUint32(inner[4:], uint32(len(inner)-40)) // the payload's length
	be.PutUint32(inner[8:], 0)                     // normalizing index offset
	be.PutUint32(inner[12:], SignificantDigits)
	be.PutUint64(inner[16:], uint64(MinValue))
	be.PutUint64(inner[24:], uint64(MaxValue))
	be.PutUint64(inner[32:], math.Float64bits(1)) // integer-to-double conversion ratio

	var z bytes.Buffer
	z.Write(make([]byte, 8)) // the outer cookie and length, set below
	w := zlibWriters.Get().(*zlib.Writer)
	w.Reset(&z)
	_, _ = w.Write(inner) // to a bytes.Buffer: cannot fail
	_ = w.Close()
	zlibWriters.Put(w)
	out := z.Bytes()
	be.PutUint32(out[0:], uint32(hdr.V2CompressedEncodingCookieBase|0x10))
	be.PutUint32(out[4:], uint32(len(out)-8))
	return []byte(base64.StdEncoding.EncodeToString(out))
}

var zlibWriters = sync.Pool{New: func() any {
	w, _ := zlib.NewWriterLevel(nil, zlib.BestCompression) // a valid level: no error
	return w
}}

// appendZigZag appends v as HDR's zig-zag LEB128: seven bits a byte, low
// first, the ninth byte whole.
func appendZigZag(b []byte, v int64) []byte {
	u := uint64(v<<1) ^ uint64(v>>63)
	for i := 0; i < 8; i++ {
		if u>>7 == 0 {
			return append(b, byte(u))
		}
		b = append(b, byte(u&0x7f|0x80))
		u >>= 7
	}
	return append(b, byte(u))
}
