package metrics

import (
	"bytes"
	"compress/zlib"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"sync"
	"time"
)

// The per-interval points of a series are stored in one block (format
// version 3), laid out as the package documentation says.

// pointField flags say which fields a point's record holds.
const (
	pfOutcomes = 1 << iota
	pfLatency
	pfFailed
	pfStatus
	pfSent
	pfReceived
	pfVUs
)

// encodePoints returns the block of pts (see the package documentation).
func encodePoints(pts []Point) string {
	b := make([]byte, 0, 16+24*len(pts))
	b = binary.AppendUvarint(b, uint64(len(pts)))
	for i := range pts {
		s := &pts[i].Stats
		var flags byte
		nout := 0
		for _, c := range s.Outcomes {
			if c != 0 {
				nout++
			}
		}
		set := func(f byte, on bool) {
			if on {
				flags |= f
			}
		}
		set(pfOutcomes, nout > 0)
		set(pfLatency, s.Latency.Count() > 0)
		set(pfFailed, s.Failed.Count() > 0)
		set(pfStatus, len(s.Status) > 0)
		set(pfSent, s.BytesSent != 0)
		set(pfReceived, s.BytesReceived != 0)
		set(pfVUs, s.VUs != 0)
		b = append(b, flags)
		if nout > 0 {
			b = binary.AppendUvarint(b, uint64(nout))
			for o, c := range s.Outcomes {
				if c != 0 {
					b = append(b, byte(o))
					b = binary.AppendUvarint(b, uint64(c))
				}
			}
		}
		for _, d := range []*Distribution{&s.Latency, &s.Failed} {
			if d.Count() == 0 {
				continue
			}
			for _, v := range []int64{int64(d.Min), int64(d.Max), int64(d.Sum), d.Clamped} {
				b = binary.AppendUvarint(b, uint64(v))
			}
			fz := d.Hist.Frozen().fz
			b = binary.AppendUvarint(b, uint64(len(fz.data)))
			b = append(b, fz.data...)
		}
		if len(s.Status) > 0 {
			b = binary.AppendUvarint(b, uint64(len(s.Status)))
			for _, c := range s.Status {
				b = binary.AppendUvarint(b, uint64(c.Code))
				b = binary.AppendUvarint(b, uint64(c.Count))
			}
		}
		for _, v := range []int64{s.BytesSent, s.BytesReceived, s.VUs} {
			if v != 0 {
				b = binary.AppendUvarint(b, uint64(v))
			}
		}
	}
	var z bytes.Buffer
	w := blockWriters.Get().(*zlib.Writer)
	w.Reset(&z)
	_, _ = w.Write(b) // to a bytes.Buffer: cannot fail
	_ = w.Close()
	blockWriters.Put(w)
	return base64.StdEncoding.EncodeToString(z.Bytes())
}

var blockWriters = sync.Pool{New: func() any { return zlib.NewWriter(nil) }}

var blockReaders sync.Pool // of io.ReadCloser that are zlib.Resetter

// A snapshot's blocks may hold at most pointsFree points and inflate to
// at most rawFree bytes, plus pointsPerByte points and rawPerByte bytes for
// each byte of their compressed form, all blocks together: a point may
// take one byte and a run of empty ones compresses a thousandfold, so a
// file of a few kilobytes could otherwise ask for gigabytes of points.
// Real blocks hold a point in a few compressed bytes; a week of a series
// of nothing at 1 s intervals is refused (its blocks are too small for
// the points they claim).
const (
	pointsFree    = 1 << 20
	pointsPerByte = 16
	rawFree       = 1 << 20
	rawPerByte    = 64
)

// budget is what a snapshot's blocks may still decode to.
type budget struct{ points, raw int }

// budgetFor returns the budget of blocks of the given compressed size.
func budgetFor(compressed int) *budget {
	return &budget{points: pointsFree + pointsPerByte*compressed, raw: rawFree + rawPerByte*compressed}
}

// decodePoints reads a block written by encodePoints, the i-th point
// starting at start + i·interval, within b (nil: the budget of this block
// alone). Every histogram in it is frozen. It checks the encoding; what
// the values must satisfy together is for [Snapshot.validate].
func decodePoints(s string, start time.Time, interval time.Duration, b *budget) ([]Point, error) {
	zb, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("points must be base64: %w", err)
	}
	if b == nil {
		b = budgetFor(len(zb))
	}
	var zr io.ReadCloser
	if r, ok := blockReaders.Get().(io.ReadCloser); ok {
		if err := r.(zlib.Resetter).Reset(bytes.NewReader(zb), nil); err != nil {
			return nil, fmt.Errorf("points must be a zlib stream: %w", err)
		}
		zr = r
	} else if zr, err = zlib.NewReader(bytes.NewReader(zb)); err != nil {
		return nil, fmt.Errorf("points must be a zlib stream: %w", err)
	}
	raw, err := io.ReadAll(io.LimitReader(zr, int64(b.raw)+1))
	if err == nil {
		err = zr.Close()
	}
	blockReaders.Put(zr)
	switch {
	case err != nil:
		return nil, fmt.Errorf("points: %w", err)
	case len(raw) > b.raw:
		return nil, fmt.Errorf("points inflate to more than the %d bytes left to the snapshot's blocks (%d, and %d a byte of their compressed size)", b.raw, rawFree, rawPerByte)
	}
	b.raw -= len(raw)
	r := &blockReader{b: raw}
	n := r.uvarint()
	if r.err != nil {
		return nil, fmt.Errorf("points: %w", r.err)
	}
	if n > MaxIntervals || n > uint64(len(raw)) {
		return nil, fmt.Errorf("points: %d points, more than %d or than the block holds", n, MaxIntervals)
	}
	if n > uint64(b.points) {
		return nil, fmt.Errorf("points: %d points, more than the %d left to the snapshot's blocks (%d, and %d a byte of their compressed size)", n, b.points, pointsFree, pointsPerByte)
	}
	b.points -= int(n)
	pts := make([]Point, n)
	sl := newSlabs(raw)
	for i := range pts {
		p := &pts[i]
		p.Start = start.Add(time.Duration(i) * interval)
		flags := r.byte()
		if flags >= 1<<7 {
			return nil, fmt.Errorf("points: point %d: unknown fields %#x", i, flags)
		}
		if flags&pfOutcomes != 0 {
			for range r.count(int(NumOutcomes)) {
				o := Outcome(r.byte())
				if o >= NumOutcomes {
					return nil, fmt.Errorf("points: point %d: outcome %d, want below %d", i, o, NumOutcomes)
				}
				p.Outcomes[o] = r.int()
			}
		}
		for _, fd := range [...]struct {
			f    byte
			d    *Distribution
			name string
		}{{pfLatency, &p.Latency, "latency"}, {pfFailed, &p.Failed, "failed"}} {
			d := fd.d
			if flags&fd.f == 0 {
				continue
			}
			d.Min, d.Max, d.Sum = time.Duration(r.int()), time.Duration(r.int()), time.Duration(r.int())
			d.Clamped = r.int()
			buckets := r.bytes(r.count(len(r.b)))
			if r.err != nil {
				return nil, fmt.Errorf("points: point %d: %s: %w", i, fd.name, r.err)
			}
			fz, err := sl.frozenOf(buckets)
			if err != nil {
				return nil, fmt.Errorf("points: point %d: %s: %w", i, fd.name, err)
			}
			d.Hist.fz = fz
		}
		if flags&pfStatus != 0 {
			k := r.count(MaxStatus - MinStatus + 1)
			p.Status = make(StatusCounts, 0, min(k, 16)) // a count the bytes have not paid for yet
			for range k {
				if r.err != nil {
					break
				}
				p.Status = append(p.Status, StatusCount{Code: int(r.count(MaxStatus)), Count: r.int()})
			}
			for j, c := range p.Status {
				if c.Code < MinStatus || c.Count <= 0 || j > 0 && c.Code <= p.Status[j-1].Code {
					return nil, fmt.Errorf("points: point %d: status codes must be ascending in %d..%d with counts > 0", i, MinStatus, MaxStatus)
				}
			}
		}
		for _, fv := range [...]struct {
			f byte
			v *int64
		}{{pfSent, &p.BytesSent}, {pfReceived, &p.BytesReceived}, {pfVUs, &p.VUs}} {
			if flags&fv.f != 0 {
				*fv.v = r.int()
			}
		}
		if r.err != nil {
			return nil, fmt.Errorf("points: point %d: %w", i, r.err)
		}
	}
	if len(r.b) > 0 {
		return nil, fmt.Errorf("points: %d bytes after the last point", len(r.b))
	}
	return pts, nil
}

// slabs hold the frozen histograms of one block and their buckets, so
// that decoding a block allocates a few slices, not a few per histogram.
type slabs struct {
	data   []byte
	fz     []frozen
	blocks []fblock
}

// newSlabs returns slabs for a block that inflated to raw: its buckets
// take at most that many bytes. Histograms and their indexes grow as they
// come (a block of empty points holds none).
func newSlabs(raw []byte) *slabs { return &slabs{data: make([]byte, 0, len(raw))} }

// frozenOf checks buckets as a block holds them and returns them as a
// frozen histogram, which holds the same pairs.
func (s *slabs) frozenOf(data []byte) (*frozen, error) {
	r := &blockReader{b: data}
	bstart := len(s.blocks)
	var n int64
	idx, k := 0, 0
	for len(r.b) > 0 && r.err == nil {
		if k%frozenBlock == 0 {
			s.blocks = append(s.blocks, fblock{off: uint32(len(data) - len(r.b)), idx: uint32(idx), cum: n})
		}
		var gap uint64
		var c int64
		if h := r.byte(); h < 0x80 {
			gap, c = uint64(h>>4), int64(h&15)
		} else {
			gap, c = r.uvarint(), r.int()
		}
		if r.err != nil {
			break
		}
		if gap >= numBuckets || idx+int(gap) >= numBuckets || gap == 0 && k > 0 || c <= 0 || c > math.MaxInt64-n {
			return nil, errors.New("histogram buckets out of order or counts out of range")
		}
		idx += int(gap)
		n += c
		k++
	}
	if r.err != nil || k == 0 {
		return nil, errors.New("histogram buckets truncated or empty")
	}
	dstart := len(s.data)
	s.data = append(s.data, data...)
	s.fz = append(s.fz, frozen{n: n, data: s.data[dstart:len(s.data):len(s.data)], blocks: s.blocks[bstart:len(s.blocks):len(s.blocks)]})
	return &s.fz[len(s.fz)-1], nil
}

// blockReader reads a block's fields; the first error sticks and reads
// after it return zeros.
type blockReader struct {
	b   []byte
	err error
}

var errTruncated = errors.New("truncated")

func (r *blockReader) byte() byte {
	if len(r.b) == 0 {
		r.err = firstErr(r.err, errTruncated)
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func (r *blockReader) uvarint() uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.err = firstErr(r.err, errTruncated)
		r.b = nil
		return 0
	}
	r.b = r.b[n:]
	return v
}

// int reads a value that must fit an int64.
func (r *blockReader) int() int64 {
	v := r.uvarint()
	if v > math.MaxInt64 {
		r.err = firstErr(r.err, errors.New("a value beyond the largest int64"))
		return 0
	}
	return int64(v)
}

// count reads a number of items, at most limit.
func (r *blockReader) count(limit int) int {
	v := r.uvarint()
	if v > uint64(limit) {
		r.err = firstErr(r.err, fmt.Errorf("a count of %d, more than %d", v, limit))
		return 0
	}
	return int(v)
}

func (r *blockReader) bytes(n int) []byte {
	if n > len(r.b) {
		r.err = firstErr(r.err, errTruncated)
		r.b = nil
		return nil
	}
	b := r.b[:n]
	r.b = r.b[n:]
	return b
}

// firstErr returns the first non-nil error.
func firstErr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}
